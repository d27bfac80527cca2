// Handlers for events and for instructions that need no emulation beyond a decision.
#include "apic_bus.hpp"
#include "core.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "irq_delivery.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/vmx_controls.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

using f = sdm::vmcs_field;

exit_action stop_with(exit_context& ctx, std::uint32_t stop, std::uint64_t code,
                      std::uint64_t gpa) {
    ctx.stop = {stop, code, gpa};
    return exit_action::stop;
}

namespace {

exit_action inject(std::uint8_t vector, bool error_code) {
    using namespace sdm::interruption;
    std::uint32_t info = valid | (type_hardware_exception << type_shift) | vector;
    // With unrestricted guest in real mode no error code may be delivered ("Checks on VM-Entry
    // Control Fields").
    if (error_code && (hw::vmread(f::guest_cr0) & sdm::cr0::pe)) {
        info |= deliver_error_code;
        hw::vmwrite(f::entry_exception_error_code, 0);
    }
    hw::vmwrite(f::entry_interruption_info, info);
    return exit_action::resume;
}

} // namespace

exit_action inject_ud(exit_context&) {
    return inject(sdm::vector::ud, false);
}
exit_action inject_gp(exit_context&) {
    return inject(sdm::vector::gp, true);
}

exit_action exception_or_nmi(exit_context& ctx) {
    using namespace sdm::interruption;
    const auto info = static_cast<std::uint32_t>(hw::vmread(f::exit_interruption_info));
    // NMI exiting sends host NMIs here; hand them to the host's NMI handler at once.
    if ((info & valid) && ((info >> type_shift) & type_mask) == type_nmi) {
        es_shim_deliver_nmi();
        return exit_action::resume;
    }
    // Only a shadow-paging VM intercepts an exception: #PF (its exception bitmap).
    if (ctx.vm.shadow_paging && (info & vector_mask) == sdm::vector::pf &&
        ((info >> type_shift) & type_mask) == type_hardware_exception)
        return shadow_page_fault(ctx);
    return unexpected(ctx); // an EPT VM's exception bitmap is zero: nothing else can arrive
}

// Interrupts stay pending (no acknowledge on exit); the run loop enables interrupts so the host
// handles them, then checks for signals and rescheduling.
exit_action external_interrupt(exit_context&) {
    return exit_action::check_host;
}
// The host's slice or, for a Linux guest, the PIT's deadline (irq_delivery.cpp raises IRQ0
// before the next entry).
exit_action preemption_timer(exit_context&) {
    return exit_action::check_host;
}

// A Linux guest can take the interrupt the PIC holds: deliver_board_interrupts injects it.
exit_action interrupt_window(exit_context&) {
    return exit_action::resume;
}

exit_action triple_fault(exit_context& ctx) {
    return stop_with(ctx, ES_STOP_TRIPLE_FAULT);
}
exit_action stop_unsupported(exit_context& ctx) {
    return stop_with(ctx, ES_STOP_UNHANDLED);
}
exit_action unexpected(exit_context& ctx) {
    return stop_with(ctx, ES_STOP_UNHANDLED);
}
exit_action entry_failure(exit_context& ctx) {
    return stop_with(ctx, ES_STOP_ENTRY_FAILED);
}

// With interrupts off HLT ends the run (a later run call continues after the HLT); in a VM of
// several vCPUs, only once every vCPU is halted so (apic_bus.hpp). With them on, a Linux guest
// waits for its board's timer (irq_delivery.cpp); a toy guest, which gets no interrupts, would
// wait forever: it goes on at once instead.
exit_action hlt(exit_context& ctx) {
    if (!(hw::vmread(f::guest_rflags) & sdm::rflags::intf)) {
        if (ctx.vm.has_lapic)
            return halt_with_interrupts_off(ctx);
        return stop_with(ctx, ES_STOP_HALTED);
    }
    if (ctx.vm.has_board)
        return wait_for_board_interrupt(ctx);
    return exit_action::skip;
}

// INVD and WBINVD: guest RAM is write-back host memory, so there is nothing to flush for it,
// and a guest must not be able to stall the host with cache flushes.
exit_action cache_flush(exit_context&) {
    return exit_action::skip;
}
// Every PAUSE exits in a VM of one vCPU. With PAUSE-loop exiting (several vCPUs) the exit says
// a spin outlasted its window: a host turn lets the vCPU it waits for run, if that one is
// waiting for this CPU; the PAUSE then runs again, as a hint it may.
exit_action pause(exit_context& ctx) {
    if (ctx.vm.controls->proc2 & sdm::proc_ctl2::pause_loop_exiting) [[unlikely]]
        return exit_action::check_host;
    return exit_action::skip;
}

// Host performance counters are host state: a guest gets #GP as on a CPU without them.
exit_action rdpmc(exit_context& ctx) {
    return inject_gp(ctx);
}

// The guest sees no VMX (CPUID hides it): every VMX instruction is #UD, as on such a CPU.
exit_action vmx_instruction(exit_context& ctx) {
    return inject_ud(ctx);
}
// MONITOR/MWAIT are hidden from the guest's CPUID too.
exit_action monitor_mwait(exit_context& ctx) {
    return inject_ud(ctx);
}

exit_action ept_violation(exit_context& ctx) {
    return stop_with(ctx, ES_STOP_EPT_VIOLATION, 0, hw::vmread(f::guest_physical_address));
}

exit_action ept_misconfig(exit_context& ctx) {
    return stop_with(ctx, ES_STOP_UNHANDLED, 0, hw::vmread(f::guest_physical_address));
}

std::uint64_t read_gpr(es_vcpu& vcpu, unsigned n) {
    auto& r = vcpu.regs;
    std::uint64_t* const regs[16] = {&r.rax, &r.rcx, &r.rdx, &r.rbx, nullptr, &r.rbp,
                                     &r.rsi, &r.rdi, &r.r8,  &r.r9,  &r.r10,  &r.r11,
                                     &r.r12, &r.r13, &r.r14, &r.r15};
    n &= 15;
    return regs[n] ? *regs[n] : hw::vmread(f::guest_rsp);
}

void write_gpr(es_vcpu& vcpu, unsigned n, std::uint64_t value) {
    auto& r = vcpu.regs;
    std::uint64_t* const regs[16] = {&r.rax, &r.rcx, &r.rdx, &r.rbx, nullptr, &r.rbp,
                                     &r.rsi, &r.rdi, &r.r8,  &r.r9,  &r.r10,  &r.r11,
                                     &r.r12, &r.r13, &r.r14, &r.r15};
    n &= 15;
    if (regs[n])
        *regs[n] = value;
    else
        hw::vmwrite(f::guest_rsp, value);
}

} // namespace es::handlers
