// CPUID exits, the hot part: the host's answer with what the guest cannot use hidden, inline so
// the run loop's inline handling of CPUID (direct_reason, exit_dispatch.hpp) costs no call. The
// hypervisor leaves (0x40000000-0x4FFFFFFF: the vendor leaf and the four exit-counter leaves) are
// rare and answered out of line in handlers_cpuid.cpp.
#pragma once

#include <cstdint>

#include "exit_context.hpp"
#include "sdm/cpu_bits.hpp"
#include "vmx_ops.hpp"

namespace es::cpuid_exit {

// The leaves whose host answer is edited before the guest sees it (handlers_cpuid.cpp).
inline constexpr std::uint32_t edited_basic_leaves = (1u << 1) | (1u << 7) | (1u << 0xd);
inline constexpr std::uint32_t edited_ext_leaf = 0x80000001;

// 0x40000000-0x4FFFFFFF: the hypervisor range, with the exit-counter leaves at its top.
constexpr bool is_hypervisor_range(std::uint32_t leaf) {
    return (leaf >> 28) == 4;
}

// The answer goes straight into the guest's saved registers (no copy on the way).
inline void host_cpuid(std::uint32_t leaf, std::uint32_t sub, es_guest_regs& g) {
    // In 64-bit mode CPUID clears the upper halves of the four registers.
    asm volatile("cpuid"
                 : "=a"(g.rax), "=b"(g.rbx), "=c"(g.rcx), "=d"(g.rdx)
                 : "a"(leaf), "c"(sub));
}

// The host's answer with what the guest cannot use hidden: VMX and SMX (no nesting),
// MONITOR/MWAIT (they exit), INVPCID and RDTSCP and XSAVES (their controls are off, so they would
// raise #UD), OSXSAVE mirrored from the guest's own CR4, and the hypervisor-present bit set.
// Out of line: only a few leaves need it.
// Leaf and subleaf come from the guest's RAX and RCX, still unanswered: passing them would cost
// the inline path register copies.
void edited_host_cpuid(es_guest_regs& g);

// 1, 7, 0xD and 0x80000001: a leaf with bits outside 0x8000001F is none of them, the others are
// looked up by their low five bits. 0x80000007 and 0x8000000D pass too; the out-of-line path
// edits nothing in them, so that only costs them time.
constexpr bool is_edited_leaf(std::uint32_t leaf) {
    return (leaf & 0x7fffffe0u) == 0 && ((edited_basic_leaves >> (leaf & 31)) & 1) != 0;
}
static_assert(is_edited_leaf(1) && is_edited_leaf(7) && is_edited_leaf(0xd) &&
              is_edited_leaf(edited_ext_leaf) && !is_edited_leaf(0) && !is_edited_leaf(0x21) &&
              !is_edited_leaf(0x80000000) && !is_edited_leaf(0x80000008));

// 0x40000000-0x4FFFFFFF, out of line, leaf and subleaf likewise from the guest's registers.
void hypervisor_answer(es_vm& vm);

inline exit_action handle(exit_context& ctx) {
    es_guest_regs& g = ctx.vm.regs;
    const auto leaf = static_cast<std::uint32_t>(g.rax);
    const auto sub = static_cast<std::uint32_t>(g.rcx);
    if (is_hypervisor_range(leaf)) [[unlikely]]
        hypervisor_answer(ctx.vm);
    else if (is_edited_leaf(leaf)) [[unlikely]]
        edited_host_cpuid(g);
    else
        host_cpuid(leaf, sub, g);
    return exit_action::skip;
}

} // namespace es::cpuid_exit
