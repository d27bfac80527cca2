// What a guest RDMSR or WRMSR of each MSR does. Every MSR access exits (all-ones MSR bitmap); the
// handlers (handlers_msr.cpp) look the MSR up here and carry the rule out. Anything without a rule
// injects #GP, so no guest value reaches a host MSR. Two sets: toy guests get EFER alone (their
// tests, hostile-msr among them, rely on every other MSR faulting); a Linux guest (linux64) also
// gets what its early boot touches. Pure: unit-tested on the host.
#pragma once

#include <cstdint>

#include "exitscope/boundary.h"
#include "sdm/canonical.hpp"
#include "sdm/msrs.hpp"

namespace es {

enum class msr_rule : std::uint8_t {
    gp,             // not emulated: #GP on read and write
    efer,           // the VMCS guest EFER, with the bits guest_writable_efer allows
    fs_base,        // the VMCS guest FS base (canonical values only)
    gs_base,        // the VMCS guest GS base (canonical values only)
    misc_enable,    // reads a fixed value; a write of that same value is accepted, others #GP
    ucode_rev,      // IA32_BIOS_SIGN_ID: reads 0 (no microcode update loaded), writes dropped
    sysenter,       // IA32_SYSENTER_CS/ESP/EIP: the VMCS guest fields (addresses canonical)
    kernel_gs_base, // live in the hardware during the guest's sections (SWAPGS does not exit)
    syscall,        // STAR, LSTAR, CSTAR, SFMASK: live in the hardware during its sections
    pat,            // IA32_PAT: kept per VM (EPT entries ignore the guest's PAT: ept.hpp)
};

// The MSRs a guest has: toy guests EFER and the segment bases alone; a VM with the PC board (a
// Linux guest) what a Linux kernel needs.
enum class msr_set : std::uint8_t { toy, board };

// EFER bits a guest may write: LME (long mode) and NXE (no-execute pages); a Linux guest also SCE
// (SYSCALL), which the kernel sets in its first instructions (head_64.S). LMA is the processor's.
constexpr std::uint64_t guest_writable_efer(msr_set set) {
    const std::uint64_t base = sdm::efer::lme | sdm::efer::nxe;
    return set == msr_set::board ? base | sdm::efer::sce : base;
}

// IA32_MISC_ENABLE as the guest reads it. Linux's verify_cpu reads it before it has an IDT, so
// #GP there would be a triple fault.
inline constexpr std::uint64_t guest_misc_enable = sdm::misc_enable::fast_strings |
                                                   sdm::misc_enable::bts_unavailable |
                                                   sdm::misc_enable::pebs_unavailable;

constexpr msr_rule rule_for_msr(std::uint32_t number, msr_set set) {
    if (static_cast<sdm::msr>(number) == sdm::msr::efer)
        return msr_rule::efer;
    if (set == msr_set::toy)
        return msr_rule::gp;
    switch (static_cast<sdm::msr>(number)) {
    case sdm::msr::fs_base:
        return msr_rule::fs_base;
    case sdm::msr::gs_base:
        return msr_rule::gs_base;
    case sdm::msr::misc_enable:
        return msr_rule::misc_enable;
    // Linux asks for the microcode revision the architectural way, write 0, CPUID(1), read
    // ("Microcode Update Facilities"), with unchecked accesses in early_init_intel.
    case sdm::msr::bios_sign_id:
        return msr_rule::ucode_rev;
    case sdm::msr::sysenter_cs:
    case sdm::msr::sysenter_esp:
    case sdm::msr::sysenter_eip:
        return msr_rule::sysenter;
    case sdm::msr::kernel_gs_base:
        return msr_rule::kernel_gs_base;
    case sdm::msr::star:
    case sdm::msr::lstar:
    case sdm::msr::cstar:
    case sdm::msr::sfmask:
        return msr_rule::syscall;
    case sdm::msr::pat:
        return msr_rule::pat;
    default:
        return msr_rule::gp;
    }
}

// A base-address MSR write must be canonical (sdm/canonical.hpp), else #GP ("WRMSR"); VM entry
// would also refuse such a guest base.

// The SYSCALL MSRs in the order es_host_switch keeps them (include/exitscope/boundary.h).
constexpr int syscall_msr_index(std::uint32_t number) {
    return static_cast<int>(number - sdm::to_number(sdm::msr::star));
}
// The order of es_host_switch's arrays (boundary.h), which module/shim.c asserts too.
static_assert(sdm::to_number(sdm::msr::star) == ES_SYSCALL_MSR_FIRST &&
              syscall_msr_index(sdm::to_number(sdm::msr::lstar)) == 1 &&
              syscall_msr_index(sdm::to_number(sdm::msr::cstar)) == 2 &&
              syscall_msr_index(sdm::to_number(sdm::msr::sfmask)) == ES_SYSCALL_MSR_COUNT - 1);

// A write to a SYSCALL MSR that WRMSR itself would refuse: LSTAR and CSTAR hold addresses
// (canonical), SFMASK's upper half is reserved ("IA32_FMASK").
constexpr bool syscall_msr_write_faults(std::uint32_t number, std::uint64_t value) {
    switch (static_cast<sdm::msr>(number)) {
    case sdm::msr::lstar:
    case sdm::msr::cstar:
        return !is_canonical(value);
    case sdm::msr::sfmask:
        return (value >> 32) != 0;
    default:
        return false;
    }
}

// IA32_PAT after reset ("PAT Initialization"), and the check a write must pass: each of the
// eight entries one of UC, WC, WT, WP, WB, UC- (2 and 3 are reserved).
inline constexpr std::uint64_t pat_reset_value = 0x0007040600070406ull;
constexpr bool is_valid_pat(std::uint64_t value) {
    for (int i = 0; i < 8; ++i) {
        const auto type = (value >> (8 * i)) & 0xff;
        if (type > 7 || type == 2 || type == 3)
            return false;
    }
    return true;
}

} // namespace es
