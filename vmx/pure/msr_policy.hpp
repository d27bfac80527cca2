// What a guest RDMSR or WRMSR of each MSR does. Every MSR access exits (all-ones MSR bitmap); the
// handlers (handlers_msr.cpp) look the MSR up here and carry the rule out. Anything without a rule
// injects #GP, so no guest value reaches a host MSR. Two sets: toy guests get EFER alone (their
// tests, hostile-msr among them, rely on every other MSR faulting); a Linux guest (linux64) also
// gets what its early boot touches. Pure: unit-tested on the host.
#pragma once

#include <cstdint>

#include "sdm/msrs.hpp"

namespace es {

enum class msr_rule : std::uint8_t {
    gp,          // not emulated: #GP on read and write
    efer,        // the VMCS guest EFER, with the bits guest_writable_efer allows
    fs_base,     // the VMCS guest FS base (canonical values only)
    gs_base,     // the VMCS guest GS base (canonical values only)
    misc_enable, // reads a fixed value; a write of that same value is accepted, others #GP
    ucode_rev,   // IA32_BIOS_SIGN_ID: reads 0 (no microcode update loaded), writes dropped
};

enum class msr_set : std::uint8_t { toy, linux_guest };

// EFER bits a guest may write: LME (long mode) and NXE (no-execute pages); a Linux guest also SCE
// (SYSCALL), which the kernel sets in its first instructions (head_64.S). LMA is the processor's.
constexpr std::uint64_t guest_writable_efer(msr_set set) {
    const std::uint64_t base = sdm::efer::lme | sdm::efer::nxe;
    return set == msr_set::linux_guest ? base | sdm::efer::sce : base;
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
    default:
        return msr_rule::gp;
    }
}

// A base-address MSR write must be canonical (48-bit linear addresses: bits 63:47 equal), else
// #GP ("WRMSR"); VM entry would also refuse such a guest base.
constexpr bool is_canonical(std::uint64_t address) {
    const auto top = static_cast<std::int64_t>(address) >> 47;
    return top == 0 || top == -1;
}

} // namespace es
