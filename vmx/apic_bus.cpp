// The local APICs of a several-vCPU Linux guest (apic_bus.hpp).
#include "apic_bus.hpp"

#include "board_guard.hpp"
#include "core.hpp"
#include "exit_handlers.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

// The APIC timer's input clock: CPUID 0x15's crystal (cpuid/linux_leaves.hpp, 1 kHz), from which
// Linux derives the timer's rate (lapic_timer_period) instead of calibrating it.
constexpr std::uint64_t timer_bus_khz = 1;

// Deliver `m` to every vCPU it names, the sender's own APIC included; each target that got
// something is kicked (woken, or made to exit where it runs) so that it looks before its next
// entry. Lowest-priority messages go to their lowest-numbered destination, as to a fixed one
// (board/local_apic.hpp).
void route(es_vm& vm, const es_vcpu& sender, const lapic_ipi& m) {
    for (std::uint32_t i = 0; i < vm.nr_vcpus; ++i) {
        es_vcpu& target = vm.vcpus[i];
        if (!lapic_is_destination(target.apic, m))
            continue;
        switch (lapic_receive(target.apic, m)) {
        case lapic_event::none:
            break;
        case lapic_event::nmi:
            target.nmi_pending = true;
            [[fallthrough]];
        case lapic_event::interrupt:
        case lapic_event::init: // it stops at its next entry and waits (run_loop.cpp)
            if (&target != &sender)
                kick_vcpu(target);
            break;
        case lapic_event::startup:
            target.sipi_pending = true;
            kick_vcpu(target);
            break;
        }
        if (m.mode == sdm::apic::delivery::lowest_priority)
            return;
    }
}

} // namespace

void apic_bus_reset(es_vm& vm) {
    for (std::uint32_t i = 0; i < vm.nr_vcpus; ++i) {
        es_vcpu& v = vm.vcpus[i];
        lapic_power_on(v.apic, i, core.tsc_khz, timer_bus_khz);
        v.nmi_pending = v.sipi_pending = v.start_at_sipi = false;
    }
    lapic_set_virtual_wire(vm.vcpus[0].apic);
}

exit_action apic_rdmsr(exit_context& ctx, std::uint32_t msr) {
    const board_guard g{ctx.vm};
    const lapic_rdmsr_result r = lapic_rdmsr(ctx.vcpu.apic, msr, hw::rdtsc());
    if (r.gp)
        return handlers::inject_gp(ctx);
    ctx.vcpu.regs.rax = static_cast<std::uint32_t>(r.value);
    ctx.vcpu.regs.rdx = r.value >> 32;
    return exit_action::skip;
}

exit_action apic_wrmsr(exit_context& ctx, std::uint32_t msr, std::uint64_t value) {
    const board_guard g{ctx.vm};
    const lapic_wrmsr_result r = lapic_wrmsr(ctx.vcpu.apic, msr, value, hw::rdtsc());
    if (r.gp)
        return handlers::inject_gp(ctx);
    if (r.sent_ipi)
        route(ctx.vm, ctx.vcpu, r.ipi);
    return exit_action::skip;
}

void start_from_sipi(es_vcpu& vcpu) {
    const std::uint64_t page = std::uint64_t{vcpu.apic.sipi_vector} << 12;
    restart_vcpu(vcpu, guest_mode::real, page, 0, 0);
    vcpu.start_at_sipi = true;
}

namespace {
// Nothing but another vCPU could make `vcpu` run again: it is parked with no NMI or SIPI on the
// way, or waits for a SIPI. The caller holds the board lock.
bool stays_halted_locked(const es_vcpu& vcpu) {
    if (vcpu.apic.state == vcpu_run_state::wait_for_sipi)
        return !vcpu.sipi_pending;
    return vcpu.parked && !vcpu.nmi_pending && !vcpu.sipi_pending;
}
} // namespace

exit_action halt_with_interrupts_off(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    {
        // Under the board lock: of two vCPUs halting at once, the second sees the first parked.
        const board_guard g{vm};
        bool last = true;
        for (std::uint32_t i = 0; i < vm.nr_vcpus && last; ++i)
            last = &vm.vcpus[i] == &ctx.vcpu || stays_halted_locked(vm.vcpus[i]);
        if (!last) {
            ctx.vcpu.parked = true; // until its next entry (deliver_board_interrupts)
            ctx.vcpu.idle_until = lapic::no_deadline;
            return exit_action::idle;
        }
    }
    return handlers::stop_with(ctx, ES_STOP_HALTED);
}

bool wakeup_pending_locked(const es_vcpu& vcpu, std::uint64_t now_tsc) {
    const es_vm& vm = *vcpu.vm;
    if (__atomic_load_n(&vm.stopped, __ATOMIC_ACQUIRE))
        return true;
    if (vcpu.parked)
        return vcpu.nmi_pending || vcpu.sipi_pending ||
               vcpu.apic.state == vcpu_run_state::wait_for_sipi;
    if (vcpu.index == 0) {
        const bool pic_open = !vm.has_lapic || lapic_pic_input_open(vcpu.apic);
        if ((pic_open && board_has_interrupt(vm.board)) ||
            serial_input_deliverable(vm.input, vm.board))
            return true;
    }
    if (!vm.has_lapic)
        return false;
    return vcpu.nmi_pending || vcpu.sipi_pending || lapic_pending_vector(vcpu.apic) >= 0 ||
           lapic_next_deadline(vcpu.apic) <= now_tsc;
}

} // namespace es
