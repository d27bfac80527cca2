// CPUID: the four exit-counter leaves, a hypervisor vendor leaf, and the host's answers with VMX
// and other features the guest cannot use hidden.
#include "core.hpp"
#include "cpuid/exit_leaves.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "stats.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

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

constexpr std::uint32_t leaf1_ecx_monitor = 1u << 3;
constexpr std::uint32_t leaf7_ebx_invpcid = 1u << 10;
constexpr std::uint32_t ext1_edx_rdtscp = 1u << 27;
constexpr std::uint32_t xsave_leaf1_eax_xsaves = 1u << 3;

hw::cpuid_result host_answer(std::uint32_t leaf, std::uint32_t sub) {
    hw::cpuid_result r = hw::cpuid(leaf, sub);
    switch (leaf) {
    case 1:
        r.ecx &= ~(sdm::cpuid1_ecx::vmx | sdm::cpuid1_ecx::smx | leaf1_ecx_monitor |
                   sdm::cpuid1_ecx::osxsave);
        r.ecx |= sdm::cpuid1_ecx::hypervisor;
        // OSXSAVE mirrors the guest's own CR4, not the host's.
        if (hw::vmread(sdm::vmcs_field::guest_cr4) & sdm::cr4::osxsave)
            r.ecx |= sdm::cpuid1_ecx::osxsave;
        break;
    case 7:
        if (sub == 0)
            r.ebx &= ~leaf7_ebx_invpcid;
        break;
    case 0xd:
        if (sub == 1)
            r.eax &= ~xsave_leaf1_eax_xsaves;
        break;
    case 0x80000001:
        r.edx &= ~ext1_edx_rdtscp;
        break;
    default:
        break;
    }
    return r;
}

} // namespace

namespace {

// The four exit leaves and the hypervisor leaves: kept out of line, so the common path (the
// host's leaves) stays short.
[[gnu::noinline]] hw::cpuid_result hypervisor_answer(const es_vm& vm, std::uint32_t leaf,
                                                     std::uint32_t sub) {
    if (is_exit_leaf(leaf)) {
        const leaf_counters c{vm, core.cpuid_scope_global};
        const cpuid_answer a = answer_exit_leaf(leaf, sub, c);
        return {a.eax, a.ebx, a.ecx, a.edx};
    }
    if (leaf == hypervisor_leaf)
        return {hypervisor_leaf, vendor_ebx, vendor_ecx, vendor_edx};
    return {0, 0, 0, 0}; // 0x40000001..0x400000FF: nothing more to say
}

constexpr bool is_hypervisor_range(std::uint32_t leaf) {
    return is_exit_leaf(leaf) || (leaf >= hypervisor_leaf && leaf <= hypervisor_leaf_last);
}

} // namespace

exit_action cpuid(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    const auto leaf = static_cast<std::uint32_t>(vm.regs.rax);
    const auto sub = static_cast<std::uint32_t>(vm.regs.rcx);
    const hw::cpuid_result r =
        is_hypervisor_range(leaf) ? hypervisor_answer(vm, leaf, sub) : host_answer(leaf, sub);
    // CPUID writes the low 32 bits and clears the upper halves in 64-bit mode.
    vm.regs.rax = r.eax;
    vm.regs.rbx = r.ebx;
    vm.regs.rcx = r.ecx;
    vm.regs.rdx = r.edx;
    return exit_action::skip;
}

} // namespace es::handlers
