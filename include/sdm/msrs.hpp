// Model-specific registers Exitscope reads or switches.
//
// Source: Intel SDM, Volume 4 "Model-Specific Registers", and Volume 3 appendix "VMX Capability
// Reporting Facility" (order number 325462-080US, June 2023).
#pragma once

#include <cstdint>

namespace sdm {

enum class msr : std::uint32_t {
    feature_control = 0x3a,
    bios_sign_id = 0x8b, // microcode update signature (revision in the high half)
    sysenter_cs = 0x174,
    misc_enable = 0x1a0,
    sysenter_esp = 0x175,
    sysenter_eip = 0x176,
    pat = 0x277,
    vmx_basic = 0x480,
    vmx_pinbased_ctls = 0x481,
    vmx_procbased_ctls = 0x482,
    vmx_exit_ctls = 0x483,
    vmx_entry_ctls = 0x484,
    vmx_misc = 0x485,
    vmx_cr0_fixed0 = 0x486,
    vmx_cr0_fixed1 = 0x487,
    vmx_cr4_fixed0 = 0x488,
    vmx_cr4_fixed1 = 0x489,
    vmx_vmcs_enum = 0x48a,
    vmx_procbased_ctls2 = 0x48b,
    vmx_ept_vpid_cap = 0x48c,
    vmx_true_pinbased_ctls = 0x48d,
    vmx_true_procbased_ctls = 0x48e,
    vmx_true_exit_ctls = 0x48f,
    vmx_true_entry_ctls = 0x490,
    vmx_vmfunc = 0x491,
    efer = 0xc0000080,
    fs_base = 0xc0000100,
    gs_base = 0xc0000101,
    kernel_gs_base = 0xc0000102,
    star = 0xc0000081,   // SYSCALL segments
    lstar = 0xc0000082,  // SYSCALL target, 64-bit callers
    cstar = 0xc0000083,  // SYSCALL target, compatibility-mode callers
    sfmask = 0xc0000084, // RFLAGS bits SYSCALL clears
};

constexpr std::uint32_t to_number(msr m) {
    return static_cast<std::uint32_t>(m);
}

// IA32_FEATURE_CONTROL bits (Volume 4, "Architectural MSRs").
namespace feature_control {
inline constexpr std::uint64_t lock = 1ull << 0;
inline constexpr std::uint64_t vmx_inside_smx = 1ull << 1;
inline constexpr std::uint64_t vmx_outside_smx = 1ull << 2;
} // namespace feature_control

// IA32_MISC_ENABLE bits (Volume 4, "Architectural MSRs"): fast-string operations enabled, no
// branch-trace store, no precise event-based sampling. XD Bit Disable (34) is clear.
namespace misc_enable {
inline constexpr std::uint64_t fast_strings = 1ull << 0;
inline constexpr std::uint64_t bts_unavailable = 1ull << 11;
inline constexpr std::uint64_t pebs_unavailable = 1ull << 12;
} // namespace misc_enable

// IA32_EFER bits.
namespace efer {
inline constexpr std::uint64_t sce = 1ull << 0;
inline constexpr std::uint64_t lme = 1ull << 8;
inline constexpr std::uint64_t lma = 1ull << 10;
inline constexpr std::uint64_t nxe = 1ull << 11;
} // namespace efer

} // namespace sdm
