// CPUID exits: the answers come from cpuid/ (pure functions); this file runs the host's CPUID,
// reads the counters for the exit leaves and writes the answer into the guest's registers.
#include "core.hpp"
#include "cpuid/exit_leaves.hpp"
#include "cpuid/host_leaves.hpp"
#include "cpuid/linux_leaves.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "stats.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

// The counters the exit leaves read: the calling VM's (the sum of its vCPUs' rows), or
// (cpuid_scope=global) every VM's since load or the last reset. Each leaf reads one figure:
// totals are kept as totals, so no answer sums over reasons or CPUs.
// A VM of one vCPU reads the asking vCPU's row alone: the sum over vCPUs is for larger VMs.
struct leaf_counters {
    const es_vcpu& vcpu;
    const es_vm& vm;
    bool global;

    bool alone() const { return vm.nr_vcpus == 1; }
    std::uint64_t count(std::uint32_t r) const {
        if (global)
            return global_count(r);
        return alone() ? vcpu.row->cell[r].count : vm_count(vm, r);
    }
    std::uint64_t cycles(std::uint32_t r) const {
        if (global)
            return global_cycles(r);
        return alone() ? vcpu.row->cell[r].cycles : vm_cycles(vm, r);
    }
    std::uint64_t total_count() const {
        if (global)
            return global_exits();
        return alone() ? vcpu.row->exits : vm_exits(vm);
    }
    std::uint64_t total_cycles() const {
        if (global)
            return global_exit_cycles();
        return alone() ? vcpu.row->cycles : vm_exit_cycles(vm);
    }
    // The calling VM's live controls decide (a shadow-paging VM's INVLPG is enabled); in global
    // scope too, since the leaf answers for the caller's configuration.
    bool enabled(std::uint32_t r) const {
        const std::uint8_t* flags = vm.shadow_paging ? core.shadow_reason_flags : core.reason_flags;
        return (flags[r] & ES_REASON_ENABLED) != 0;
    }
};

cpuid_answer host_cpuid(std::uint32_t leaf, std::uint32_t sub) {
    cpuid_answer a;
    asm volatile("cpuid"
                 : "=a"(a.eax), "=b"(a.ebx), "=c"(a.ecx), "=d"(a.edx)
                 : "a"(leaf), "c"(sub));
    return a;
}

[[gnu::always_inline]] inline cpuid_answer host_answer(std::uint32_t leaf, std::uint32_t sub) {
    // OSXSAVE mirrors the guest's CR4, read only for the leaf that reports it.
    const bool guest_osxsave =
        leaf == 1 && (hw::vmread(sdm::vmcs_field::guest_cr4) & sdm::cr4::osxsave) != 0;
    return guest_view_of_host(leaf, sub, host_cpuid(leaf, sub), guest_osxsave, core.host_xcr0);
}

// A Linux guest's view (cpuid/linux_leaves.hpp), with the shadow masks under shadow paging;
// out of line, so toy guests' CPUID keeps its short path.
[[gnu::noinline]] cpuid_answer linux_answer(const es_vcpu& vcpu, std::uint32_t leaf,
                                            std::uint32_t sub) {
    const es_vm& vm = *vcpu.vm;
    const linux_cpu_facts facts{core.host_max_basic_leaf, core.tsc_khz};
    if (is_linux_own_leaf(leaf, facts))
        return linux_own_answer(leaf, facts);
    const cpuid_answer a = vm.has_lapic
                               ? linux_vcpu_view(leaf, sub, host_answer(leaf, sub),
                                                 linux_vcpu_topology{vcpu.index, vm.nr_vcpus, true})
                               : linux_guest_view(leaf, sub, host_answer(leaf, sub));
    return vm.shadow_paging ? shadow_paging_view(leaf, sub, a) : a;
}

cpuid_answer answer(const es_vcpu& vcpu, std::uint32_t leaf, std::uint32_t sub) {
    const es_vm& vm = *vcpu.vm;
    if (is_hypervisor_range(leaf)) [[unlikely]] {
        if (is_exit_leaf(leaf))
            return answer_exit_leaf(leaf, sub, leaf_counters{vcpu, vm, core.cpuid_scope_global});
        if (is_own_hypervisor_leaf(leaf))
            return own_hypervisor_answer(leaf);
        return host_cpuid(leaf, sub);
    }
    if (vm.has_board) [[unlikely]]
        return linux_answer(vcpu, leaf, sub);
    if (vm.shadow_paging) [[unlikely]]
        return shadow_paging_view(leaf, sub, host_answer(leaf, sub));
    return host_answer(leaf, sub);
}

} // namespace

namespace handlers {

exit_action cpuid(exit_context& ctx) {
    es_guest_regs& g = ctx.vcpu.regs;
    // CPUID writes the four registers whole in 64-bit mode: the upper halves become 0.
    const cpuid_answer a =
        answer(ctx.vcpu, static_cast<std::uint32_t>(g.rax), static_cast<std::uint32_t>(g.rcx));
    g.rax = a.eax;
    g.rbx = a.ebx;
    g.rcx = a.ecx;
    g.rdx = a.edx;
    return exit_action::skip;
}

} // namespace handlers

} // namespace es
