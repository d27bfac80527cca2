// The PC board a Linux guest (linux64) gets: an 8259A pair, an 8254 PIT, a CMOS clock and COM1
// (the models in pure/), and the interrupt delivery that joins them to the vCPU. Toy guests have
// none of it and keep the plain port conventions.
#pragma once

#include <cstdint>

#include "exit_context.hpp"

namespace es {

// Power-on state of the board, when a Linux guest's start state is set.
void platform_reset(es_vm& vm);

// Port I/O of a Linux guest: to the board's devices, or by the plain conventions for the ports
// none of them claims.
exit_action platform_io(exit_context& ctx, std::uint64_t qualification);

// Right before each VM entry of a Linux guest: re-inject an event the last exit interrupted,
// raise IRQ0 when the PIT's deadline passed, inject the PIC's interrupt when the guest can take
// it (interrupt-window exiting otherwise), and bound the guest's run by the next PIT deadline.
void platform_before_entry(es_vm& vm);

// HLT with interrupts enabled: go on at once when an interrupt is pending, else wait (the run
// loop sleeps) until the PIT's next deadline; with no timer armed, go on as toy guests do.
exit_action platform_hlt(exit_context& ctx);

} // namespace es
