// Delivery of the board's interrupts to the vCPU (irq_delivery.hpp).
#include "irq_delivery.hpp"

#include "apic_bus.hpp"
#include "board_guard.hpp"
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

namespace {

// The interrupt to inject next, acknowledged at its source, or -1: the 8259A's through LINT0 on
// vCPU 0 first (an ExtINT bypasses the APIC's priorities, as KVM's kvm_cpu_get_interrupt takes
// the PIC first), then the APIC's highest deliverable vector.
int acknowledge_interrupt(es_vcpu& vcpu, es_vm& vm) {
    const bool pic_open = !vm.has_lapic || lapic_pic_input_open(vcpu.apic);
    if (vcpu.index == 0 && pic_open && board_has_interrupt(vm.board))
        return board_acknowledge(vm.board);
    return vm.has_lapic ? lapic_acknowledge(vcpu.apic) : -1;
}

bool interrupt_waiting(const es_vcpu& vcpu, const es_vm& vm) {
    const bool pic_open = !vm.has_lapic || lapic_pic_input_open(vcpu.apic);
    if (vcpu.index == 0 && pic_open && board_has_interrupt(vm.board))
        return true;
    return vm.has_lapic && lapic_pending_vector(vcpu.apic) >= 0;
}

// An NMI IPI goes in when nothing else does and NMIs are not blocked; else it waits for a later
// entry (there is no NMI-window exiting: the time slice bounds the wait).
bool inject_nmi(es_vcpu& vcpu) {
    using namespace sdm::interruptibility;
    const auto blocking = hw::vmread(f::guest_interruptibility);
    if (blocking & (nmi_blocking | sti_blocking | mov_ss_blocking))
        return false;
    using namespace sdm::interruption;
    hw::vmwrite(f::entry_interruption_info, valid | (type_nmi << type_shift) | 2);
    vcpu.nmi_pending = false;
    return true;
}

} // namespace

bool deliver_board_interrupts(es_vcpu& vcpu, es_vm& vm) {
    using namespace sdm::interruption;
    // An event a handler queued (a shadow #PF or #GP to reflect, a #DF) goes in as queued: the
    // interrupted event, if any, is then the handler's to keep or drop (VM entry clears the
    // valid bit, so a valid field here is this exit's). Otherwise the interrupted event goes in
    // again; a fresh start state has none, whatever the VMCS's exit fields still hold.
    bool injecting = (hw::vmread(f::entry_interruption_info) & valid) != 0 ||
                     (!vcpu.vectoring_stale && reinject_interrupted_event());
    vcpu.vectoring_stale = false;

    const board_guard g{vm};
    const std::uint64_t now = hw::rdtsc();
    std::uint64_t deadline = pit::no_deadline;
    if (vcpu.index == 0) {
        board_tick(vm.board, now);
        if (serial_input_waiting(vm.input)) [[unlikely]]
            serial_input_drain(vm.input, vm.board); // raises IRQ 4 when the guest enabled it
        deadline = board_next_deadline(vm.board);
    }
    if (vm.has_lapic) {
        vcpu.parked = false;
        // An INIT reached it: it leaves the guest and waits for its SIPI (run_loop.cpp).
        if (vcpu.apic.state == vcpu_run_state::wait_for_sipi)
            return false;
        local_apic& l = vcpu.apic;
        if (lapic_next_deadline(l) <= now)
            lapic_expire(l, now);
        const std::uint64_t apic_deadline = lapic_next_deadline(l);
        deadline = apic_deadline < deadline ? apic_deadline : deadline;
        if (vcpu.nmi_pending && !injecting)
            injecting = inject_nmi(vcpu);
    }
    bool window = false;
    if (vcpu.irq_requeued) {
        if (!injecting && guest_can_take_interrupt()) {
            hw::vmwrite(f::entry_interruption_info,
                        valid | (type_external << type_shift) | vcpu.requeued_vector);
            vcpu.irq_requeued = false;
            injecting = true;
        } else {
            window = true;
        }
    }
    if (interrupt_waiting(vcpu, vm)) {
        if (!injecting && guest_can_take_interrupt()) {
            const int vector = acknowledge_interrupt(vcpu, vm);
            if (vector >= 0)
                hw::vmwrite(f::entry_interruption_info, valid | (type_external << type_shift) |
                                                            static_cast<std::uint32_t>(vector));
        } else {
            window = true; // exit as soon as the guest can take it
        }
    }
    request_interrupt_window(vcpu, window);
    bound_run_by_timer(deadline, now);
    return true;
}

exit_action wait_for_board_interrupt(exit_context& ctx) {
    es_vcpu& vcpu = ctx.vcpu;
    const board_guard g{ctx.vm};
    const std::uint64_t now = hw::rdtsc();
    if (wakeup_pending_locked(vcpu, now))
        return exit_action::skip; // the interrupt wakes it at once (deliver_board_interrupts)
    std::uint64_t deadline = vcpu.index == 0 ? board_next_deadline(ctx.vm.board) : pit::no_deadline;
    if (ctx.vm.has_lapic) {
        const std::uint64_t apic_deadline = lapic_next_deadline(vcpu.apic);
        deadline = apic_deadline < deadline ? apic_deadline : deadline;
    } else if (deadline == pit::no_deadline) {
        return exit_action::skip; // nothing could ever wake it: go on, as toy guests do
    }
    vcpu.idle_until = deadline; // none: until an IPI or input wakes it
    return exit_action::idle;
}

} // namespace es
