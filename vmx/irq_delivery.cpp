// Delivery of the board's interrupts to the vCPU (irq_delivery.hpp).
#include "irq_delivery.hpp"

#include "core.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/vmx_controls.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

using f = sdm::vmcs_field;

// The guest takes an external interrupt at the next instruction boundary: IF set, no STI or
// MOV-SS blocking ("Interruptibility State").
bool guest_can_take_interrupt() {
    using namespace sdm::interruptibility;
    if (!(hw::vmread(f::guest_rflags) & sdm::rflags::intf))
        return false;
    return (hw::vmread(f::guest_interruptibility) & (sti_blocking | mov_ss_blocking)) == 0;
}

void request_interrupt_window(es_vcpu& vcpu, bool on) {
    if (vcpu.interrupt_window == on)
        return;
    vcpu.interrupt_window = on;
    hw::vmwrite(f::proc_based_controls,
                vcpu.vm->controls->proc | (on ? sdm::proc_ctl::interrupt_window_exiting : 0));
}

// The guest runs at most until the PIT's next deadline: the VMX-preemption timer, which counts
// TSC ticks scaled down by 2^rate, is lowered to it when the host slice would end later.
void bound_run_by_timer(std::uint64_t deadline, std::uint64_t now) {
    if (deadline == pit::no_deadline || !(core.controls.pin & sdm::pin_ctl::preemption_timer))
        return;
    const std::uint64_t ticks =
        deadline > now ? (deadline - now) >> core.caps.preemption_timer_rate : 0;
    if (ticks < hw::vmread(f::preemption_timer_value))
        hw::vmwrite(f::preemption_timer_value, ticks);
}

} // namespace

bool reinject_interrupted_event() {
    using namespace sdm::interruption;
    const auto vectoring = static_cast<std::uint32_t>(hw::vmread(f::idt_vectoring_info));
    if (!(vectoring & valid))
        return false;
    if (vectoring & deliver_error_code)
        hw::vmwrite(f::entry_exception_error_code, hw::vmread(f::idt_vectoring_error_code));
    if (needs_instruction_length((vectoring >> type_shift) & type_mask))
        hw::vmwrite(f::entry_instruction_length, hw::vmread(f::exit_instruction_length));
    hw::vmwrite(f::entry_interruption_info, vectoring & ~nmi_unblocking);
    return true;
}

void deliver_board_interrupts(es_vcpu& vcpu, es_vm& vm) {
    using namespace sdm::interruption;
    // An event a handler queued (a shadow #PF or #GP to reflect, a #DF) goes in as queued: the
    // interrupted event, if any, is then the handler's to keep or drop (VM entry clears the
    // valid bit, so a valid field here is this exit's). Otherwise the interrupted event goes in
    // again; a fresh start state has none, whatever the VMCS's exit fields still hold.
    const bool injecting = (hw::vmread(f::entry_interruption_info) & valid) != 0 ||
                           (!vcpu.vectoring_stale && reinject_interrupted_event());
    vcpu.vectoring_stale = false;

    const std::uint64_t now = hw::rdtsc();
    board_tick(vm.board, now);
    if (serial_input_waiting(vm.input)) [[unlikely]]
        serial_input_drain(vm.input, vm.board); // raises IRQ 4 when the guest enabled it
    bool window = false;
    if (board_has_interrupt(vm.board)) {
        if (!injecting && guest_can_take_interrupt())
            hw::vmwrite(f::entry_interruption_info,
                        valid | (type_external << type_shift) | board_acknowledge(vm.board));
        else
            window = true; // exit as soon as the guest can take it
    }
    request_interrupt_window(vcpu, window);
    bound_run_by_timer(board_next_deadline(vm.board), now);
}

exit_action wait_for_board_interrupt(exit_context& ctx) {
    const pc_board& b = ctx.vm.board;
    if (board_has_interrupt(b) || serial_input_deliverable(ctx.vm.input, b))
        return exit_action::skip; // the interrupt wakes it at once (deliver_board_interrupts)
    const std::uint64_t deadline = board_next_deadline(b);
    if (deadline == pit::no_deadline)
        return exit_action::skip;
    ctx.vcpu.idle_until = deadline;
    return exit_action::idle;
}

} // namespace es
