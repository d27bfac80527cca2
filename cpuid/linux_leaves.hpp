// CPUID as a Linux guest sees it, on top of guest_view_of_host (host_leaves.hpp): one CPU, the
// TSC frequency in leaves 0x15/0x16, and no feature whose MSRs or devices Exitscope does not
// give a Linux guest, so the kernel never takes an unchecked #GP. Pure: unit-tested on the host.
#pragma once

#include <cstdint>

#include "cpuid/exit_leaves.hpp"
#include "sdm/cpu_bits.hpp"

namespace es {

// What the Linux view needs besides the host's answer.
struct linux_cpu_facts {
    std::uint32_t host_max_basic_leaf; // the host's CPUID.0:EAX
    std::uint32_t tsc_khz;             // the host's TSC frequency, which the guest reads as is
};

namespace linux_cpuid {

// Leaf 0x15 ("Time Stamp Counter and Nominal Core Crystal Clock Information") and 0x16
// ("Processor Frequency Information") let Linux take the TSC frequency from CPUID
// (native_calibrate_tsc, cpu_khz_from_cpuid) instead of timing the PIT.
inline constexpr std::uint32_t tsc_leaf = 0x15;
inline constexpr std::uint32_t frequency_leaf = 0x16;

// Bits cleared for a Linux guest, by leaf. Each one would make the kernel use an MSR or device
// that is not emulated (its accesses would be #GP, some of them unchecked) or report topology
// beyond the one vCPU.
namespace hidden {
using namespace sdm;
inline constexpr std::uint32_t leaf1_ecx =
    cpuid1_ecx::dtes64 | cpuid1_ecx::ds_cpl | cpuid1_ecx::est | cpuid1_ecx::tm2 | cpuid1_ecx::xtpr |
    cpuid1_ecx::pdcm | cpuid1_ecx::x2apic | cpuid1_ecx::tsc_deadline;
// No local APIC is emulated: the timer is the PIT through the PIC.
inline constexpr std::uint32_t leaf1_edx = cpuid1_edx::mce | cpuid1_edx::apic | cpuid1_edx::mtrr |
                                           cpuid1_edx::mca | cpuid1_edx::ds | cpuid1_edx::acpi |
                                           cpuid1_edx::htt | cpuid1_edx::tm | cpuid1_edx::pbe;
// TSC_ADJUST is read without a fault handler.
inline constexpr std::uint32_t leaf7_ebx = cpuid7_ebx::tsc_adjust | cpuid7_ebx::sgx |
                                           cpuid7_ebx::hle | cpuid7_ebx::rtm |
                                           cpuid7_ebx::rdt_monitoring | cpuid7_ebx::mpx |
                                           cpuid7_ebx::rdt_allocation | cpuid7_ebx::intel_pt;
inline constexpr std::uint32_t leaf7_ecx = cpuid7_ecx::waitpkg | cpuid7_ecx::sgx_lc;
} // namespace hidden

// CPUID.1:EBX bits 23:16 (logical processors per package) and 31:24 (initial APIC ID).
inline constexpr std::uint32_t leaf1_ebx_topology = 0xffff0000u;
inline constexpr std::uint32_t one_logical_processor = 1u << 16;
// CPUID.4:EAX bits 31:26 (cores per package - 1) and 25:14 (threads sharing the cache - 1).
inline constexpr std::uint32_t leaf4_eax_topology = 0xffffc000u;

// Leaves 0xB and 0x1F, the extended topology: an SMT level and a core level of one processor
// each, then the invalid level that ends the enumeration.
constexpr cpuid_answer one_cpu_topology(std::uint32_t sub) {
    constexpr std::uint32_t smt_level = 1, core_level = 2;
    if (sub == 0)
        return {0, 1, (smt_level << 8) | sub, 0};
    if (sub == 1)
        return {0, 1, (core_level << 8) | sub, 0};
    return {0, 0, sub, 0};
}

} // namespace linux_cpuid

// The highest basic leaf a Linux guest is told about: at least 0x16, so the kernel reads the
// TSC frequency from CPUID.
constexpr std::uint32_t linux_max_basic_leaf(std::uint32_t host_max) {
    return host_max > linux_cpuid::frequency_leaf ? host_max : linux_cpuid::frequency_leaf;
}

// True when the guest's answer to this basic leaf does not come from the host at all: the TSC
// leaves, and the leaves the guest is told exist but the host does not have.
constexpr bool is_linux_own_leaf(std::uint32_t leaf, const linux_cpu_facts& facts) {
    if (leaf == linux_cpuid::tsc_leaf || leaf == linux_cpuid::frequency_leaf)
        return true;
    return leaf < 0x80000000u && leaf > facts.host_max_basic_leaf &&
           leaf <= linux_max_basic_leaf(facts.host_max_basic_leaf);
}

// The answer to a leaf is_linux_own_leaf accepts.
constexpr cpuid_answer linux_own_answer(std::uint32_t leaf, const linux_cpu_facts& facts) {
    if (leaf == linux_cpuid::tsc_leaf) {
        // TSC = crystal * EBX / EAX. A 1 kHz crystal with EBX = the TSC frequency in kHz gives
        // it exactly, and Linux's 32-bit product crystal_khz * EBX cannot overflow.
        return {1, facts.tsc_khz, 1000, 0};
    }
    if (leaf == linux_cpuid::frequency_leaf) {
        const std::uint32_t mhz = facts.tsc_khz / 1000;
        return {mhz, mhz, 100, 0}; // base and maximum MHz, a 100 MHz bus
    }
    return {0, 0, 0, 0};
}

// The host's answer (already through guest_view_of_host) as a Linux guest sees it.
constexpr cpuid_answer linux_guest_view(std::uint32_t leaf, std::uint32_t sub, cpuid_answer a) {
    using namespace linux_cpuid;
    switch (leaf) {
    case 0:
        a.eax = linux_max_basic_leaf(a.eax);
        break;
    case 1:
        a.ebx = (a.ebx & ~leaf1_ebx_topology) | one_logical_processor;
        a.ecx &= ~hidden::leaf1_ecx;
        a.edx &= ~hidden::leaf1_edx;
        break;
    case 4:
        a.eax &= ~leaf4_eax_topology;
        break;
    case 6:   // thermal and power management (APERF/MPERF, HWP MSRs)
    case 0xa: // architectural performance monitoring (the PMU MSRs)
        return {0, 0, 0, 0};
    case 7:
        if (sub == 0) {
            a.ebx &= ~hidden::leaf7_ebx;
            a.ecx &= ~hidden::leaf7_ecx;
            a.edx = 0; // speculation-control and other MSR-backed features
        }
        break;
    case 0xb:
    case 0x1f:
        return one_cpu_topology(sub);
    default:
        break;
    }
    return a;
}

// A vCPU's place in a Linux guest with several vCPUs (issue 19): one package of `count` cores,
// one thread each, the core of vCPU `index` having APIC ID `index`, as the MP table lists them
// (board/mp_table.hpp).
struct linux_vcpu_topology {
    std::uint32_t index; // this vCPU, and its (x2)APIC ID
    std::uint32_t count; // vCPUs in the VM, at least 1
    bool local_apic;     // a local APIC (board/local_apic.hpp, x2APIC mode) is emulated
};

// The view of today's one-vCPU Linux guest: no local APIC; linux_vcpu_view then answers exactly
// as linux_guest_view.
inline constexpr linux_vcpu_topology single_vcpu_without_apic{0, 1, false};

namespace linux_cpuid {

// Bits of an ID field wide enough for `n` IDs (ceil(log2(n))), and the power of two they span.
constexpr std::uint32_t id_bits(std::uint32_t n) {
    std::uint32_t bits = 0;
    while (bits < 31 && (1u << bits) < n)
        ++bits;
    return bits;
}

// Leaves 0xB and 0x1F for vCPU `t.index` ("V2 Extended Topology Enumeration Leaf"): the SMT
// level (one thread per core: shift 0), the core level (`count` cores: the shift that clears
// the core bits of the APIC ID, leaving package 0), then the invalid level; EDX is the x2APIC ID
// at every level. For one vCPU this is one_cpu_topology.
constexpr cpuid_answer vcpu_topology(std::uint32_t sub, const linux_vcpu_topology& t) {
    constexpr std::uint32_t smt_level = 1, core_level = 2;
    if (sub == 0)
        return {0, 1, (smt_level << 8) | sub, t.index};
    if (sub == 1)
        return {id_bits(t.count), t.count, (core_level << 8) | sub, t.index};
    return {0, 0, sub, t.index};
}

} // namespace linux_cpuid

// linux_guest_view for vCPU `t.index` of `t.count`: the APIC ID in leaf 1 EBX[31:24] and in the
// extended topology, the package's logical processors in leaf 1 EBX[23:16] (with HTT, which
// makes that field valid, from 2 vCPUs on) and its cores in leaf 4 EAX[31:26]; with a local APIC,
// leaf 1's APIC, x2APIC and TSC-deadline bits, which the model provides whatever the host has.
constexpr cpuid_answer linux_vcpu_view(std::uint32_t leaf, std::uint32_t sub, cpuid_answer host,
                                       const linux_vcpu_topology& t) {
    using namespace linux_cpuid;
    cpuid_answer a = linux_guest_view(leaf, sub, host);
    const std::uint32_t span = 1u << id_bits(t.count); // addressable IDs in the package
    switch (leaf) {
    case 1:
        a.ebx = (a.ebx & ~leaf1_ebx_topology) | (t.index << 24) | ((span & 0xff) << 16);
        if (t.count > 1)
            a.edx |= sdm::cpuid1_edx::htt;
        if (t.local_apic) {
            a.edx |= sdm::cpuid1_edx::apic;
            a.ecx |= sdm::cpuid1_ecx::x2apic | sdm::cpuid1_ecx::tsc_deadline;
        }
        break;
    case 4:
        if (a.eax & 0x1f) // a cache level (type 0 ends the list): the package's cores
            a.eax |= (span - 1) << 26;
        break;
    case 0xb:
    case 0x1f:
        return vcpu_topology(sub, t);
    default:
        break;
    }
    return a;
}

} // namespace es
