// RDMSR, WRMSR and XSETBV. The MSR bitmap traps every MSR; msr_policy.hpp says which the guest
// may use and how; everything else is #GP, so no guest value ever reaches a host MSR.
#include "apic_bus.hpp"
#include "core.hpp"
#include "efer_switch.hpp"
#include "exit_handlers.hpp"
#include "pure/msr_policy.hpp"
#include "sdm/cpu_bits.hpp"
#include "shadow_mmu.hpp"
#include "stats.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

namespace {

using f = sdm::vmcs_field;

msr_set guest_msr_set(const es_vm& vm) {
    return vm.has_board ? msr_set::board : msr_set::toy;
}

std::uint64_t edx_eax(const es_vcpu& vcpu) {
    return (vcpu.regs.rdx << 32) | static_cast<std::uint32_t>(vcpu.regs.rax);
}

exit_action write_efer(exit_context& ctx, std::uint64_t v) {
    const std::uint64_t cur = guest_efer(ctx.vcpu);
    // LMA is read-only; LME may not change while paging is on ("IA32_EFER MSR").
    const std::uint64_t wanted = v & ~sdm::efer::lma;
    if (wanted & ~guest_writable_efer(guest_msr_set(ctx.vm)))
        return inject_gp(ctx);
    if ((cur & sdm::efer::lma) != 0 && !(wanted & sdm::efer::lme))
        return inject_gp(ctx);
    if (ctx.vm.shadow_paging) {
        // The hardware keeps NXE = 1 (XD of the shadow entries); the guest's own NXE decides
        // the rights the shadow entries get, so a change starts them over.
        shadow_state& s = *ctx.vm.shadow;
        const bool nxe = (wanted & sdm::efer::nxe) != 0;
        if (nxe != s.guest_nxe) {
            s.guest_nxe = nxe;
            shadow_start_over(ctx.vcpu);
        }
        set_guest_efer(ctx.vcpu, wanted | (cur & sdm::efer::lma) | sdm::efer::nxe);
        return exit_action::skip;
    }
    set_guest_efer(ctx.vcpu, wanted | (cur & sdm::efer::lma));
    return exit_action::skip;
}

// The EFER the guest believes it has: a shadow-paging VM's hardware NXE is always 1.
std::uint64_t read_efer(const exit_context& ctx) {
    const std::uint64_t hw_efer = guest_efer(ctx.vcpu);
    if (!ctx.vm.shadow_paging)
        return hw_efer;
    return (hw_efer & ~sdm::efer::nxe) | (ctx.vm.shadow->guest_nxe ? sdm::efer::nxe : 0);
}

exit_action write_base(exit_context& ctx, f field, std::uint64_t v) {
    if (!is_canonical(v))
        return inject_gp(ctx);
    hw::vmwrite(field, v);
    return exit_action::skip;
}

f sysenter_field(std::uint32_t number) {
    switch (static_cast<sdm::msr>(number)) {
    case sdm::msr::sysenter_cs:
        return f::guest_sysenter_cs;
    case sdm::msr::sysenter_esp:
        return f::guest_sysenter_esp;
    default:
        return f::guest_sysenter_eip;
    }
}

exit_action write_syscall_msr(exit_context& ctx, std::uint32_t number, std::uint64_t v) {
    if (syscall_msr_write_faults(number, v))
        return inject_gp(ctx);
    // The section runs with the guest's values loaded (es_shim_begin_guest_section).
    ctx.vcpu.host.guest_syscall[syscall_msr_index(number)] = v;
    hw::wrmsr(static_cast<sdm::msr>(number), v);
    return exit_action::skip;
}

// An MSR no rule covers: #GP, and the flight recorder's entry for this exit names it in its
// qualification field (which RDMSR and WRMSR exits leave 0), so `trace` shows what the guest
// wanted. Out of line: its call into the statistics would make the handlers save registers on
// every MSR exit.
[[gnu::noinline]] exit_action unemulated_msr(exit_context& ctx, std::uint32_t number) {
    if (core.instrument >= instrument_level::recorder)
        recorder_of(ctx.cpu).last.newest().qualification = number;
    return inject_gp(ctx);
}

} // namespace

