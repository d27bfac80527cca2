// The Linux guest's board (platform.hpp): port I/O to the device models, and the delivery of
// their interrupts to the vCPU as KVM does it with its in-kernel 8259 (kvm_cpu_has_interrupt,
// vmx_inject_irq, enable_irq_window): inject when RFLAGS.IF is set and nothing blocks, else ask
// for an interrupt-window exit and inject then.
#include "platform.hpp"

#include "core.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "pure/board_reset.hpp"
#include "pure/msr_policy.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/exit_qualification.hpp"
#include "sdm/vmx_controls.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

using f = sdm::vmcs_field;

// The ISA interrupt lines of the board's devices.
inline constexpr unsigned irq_timer = 0;
inline constexpr unsigned irq_com1 = 4;

std::uint8_t read_port(es_vm& vm, std::uint16_t port, std::uint64_t now) {
    if (uart_handles(port)) {
        const std::uint8_t v = uart_read(vm.com1, port - uart::com1_base);
        pic_set_irq(vm.pic, irq_com1, uart_irq_line(vm.com1)); // an IIR read may clear it
        return v;
    }
    if (pic_handles(port))
        return pic_read(vm.pic, port);
    if (pit_handles(port))
        return pit_read(vm.pit, port, now);
    if (cmos_handles(port))
        return cmos_read(vm.rtc, port, static_cast<std::int64_t>(es_shim_real_seconds()));
    return 0xff; // the keyboard controller's ports among others: no device
}

// False when the write ends the run (a full console); `reset` set when it resets the machine.
bool write_port(es_vm& vm, std::uint16_t port, std::uint8_t v, std::uint64_t now, bool& reset) {
    if (uart_handles(port)) {
        const uart_write_result w = uart_write(vm.com1, port - uart::com1_base, v);
        pic_set_irq(vm.pic, irq_com1, uart_irq_line(vm.com1));
        return !w.transmitted || !handlers::append_console(vm, w.byte, 1);
    }
    if (pic_handles(port))
        pic_write(vm.pic, port, v);
    else if (pit_handles(port))
        pit_write(vm.pit, port, v, now);
    else if (cmos_handles(port))
        cmos_write(vm.rtc, port, v);
    else if (board::is_reset_request(port, v))
        reset = true;
    return true;
}

bool is_board_port(std::uint16_t port) {
    return uart_handles(port) || pic_handles(port) || pit_handles(port) || cmos_handles(port) ||
           port == board::i8042_command || port == board::reset_control;
}

// The event the last exit interrupted (IDT-vectoring information) goes in again, as the SDM
// requires of a VMM ("Information for VM Exits During Event Delivery"); true if there was one.
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

// The guest takes an external interrupt at the next instruction boundary: IF set, no STI or
// MOV-SS blocking ("Interruptibility State").
bool guest_can_take_interrupt() {
    using namespace sdm::interruptibility;
    if (!(hw::vmread(f::guest_rflags) & sdm::rflags::intf))
        return false;
    return (hw::vmread(f::guest_interruptibility) & (sti_blocking | mov_ss_blocking)) == 0;
}

void request_interrupt_window(es_vm& vm, bool on) {
    if (vm.interrupt_window == on)
        return;
    vm.interrupt_window = on;
    hw::vmwrite(f::proc_based_controls,
                core.controls.proc | (on ? sdm::proc_ctl::interrupt_window_exiting : 0));
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

void platform_reset(es_vm& vm) {
    vm.com1 = uart16550{};
    vm.pic = pic_pair{};
    vm.pit = pit8254{};
    pit_init(vm.pit, core.tsc_khz);
    vm.rtc = cmos_rtc{};
    vm.guest_pat = pat_reset_value;
    vm.interrupt_window = false;
    vm.vectoring_stale = true;
}

exit_action platform_io(exit_context& ctx, std::uint64_t qualification) {
    const sdm::io_qualification q = sdm::decode_io(qualification);
    if (!is_board_port(q.port))
        return handlers::plain_io(ctx, qualification);
    es_vm& vm = ctx.vm;
    const std::uint64_t now = hw::rdtsc();
    exit_action action = exit_action::skip;
    // Each byte of a wider access goes to the next port, as on the ISA bus.
    if (q.in) {
        std::uint64_t v = 0;
        for (unsigned i = 0; i < q.size; ++i)
            v |= std::uint64_t{read_port(vm, static_cast<std::uint16_t>(q.port + i), now)}
                 << (8 * i);
        const std::uint64_t mask = sdm::io_size_mask(q.size);
        // 32-bit results clear the upper half of RAX, narrower ones merge.
        vm.regs.rax = q.size == 4 ? v : ((vm.regs.rax & ~mask) | v);
        return action;
    }
    bool reset = false;
    for (unsigned i = 0; i < q.size; ++i) {
        const auto byte = static_cast<std::uint8_t>(vm.regs.rax >> (8 * i));
        if (!write_port(vm, static_cast<std::uint16_t>(q.port + i), byte, now, reset))
            action = exit_action::stop;
    }
    if (reset) {
        ctx.stop = {ES_STOP_RESET, 0, 0};
        action = exit_action::stop;
    } else if (action == exit_action::stop) {
        ctx.stop = {ES_STOP_CONSOLE_FULL, 0, 0};
    }
    return action;
}

void platform_before_entry(es_vm& vm) {
    using namespace sdm::interruption;
    // A fresh start state has no interrupted event, whatever the VMCS's exit fields still hold.
    const bool injecting =
        (!vm.vectoring_stale && reinject_interrupted_event()) ||
        (hw::vmread(f::entry_interruption_info) & valid) != 0; // a handler's exception
    vm.vectoring_stale = false;

    const std::uint64_t now = hw::rdtsc();
    if (now >= pit_irq0_deadline(vm.pit) && pit_expire(vm.pit, now)) {
        // Channel 0's output rises: an edge on IRQ0.
        pic_pulse_irq(vm.pic, irq_timer);
    }
    bool window = false;
    if (pic_has_interrupt(vm.pic)) {
        if (!injecting && guest_can_take_interrupt())
            hw::vmwrite(f::entry_interruption_info,
                        valid | (type_external << type_shift) | pic_acknowledge(vm.pic));
        else
            window = true; // exit as soon as the guest can take it
    }
    request_interrupt_window(vm, window);
    bound_run_by_timer(pit_irq0_deadline(vm.pit), now);
}

exit_action platform_hlt(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    if (pic_has_interrupt(vm.pic))
        return exit_action::skip; // the interrupt wakes it at once (platform_before_entry)
    const std::uint64_t deadline = pit_irq0_deadline(vm.pit);
    if (deadline == pit::no_deadline)
        return exit_action::skip;
    vm.idle_until = deadline;
    return exit_action::idle;
}

} // namespace es
