// The local APICs of a Linux guest with several vCPUs (board/local_apic.hpp is the pure model):
// the x2APIC MSR exits, the IPIs between vCPUs (a message lands in the target's APIC and the
// target is kicked), and what wakes a halted vCPU. Every APIC of the VM is under the VM's board
// lock (board_guard.hpp), as is the board: an IPI touches the sender's and the target's APIC in
// one exit.
#pragma once

#include "exit_context.hpp"

namespace es {

// A Linux VM of several vCPUs starts (vCPU 0's start state): every APIC at power-on in x2APIC
// mode, the BSP's in virtual-wire mode (LINT0 ExtINT, so the 8259A reaches it), the APs waiting
// for their SIPI.
void apic_bus_reset(es_vm& vm);

// RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE or an x2APIC register (lapic_handles_msr).
exit_action apic_rdmsr(exit_context& ctx, std::uint32_t msr);
exit_action apic_wrmsr(exit_context& ctx, std::uint32_t msr, std::uint64_t value);

// HLT with interrupts off on any vCPU: only an NMI, INIT or SIPI from another vCPU can end it
// (Linux's stop_this_cpu, on every CPU that a halt or panic stops). It parks until one comes or
// the VM stops; when every other vCPU is parked too, or waits for its SIPI, nothing is left to
// send one: the VM has halted (ES_STOP_HALTED), as a one-vCPU VM's HLT with interrupts off
// stops it. So the VM ends at the last such HLT, whichever vCPU runs it: a panic on an AP resets
// the machine after it stopped vCPU 0, and a halt on vCPU 0 waits for the APs it stopped.
exit_action halt_with_interrupts_off(exit_context& ctx);

// The SIPI that ended `vcpu`'s wait (lapic_event::startup) gives its start state: real mode at
// CS = vector << 8, IP = 0 ("MP Initialization Protocol"). The caller holds the board lock.
void start_from_sipi(es_vcpu& vcpu);

// Whether something would end `vcpu`'s HLT now: an interrupt it can take (the 8259A's through
// LINT0 on vCPU 0, its APIC's, an NMI), serial input for vCPU 0, a due APIC timer, the VM's stop.
// The caller holds the board lock.
bool wakeup_pending_locked(const es_vcpu& vcpu, std::uint64_t now_tsc);

} // namespace es