exit_action rdmsr(exit_context& ctx) {
    es_vcpu& vcpu = ctx.vcpu;
    std::uint64_t v = 0;
    const auto number = static_cast<std::uint32_t>(vcpu.regs.rcx);
    if (ctx.vm.has_lapic && lapic_handles_msr(number)) [[unlikely]]
        return apic_rdmsr(ctx, number);
    switch (rule_for_msr(number, guest_msr_set(ctx.vm))) {
    case msr_rule::efer:
        v = read_efer(ctx);
        break;
    case msr_rule::sysenter:
        v = hw::vmread(sysenter_field(number));
        break;
    case msr_rule::kernel_gs_base:
        v = hw::rdmsr(sdm::msr::kernel_gs_base); // the guest's, during its section
        break;
    case msr_rule::syscall:
        v = vcpu.host.guest_syscall[syscall_msr_index(number)];
        break;
    case msr_rule::pat:
        v = vcpu.guest_pat;
        break;
    case msr_rule::fs_base:
        v = hw::vmread(f::guest_fs_base);
        break;
    case msr_rule::gs_base:
        v = hw::vmread(f::guest_gs_base);
        break;
    case msr_rule::misc_enable:
        v = guest_misc_enable;
        break;
    case msr_rule::ucode_rev:
        break;
    case msr_rule::gp:
        return unemulated_msr(ctx, number);
    }
    vcpu.regs.rax = static_cast<std::uint32_t>(v);
    vcpu.regs.rdx = v >> 32;
    return exit_action::skip;
}

exit_action wrmsr(exit_context& ctx) {
    es_vcpu& vcpu = ctx.vcpu;
    const std::uint64_t v = edx_eax(vcpu);
    const auto number = static_cast<std::uint32_t>(vcpu.regs.rcx);
    if (ctx.vm.has_lapic && lapic_handles_msr(number)) [[unlikely]]
        return apic_wrmsr(ctx, number, v);
    switch (rule_for_msr(number, guest_msr_set(ctx.vm))) {
    case msr_rule::efer:
        return write_efer(ctx, v);
    case msr_rule::sysenter:
        if (number == sdm::to_number(sdm::msr::sysenter_cs)) {
            hw::vmwrite(f::guest_sysenter_cs, static_cast<std::uint32_t>(v));
            return exit_action::skip;
        }
        return write_base(ctx, sysenter_field(number), v);
    case msr_rule::kernel_gs_base:
        if (!is_canonical(v))
            return inject_gp(ctx);
        hw::wrmsr(sdm::msr::kernel_gs_base, v);
        return exit_action::skip;
    case msr_rule::syscall:
        return write_syscall_msr(ctx, number, v);
    case msr_rule::pat:
        if (!is_valid_pat(v))
            return inject_gp(ctx);
        vcpu.guest_pat = v;
        return exit_action::skip;
    case msr_rule::fs_base:
        return write_base(ctx, f::guest_fs_base, v);
    case msr_rule::gs_base:
        return write_base(ctx, f::guest_gs_base, v);
    case msr_rule::misc_enable:
        return v == guest_misc_enable ? exit_action::skip : inject_gp(ctx);
    case msr_rule::ucode_rev:
        return exit_action::skip;
    case msr_rule::gp:
        break;
    }
    return unemulated_msr(ctx, number);
}

// XSETBV always exits. A valid XCR0 has x87 set, AVX only with SSE, and only features the host
// enabled ("XSETBV"); anything else is #GP. A valid one goes into the hardware at once (the
// guest's XCR0 is loaded for its whole section) and is kept for its next sections.
exit_action xsetbv(exit_context& ctx) {
    es_vcpu& vcpu = ctx.vcpu;
    const std::uint64_t value = edx_eax(vcpu);
    using namespace sdm;
    if (static_cast<std::uint32_t>(vcpu.regs.rcx) != 0 || !(value & xcr0::x87) ||
        ((value & xcr0::avx) && !(value & xcr0::sse)) || (value & ~core.host_xcr0))
        return inject_gp(ctx);
    vcpu.host.guest_xcr0 = value;
    hw::xsetbv_xcr0(value);
    return exit_action::skip;
}

} // namespace es::handlers
