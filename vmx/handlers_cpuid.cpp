// CPUID: the four exit-counter leaves, a hypervisor vendor leaf, and the host's answers with VMX
// and other features the guest cannot use hidden.
#include "core.hpp"
#include "cpuid/exit_leaves.hpp"
#include "cpuid_answer.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "stats.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

// The counters the leaves read: the calling VM's rows, or (cpuid_scope=global) every VM's since
// load or the last reset. Only the requested cells are summed; totals sum over all reasons.
struct leaf_counters {
    const es_vm& vm;
    bool global;

    std::uint64_t count(std::uint32_t r) const {
        return global ? global_count(r) : sum_count(vm.rows, core.nr_cpus, r);
    }
    std::uint64_t cycles(std::uint32_t r) const {
        return global ? global_cycles(r) : sum_cycles(vm.rows, core.nr_cpus, r);
    }
    std::uint64_t total_count() const {
        std::uint64_t s = 0;
        for (std::uint32_t r = 0; r < nr_reasons; ++r)
            s += count(r);
        return s;
    }
    std::uint64_t total_cycles() const {
        std::uint64_t s = 0;
        for (std::uint32_t r = 0; r < nr_reasons; ++r)
            s += cycles(r);
        return s;
    }
    bool enabled(std::uint32_t r) const { return (core.reason_flags[r] & ES_REASON_ENABLED) != 0; }
};

constexpr std::uint32_t hypervisor_leaf = 0x40000000;
constexpr std::uint32_t hypervisor_leaf_last = 0x400000ff;
// "ExitscopeVMM" as EBX, ECX, EDX, the way vendor strings are returned.
constexpr std::uint32_t vendor_ebx = 0x74697845; // "Exit"
constexpr std::uint32_t vendor_ecx = 0x706f6373; // "scop"
constexpr std::uint32_t vendor_edx = 0x4d4d5665; // "eVMM"

// The bits edited_host_cpuid hides.
constexpr std::uint32_t leaf1_ecx_monitor = 1u << 3;
constexpr std::uint32_t leaf7_ebx_invpcid = 1u << 10;
constexpr std::uint32_t ext1_edx_rdtscp = 1u << 27;
constexpr std::uint32_t xsave_leaf1_eax_xsaves = 1u << 3;

} // namespace

namespace cpuid_exit {

void edited_host_cpuid(es_guest_regs& g) {
    const auto leaf = static_cast<std::uint32_t>(g.rax);
    const auto sub = static_cast<std::uint32_t>(g.rcx);
    host_cpuid(leaf, sub, g);
    switch (leaf) {
    case 1:
        g.rcx &= ~std::uint64_t{sdm::cpuid1_ecx::vmx | sdm::cpuid1_ecx::smx | leaf1_ecx_monitor |
                                sdm::cpuid1_ecx::osxsave};
        g.rcx |= sdm::cpuid1_ecx::hypervisor;
        // OSXSAVE mirrors the guest's own CR4, not the host's.
        if (hw::vmread(sdm::vmcs_field::guest_cr4) & sdm::cr4::osxsave)
            g.rcx |= sdm::cpuid1_ecx::osxsave;
        break;
    case 7:
        if (sub == 0)
            g.rbx &= ~std::uint64_t{leaf7_ebx_invpcid};
        break;
    case 0xd:
        if (sub == 1)
            g.rax &= ~std::uint64_t{xsave_leaf1_eax_xsaves};
        break;
    case edited_ext_leaf:
        g.rdx &= ~std::uint64_t{ext1_edx_rdtscp};
        break;
    default:
        break;
    }
}

namespace {

void set(es_guest_regs& g, std::uint32_t eax, std::uint32_t ebx, std::uint32_t ecx,
         std::uint32_t edx) {
    g.rax = eax;
    g.rbx = ebx;
    g.rcx = ecx;
    g.rdx = edx;
}

} // namespace

// The hypervisor range: the four exit leaves, the vendor leaf, nothing in the rest of
// 0x40000001-0x400000FF; above that, the host's answer as for any other leaf.
void hypervisor_answer(es_vm& vm) {
    es_guest_regs& g = vm.regs;
    const auto leaf = static_cast<std::uint32_t>(g.rax);
    const auto sub = static_cast<std::uint32_t>(g.rcx);
    if (is_exit_leaf(leaf)) {
        const leaf_counters c{vm, core.cpuid_scope_global};
        const cpuid_answer a = answer_exit_leaf(leaf, sub, c);
        set(g, a.eax, a.ebx, a.ecx, a.edx);
    } else if (leaf == hypervisor_leaf) {
        set(g, hypervisor_leaf, vendor_ebx, vendor_ecx, vendor_edx);
    } else if (leaf <= hypervisor_leaf_last) {
        set(g, 0, 0, 0, 0);
    } else {
        host_cpuid(leaf, sub, g);
    }
}

} // namespace cpuid_exit

namespace handlers {

exit_action cpuid(exit_context& ctx) {
    return cpuid_exit::handle(ctx);
}

} // namespace handlers

} // namespace es
