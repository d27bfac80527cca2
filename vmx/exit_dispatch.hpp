// One dispatcher for every VM exit: the exit table (exit_table.hpp) names the handler, this file
// maps handler names to functions, and the run loop acts on what the handler returns.
#pragma once

#include <array>
#include <cstdint>

#include "exit_context.hpp"
#include "sdm/exit_reasons.hpp"

namespace es {

using handler_fn = exit_action (*)(exit_context&);

// Handler function for every basic reason below sdm::exit_reason_count, resolved at compile time
// from the exit table (exit_dispatch.cpp): dispatch is one bounds check and one indirect call.
extern const std::array<handler_fn, sdm::exit_reason_count> handler_by_reason;

exit_action dispatch_unexpected(exit_context& ctx);

// The one reason every benchmark and every exit-counter query takes: the run loop's exit path
// handles it inline (cpuid_exit::handle), skipping the call and the indirect branch (a retpoline
// where Spectre v2 mitigations are on), as KVM does for its hottest exits. It is still the
// table's handler: exit_dispatch.cpp asserts it.
inline constexpr std::uint32_t direct_reason = sdm::to_number(sdm::exit_reason::cpuid);

inline exit_action dispatch_exit(exit_context& ctx) {
    // Bounds-checked: a reason past the table (a newer CPU's, or a corrupt field) stops the VM.
    if (ctx.reason >= sdm::exit_reason_count)
        return dispatch_unexpected(ctx);
    return handler_by_reason[ctx.reason](ctx);
}

} // namespace es
