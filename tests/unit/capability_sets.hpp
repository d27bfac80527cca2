// VMX capability MSR sets the unit tests run the capability parser, the control choice and the
// exit table on. Shared so that every test reads the same CPU, not a copy of it.
#pragma once

#include <cstdint>

#include "exitscope/abi.h"
#include "sdm/vmx_controls.hpp"
#include "vmx/pure/capabilities.hpp"

namespace es::test {

// An IA32_VMX_*_CTLS value: allowed 0-settings in the low half, allowed 1-settings in the high.
inline std::uint64_t ctl_msr(std::uint32_t must_be_one, std::uint32_t may_be_one) {
    return (std::uint64_t{may_be_one} << 32) | must_be_one;
}

// A Haswell-like CPU as Bochs 2.7 presents it: true controls, EPT, VPID, unrestricted guest.
inline vmx_msrs haswell() {
    vmx_msrs m{};
    m.value[ES_MSR_BASIC] = (1ull << 55) | (6ull << 50) | (4096ull << 32) | 43;
    m.value[ES_MSR_TRUE_PINBASED] = ctl_msr(0x16, 0x7f);
    m.value[ES_MSR_TRUE_PROCBASED] = ctl_msr(0x04006172, 0xfff9fffe);
    m.value[ES_MSR_TRUE_EXIT] = ctl_msr(0x00036dfb, 0x007fffff);
    m.value[ES_MSR_TRUE_ENTRY] = ctl_msr(0x000011fb, 0x0000ffff);
    m.value[ES_MSR_PINBASED] = ctl_msr(0x16, 0x7f);
    m.value[ES_MSR_PROCBASED] = ctl_msr(0x0401e172, 0xfff9fffe);
    m.value[ES_MSR_EXIT] = ctl_msr(0x00036dff, 0x007fffff);
    m.value[ES_MSR_ENTRY] = ctl_msr(0x000011ff, 0x0000ffff);
    m.value[ES_MSR_PROCBASED2] = ctl_msr(0, 0x000000ff | (1u << 10) | (1u << 11) | (1u << 12));
    m.value[ES_MSR_EPT_VPID_CAP] = (1ull << 6) | (1ull << 14) | (1ull << 16) | (1ull << 20) |
                                   (1ull << 25) | (1ull << 26) | (1ull << 32) | (1ull << 41) |
                                   (1ull << 42);
    m.value[ES_MSR_MISC] = 5;
    m.value[ES_MSR_CR0_FIXED0] = 0x80000021;
    m.value[ES_MSR_CR0_FIXED1] = 0xffffffff;
    m.value[ES_MSR_CR4_FIXED0] = 0x2000;
    m.value[ES_MSR_CR4_FIXED1] = 0x3727ff;
    return m;
}

// `m` with `bit` gone from the allowed 1-settings of control MSR `index`: a CPU that lacks that
// one control.
inline vmx_msrs without_control(vmx_msrs m, std::uint32_t index, std::uint32_t bit) {
    m.value[index] &= ~(std::uint64_t{bit} << 32);
    return m;
}

// The Haswell set without unrestricted guest (a Nehalem-class VMX): everything else as above.
inline vmx_msrs haswell_without_unrestricted_guest() {
    return without_control(haswell(), ES_MSR_PROCBASED2, sdm::proc_ctl2::unrestricted_guest);
}

} // namespace es::test
