// One dispatcher for every VM exit: the exit table (exit_table.hpp) names the handler, the table
// below maps each basic reason to its function, and the run loop (handle_exit) bounds-checks the
// reason, clamps it against speculation and calls through the table, as KVM's vmx.c does with
// kvm_vmx_exit_handlers[].
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "exit_context.hpp"
#include "pure/index_nospec.hpp"
#include "sdm/exit_reasons.hpp"

namespace es {

using handler_fn = exit_action (*)(exit_context&);

// Handler function for every basic reason below sdm::exit_reason_count, resolved at compile time
// from the exit table (exit_dispatch.cpp).
extern const std::array<handler_fn, sdm::exit_reason_count> handler_by_reason;

} // namespace es
