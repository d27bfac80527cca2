// One dispatcher for every VM exit: the exit table (exit_table.hpp) names the handler, the table
// below maps each basic reason to its function, and the run loop (handle_exit) bounds-checks the
// reason, clamps it against speculation and calls through the table, as KVM's vmx.c does with
// kvm_vmx_exit_handlers[].
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "exit_context.hpp"
#include "sdm/exit_reasons.hpp"

namespace es {

using handler_fn = exit_action (*)(exit_context&);

// Handler function for every basic reason below sdm::exit_reason_count, resolved at compile time
// from the exit table (exit_dispatch.cpp).
extern const std::array<handler_fn, sdm::exit_reason_count> handler_by_reason;

// `index` if it is below `size`, else 0, also under speculation: a mispredicted bounds check
// must not let a table lookup or counter update use a guest-chosen index (Spectre v1). The
// mask comes from CMP and SBB, which the CPU does not predict (Linux's array_index_nospec).
inline std::size_t array_index_nospec(std::size_t index, std::size_t size) {
#if defined(__x86_64__)
    std::size_t mask;
    asm volatile("cmp %[size], %[index]\n\tsbb %[mask], %[mask]"
                 : [mask] "=r"(mask)
                 : [size] "g"(size), [index] "r"(index)
                 : "cc");
    return index & mask;
#else
    return index < size ? index : 0;
#endif
}

} // namespace es
