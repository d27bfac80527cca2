// One dispatcher for every VM exit: the exit table (exit_table.hpp) names the handler, this file
// maps handler names to functions, and the run loop acts on what the handler returns.
#pragma once

#include <array>
#include <cstdint>

#include "sdm/exit_reasons.hpp"
#include "vm.hpp"

namespace es {

enum class exit_action : std::uint8_t {
    resume,     // re-enter at the same RIP (an event was injected, or nothing to do)
    skip,       // the instruction is emulated: advance RIP past it, then re-enter
    check_host, // let the host take interrupts, signals and rescheduling first, then re-enter
    stop,       // return to user space with ctx.stop filled in
};

struct exit_context {
    es_vm& vm;
    std::uint32_t reason; // basic exit reason
    std::uint32_t cpu;
    stop_report stop;
};

using handler_fn = exit_action (*)(exit_context&);

// Handler function for every basic reason below sdm::exit_reason_count, resolved at compile time
// from the exit table (exit_dispatch.cpp): dispatch is one bounds check and one indirect call.
extern const std::array<handler_fn, sdm::exit_reason_count> handler_by_reason;

exit_action dispatch_unexpected(exit_context& ctx);

inline exit_action dispatch_exit(exit_context& ctx) {
    // Bounds-checked: a reason past the table (a newer CPU's, or a corrupt field) stops the VM.
    if (ctx.reason >= sdm::exit_reason_count)
        return dispatch_unexpected(ctx);
    return handler_by_reason[ctx.reason](ctx);
}

} // namespace es
