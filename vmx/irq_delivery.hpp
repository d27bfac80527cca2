// Delivery of a Linux guest's board interrupts (board/pc_board.hpp) to its vCPU, as KVM does it
// with its in-kernel 8259 (kvm_cpu_has_interrupt, vmx_inject_irq, enable_irq_window): inject
// when RFLAGS.IF is set and nothing blocks, else ask for an interrupt-window exit and inject
// then. Toy guests have no board and none of this.
#pragma once

#include "exit_context.hpp"

namespace es {

// The event the last exit interrupted (IDT-vectoring information) goes in again, as the SDM
// requires of a VMM ("Information for VM Exits During Event Delivery"); true if there was one.
// Board VMs do it before every entry; a shadow #PF exit does it for its own exit.
bool reinject_interrupted_event();

// Right before each VM entry of a vCPU whose VM has a board: re-inject an event the last exit
// interrupted, let the board's time pass on vCPU 0 (IRQ0 when the PIT's deadline passed), move
// waiting serial input into the UART (IRQ4 when the guest enabled it), expire the vCPU's APIC
// timer, inject an NMI IPI or the next interrupt (the PIC's through LINT0 on vCPU 0, else the
// APIC's) when the guest can take it (interrupt-window exiting otherwise), and bound the guest's
// run by the next timer deadline. False: an INIT reached the vCPU, which must not enter again
// before its SIPI.
bool deliver_board_interrupts(es_vcpu& vcpu, es_vm& vm);

// HLT with interrupts enabled: go on at once when something would wake it (apic_bus.hpp's
// wakeup_pending_locked), else wait (the run loop sleeps) until the next timer deadline or a
// wake-up; with no timer armed, a one-vCPU guest goes on as toy guests do, while a vCPU with an
// APIC sleeps until an IPI or input wakes it.
exit_action wait_for_board_interrupt(exit_context& ctx);

} // namespace es
