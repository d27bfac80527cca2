// CPUID: the host's answers with what the guest cannot use hidden, a hypervisor vendor leaf, and
// the four exit-counter leaves (cpuid/exit_leaves.hpp) answered from the counters.
#include "core.hpp"
#include "cpuid/exit_leaves.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "stats.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

// The counters the leaves read: the calling VM's row, or (cpuid_scope=global) every VM's since
// load or the last reset. Each leaf reads one figure: totals are kept as totals, so no answer
// sums over reasons or CPUs.
struct leaf_counters {
    const es_vm& vm;
    bool global;

    std::uint64_t count(std::uint32_t r) const {
        return global ? global_count(r) : vm.counters->cell[r].count;
    }
    std::uint64_t cycles(std::uint32_t r) const {
        return global ? global_cycles(r) : vm.counters->cell[r].cycles;
    }
    std::uint64_t total_count() const { return global ? global_exits() : vm.counters->exits; }
    std::uint64_t total_cycles() const {
        return global ? global_exit_cycles() : vm.counters->cycles;
    }
    bool enabled(std::uint32_t r) const { return (core.reason_flags[r] & ES_REASON_ENABLED) != 0; }
};

constexpr std::uint32_t hypervisor_leaf = 0x40000000;
constexpr std::uint32_t hypervisor_leaf_last = 0x400000ff;
// "ExitscopeVMM" as EBX, ECX, EDX, the way vendor strings are returned.
constexpr std::uint32_t vendor_ebx = 0x74697845; // "Exit"
constexpr std::uint32_t vendor_ecx = 0x706f6373; // "scop"
constexpr std::uint32_t vendor_edx = 0x4d4d5665; // "eVMM"

// Feature bits hidden from the guest.
constexpr std::uint32_t leaf1_ecx_monitor = 1u << 3;
constexpr std::uint32_t leaf7_ebx_invpcid = 1u << 10;
constexpr std::uint32_t ext1_edx_rdtscp = 1u << 27;
constexpr std::uint32_t xsave_leaf1_eax_xsaves = 1u << 3;
constexpr std::uint32_t ext_leaf1 = 0x80000001;

// 0x40000000-0x4FFFFFFF: the hypervisor range, with the exit-counter leaves at its top.
constexpr bool is_hypervisor_range(std::uint32_t leaf) {
    return (leaf >> 28) == 4;
}

void set(es_guest_regs& g, std::uint32_t eax, std::uint32_t ebx, std::uint32_t ecx,
         std::uint32_t edx) {
    g.rax = eax;
    g.rbx = ebx;
    g.rcx = ecx;
    g.rdx = edx;
}

// The host's answer, straight into the guest's registers. In 64-bit mode CPUID clears the upper
// halves of the four registers.
void host_cpuid(std::uint32_t leaf, std::uint32_t sub, es_guest_regs& g) {
    asm volatile("cpuid"
                 : "=a"(g.rax), "=b"(g.rbx), "=c"(g.rcx), "=d"(g.rdx)
                 : "a"(leaf), "c"(sub));
}

// Hide what the guest cannot use: VMX and SMX (no nesting), MONITOR/MWAIT (they exit), INVPCID,
// RDTSCP and XSAVES (their controls are off, so they would raise #UD); mirror OSXSAVE from the
// guest's own CR4 and set the hypervisor-present bit.
void hide_host_features(std::uint32_t leaf, std::uint32_t sub, es_guest_regs& g) {
    switch (leaf) {
    case 1:
        g.rcx &= ~std::uint64_t{sdm::cpuid1_ecx::vmx | sdm::cpuid1_ecx::smx | leaf1_ecx_monitor |
                                sdm::cpuid1_ecx::osxsave};
        g.rcx |= sdm::cpuid1_ecx::hypervisor;
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
    case ext_leaf1:
        g.rdx &= ~std::uint64_t{ext1_edx_rdtscp};
        break;
    default:
        break;
    }
}

// The hypervisor range: the four exit leaves, the vendor leaf, nothing in the rest of
// 0x40000001-0x400000FF; above that, the host's answer as for any other leaf.
void hypervisor_answer(const es_vm& vm, std::uint32_t leaf, std::uint32_t sub, es_guest_regs& g) {
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

} // namespace

namespace handlers {

exit_action cpuid(exit_context& ctx) {
    es_guest_regs& g = ctx.vm.regs;
    const auto leaf = static_cast<std::uint32_t>(g.rax);
    const auto sub = static_cast<std::uint32_t>(g.rcx);
    if (is_hypervisor_range(leaf)) {
        hypervisor_answer(ctx.vm, leaf, sub, g);
    } else {
        host_cpuid(leaf, sub, g);
        hide_host_features(leaf, sub, g);
    }
    return exit_action::skip;
}

} // namespace handlers

} // namespace es
