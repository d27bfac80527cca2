// CPUID leaves other than the four exit leaves: the host's answers with what a guest cannot use
// hidden, and the hypervisor range (0x40000000-0x4FFFFFFF) with Exitscope's vendor leaf. Pure:
// the handler (vmx/handlers_cpuid.cpp) runs the host's CPUID and passes the answer in, so every
// branch is unit-tested on the host.
#pragma once

#include <cstdint>

#include "cpuid/exit_leaves.hpp"
#include "sdm/cpu_bits.hpp"

namespace es {

inline constexpr std::uint32_t hypervisor_leaf = 0x40000000;
inline constexpr std::uint32_t hypervisor_leaf_last = 0x400000ff;
inline constexpr std::uint32_t extended_leaf1 = 0x80000001;

// "ExitscopeVMM" as EBX, ECX, EDX, the way vendor strings are returned.
inline constexpr cpuid_answer vendor_answer{hypervisor_leaf, 0x74697845 /* "Exit" */,
                                            0x706f6373 /* "scop" */, 0x4d4d5665 /* "eVMM" */};

// 0x40000000-0x4FFFFFFF: the hypervisor range, with the exit-counter leaves at its top.
constexpr bool is_hypervisor_range(std::uint32_t leaf) {
    return (leaf >> 28) == 4;
}

// Leaves of the hypervisor range Exitscope answers itself (the vendor leaf, then nothing up to
// 0x400000FF); the rest of the range, exit leaves aside, gets the host's answer.
constexpr bool is_own_hypervisor_leaf(std::uint32_t leaf) {
    return leaf >= hypervisor_leaf && leaf <= hypervisor_leaf_last;
}
constexpr cpuid_answer own_hypervisor_answer(std::uint32_t leaf) {
    return leaf == hypervisor_leaf ? vendor_answer : cpuid_answer{0, 0, 0, 0};
}

// The host's answer to (leaf, subleaf) as the guest sees it: VMX and SMX hidden (no nesting),
// MONITOR/MWAIT hidden (they exit), INVPCID, RDTSCP and XSAVES hidden (their controls are off, so
// they would raise #UD), CET hidden (no CET-state controls: CR4.CET is refused), OSXSAVE mirrored
// from the guest's own CR4, the hypervisor bit set. The XSAVE features offered (CPUID 0xD) are
// those of the host's XCR0, `host_xcr0`: the guest's XSETBV may enable no others.
constexpr cpuid_answer guest_view_of_host(std::uint32_t leaf, std::uint32_t sub, cpuid_answer a,
                                          bool guest_osxsave, std::uint64_t host_xcr0) {
    switch (leaf) {
    case 1:
        a.ecx &= ~(sdm::cpuid1_ecx::vmx | sdm::cpuid1_ecx::smx | sdm::cpuid1_ecx::monitor |
                   sdm::cpuid1_ecx::osxsave);
        a.ecx |= sdm::cpuid1_ecx::hypervisor;
        if (guest_osxsave)
            a.ecx |= sdm::cpuid1_ecx::osxsave;
        break;
    case 7:
        if (sub == 0) {
            a.ebx &= ~sdm::cpuid7_ebx::invpcid;
            a.ecx &= ~sdm::cpuid7_ecx::cet_ss;
            a.edx &= ~sdm::cpuid7_edx::cet_ibt;
        }
        break;
    case 0xd:
        if (sub == 0) {
            // EBX, the area size for the XCR0 in force, is the hardware's: the guest's XCR0 is
            // loaded while it runs.
            a.eax &= static_cast<std::uint32_t>(host_xcr0);
            a.edx &= static_cast<std::uint32_t>(host_xcr0 >> 32);
        } else if (sub == 1) {
            a.eax &= ~sdm::cpuid_d1_eax::xsaves;
        } else if (sub < 64 && !((host_xcr0 >> sub) & 1)) {
            a = cpuid_answer{0, 0, 0, 0}; // a component the guest cannot enable
        }
        break;
    case extended_leaf1:
        a.edx &= ~sdm::cpuid_ext1_edx::rdtscp;
        break;
    default:
        break;
    }
    return a;
}

// A shadow-paging VM's view on top of guest_view_of_host: the virtual TLB (mmu/, vmx/shadow_mmu)
// does not model PCIDs (nor INVPCID), protection keys, 5-level paging, SMEP or SMAP, so the guest
// sees a CPU without them (and setting their CR4 bits is #GP, vmx/handlers_cr.cpp).
constexpr cpuid_answer shadow_paging_view(std::uint32_t leaf, std::uint32_t sub, cpuid_answer a) {
    if (leaf == 1) {
        a.ecx &= ~sdm::cpuid1_ecx::pcid;
    } else if (leaf == 7 && sub == 0) {
        a.ebx &= ~(sdm::cpuid7_ebx::invpcid | sdm::cpuid7_ebx::smep | sdm::cpuid7_ebx::smap);
        a.ecx &= ~(sdm::cpuid7_ecx::pku | sdm::cpuid7_ecx::ospke | sdm::cpuid7_ecx::la57);
    }
    return a;
}

} // namespace es
