// VMCS contents. Every control comes from choose_controls() (capabilities.cpp); this file only
// writes fields, and says why where the SDM leaves a choice.
#include "vmcs_setup.hpp"

#include "core.hpp"
#include "efer_switch.hpp"
#include "pure/guest_modes.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/exit_qualification.hpp"
#include "sdm/msrs.hpp"
#include "sdm/vmx_controls.hpp"
#include "shadow_mmu.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

using f = sdm::vmcs_field;

// Accumulates VMWRITE failures so a sequence of writes can be checked once.
struct writer {
    bool ok = true;
    void operator()(f field, std::uint64_t value) { ok = hw::vmwrite(field, value) && ok; }
};

// CR0 bits the guest may not clear and sees through the read shadow instead.
// The preemption timer counts down once every 2^rate TSC ticks ("VMX-Preemption Timer"). A slice
// of 2^22 TSC ticks (the default) is a few milliseconds on hardware: long enough to cost nothing,
// short enough that a guest spinning with interrupts off still returns to the host promptly.
std::uint64_t timer_value(std::uint32_t slice_log2, std::uint32_t rate) {
    return slice_log2 > rate ? 1ull << (slice_log2 - rate) : 1;
}

std::uint64_t cr0_owned_bits(const es_vm& vm) {
    return cr0_guest_fixed1_bits(core.caps) | ~core.caps.cr0_fixed1 |
           (vm.shadow_paging ? shadow_cr0_bits : 0);
}

// CR4 bits the guest may not set (VMX and SMX belong to the host; CET would share the host's
// CET state, which no VMCS control switches here) or clear (fixed bits).
std::uint64_t cr4_owned_bits(const es_vm& vm) {
    return cr4_guest_fixed1_bits(core.caps) | ~core.caps.cr4_fixed1 | sdm::cr4::vmxe |
           sdm::cr4::smxe | sdm::cr4::cet | (vm.shadow_paging ? shadow_cr4_owned_bits : 0);
}

} // namespace

bool write_controls_and_host_constants(es_vcpu& vcpu) {
    const es_vm& vm = *vcpu.vm;
    writer w;
    const vm_controls& c = *vm.controls;
    w(f::pin_based_controls, c.pin);
    w(f::proc_based_controls, c.proc);
    if (core.caps.secondary) // the field exists only with secondary controls
        w(f::proc_based_controls2, c.proc2);
    w(f::exit_controls, c.exit);
    w(f::entry_controls, c.entry);
    // Guest exceptions stay in the guest, except a shadow-paging VM's #PFs: every one exits
    // (error-code mask and match 0), as most are the virtual TLB's misses.
    w(f::exception_bitmap, vm.shadow_paging ? 1u << sdm::vector::pf : 0);
    w(f::page_fault_error_mask, 0);
    w(f::page_fault_error_match, 0);
    w(f::cr3_target_count, 0);
    w(f::exit_msr_store_count, 0);
    w(f::exit_msr_load_count, 0);
    w(f::entry_msr_load_count, 0);
    w(f::entry_interruption_info, 0);
    w(f::msr_bitmap, vm.msr_bitmap.pa);
    if (runs_ept_guests(core.caps)) // a shadow VM keeps it unused; Core 2 has no such field
        w(f::ept_pointer, vm.ept.eptp);
    if (c.proc2 & sdm::proc_ctl2::enable_vpid)
        w(f::vpid, vcpu.vpid);
    if (c.proc2 & sdm::proc_ctl2::pause_loop_exiting) {
        w(f::ple_gap, ple_gap_ticks);
        w(f::ple_window, ple_window_ticks);
    }
    w(f::cr0_guest_host_mask, cr0_owned_bits(vm));
    w(f::cr4_guest_host_mask, cr4_owned_bits(vm));
    // Without shadow VMCS, the link pointer must be all ones ("Checks on Guest Non-Register
    // State").
    w(f::vmcs_link_pointer, ~0ull);

    // Host state that is the same on every CPU. Selectors must have RPL and TI clear; data
    // segments are null in 64-bit mode and the guest-section code restores the task's own.
    w(f::host_cs_selector, hw::read_cs());
    w(f::host_ss_selector, hw::read_ss());
    w(f::host_ds_selector, 0);
    w(f::host_es_selector, 0);
    w(f::host_fs_selector, 0);
    w(f::host_gs_selector, 0);
    w(f::host_tr_selector, hw::read_tr());
    w(f::host_cr0, hw::read_cr0());
    w(f::host_idtr_base, hw::sidt().base);
    w.ok = write_efer_switch(vcpu) && w.ok;
    w(f::host_sysenter_cs, hw::rdmsr(sdm::msr::sysenter_cs));
    w(f::host_sysenter_eip, hw::rdmsr(sdm::msr::sysenter_eip));
    w(f::host_rip, reinterpret_cast<std::uint64_t>(es_vmx_exit_landing));
    return w.ok;
}

void arm_preemption_timer() {
    // A full slice each time the host hands the CPU back; with the value saved at exits
    // (choose_controls), it runs down over the exits handled without a host turn; the run loop
    // bounds the turn by host time as well (run_loop.cpp, new_turn).
    if (core.controls.pin & sdm::pin_ctl::preemption_timer)
        hw::vmwrite_current(
            f::preemption_timer_value,
            timer_value(core.preemption_slice_log2, core.caps.preemption_timer_rate));
}

bool write_host_per_section(const es_vcpu& vcpu) {
    writer w;
    // Per CPU: GDT, TSS, per-CPU data (GS base), the SYSENTER stack. Per task or per moment:
    // CR3 (PCID), CR4 (Linux toggles bits at run time), the FS base of the calling thread.
    const auto gdt = hw::sgdt();
    w(f::host_gdtr_base, gdt.base);
    w(f::host_tr_base, hw::gdt_tss_base(gdt.base, hw::read_tr()));
    w(f::host_gs_base, hw::rdmsr(sdm::msr::gs_base));
    w(f::host_fs_base, vcpu.host.host_fs_base);
    w(f::host_sysenter_esp, hw::rdmsr(sdm::msr::sysenter_esp));
    w(f::host_cr3, hw::read_cr3());
    w(f::host_cr4, hw::read_cr4());
    return w.ok;
}

bool write_guest_start_state(es_vcpu& vcpu) {
    es_vm& vm = *vcpu.vm;
    guest_start_state g = initial_guest_state(vcpu.mode, vcpu.entry, vcpu.stack, vm.mem.bytes,
                                              cr0_guest_fixed1_bits(core.caps),
                                              cr4_guest_fixed1_bits(core.caps), vcpu.boot_params);
    if (vcpu.start_at_sipi)
        start_at_sipi_page(g, vcpu.entry);
    const auto write64 = [&vm](std::uint64_t gpa, std::uint64_t value) {
        *reinterpret_cast<std::uint64_t*>(guest_ptr(vm, gpa)) = value;
    };
    if (vcpu.mode == guest_mode::long64 || vcpu.mode == guest_mode::linux64)
        build_identity_tables(vm.mem.bytes, write64);
    if (vcpu.mode == guest_mode::linux64)
        build_linux_boot_gdt(vm.mem.bytes, write64);
    writer w;
    struct {
        f sel, base, limit, ar;
        const segment_state& s;
    } const segs[] = {
        {f::guest_cs_selector, f::guest_cs_base, f::guest_cs_limit, f::guest_cs_access_rights,
         g.cs},
        {f::guest_ss_selector, f::guest_ss_base, f::guest_ss_limit, f::guest_ss_access_rights,
         g.ss},
        {f::guest_ds_selector, f::guest_ds_base, f::guest_ds_limit, f::guest_ds_access_rights,
         g.ds},
        {f::guest_es_selector, f::guest_es_base, f::guest_es_limit, f::guest_es_access_rights,
         g.es},
        {f::guest_fs_selector, f::guest_fs_base, f::guest_fs_limit, f::guest_fs_access_rights,
         g.fs},
        {f::guest_gs_selector, f::guest_gs_base, f::guest_gs_limit, f::guest_gs_access_rights,
         g.gs},
        {f::guest_ldtr_selector, f::guest_ldtr_base, f::guest_ldtr_limit,
         f::guest_ldtr_access_rights, g.ldtr},
        {f::guest_tr_selector, f::guest_tr_base, f::guest_tr_limit, f::guest_tr_access_rights,
         g.tr},
    };
    for (const auto& s : segs) {
        w(s.sel, s.s.selector);
        w(s.base, s.s.base);
        w(s.limit, s.s.limit);
        w(s.ar, s.s.access);
    }
    w(f::guest_gdtr_base, g.gdtr_base);
    w(f::guest_gdtr_limit, g.gdtr_limit);
    w(f::guest_idtr_base, g.idtr_base);
    w(f::guest_idtr_limit, g.idtr_limit);
    w(f::cr0_read_shadow, g.cr0_shadow);
    w(f::cr4_read_shadow, g.cr4_shadow);
    if (vm.shadow_paging) {
        // The guest's CR3 and EFER.NXE are virtual; the hardware runs on the (empty) shadow root
        // with WP and NXE on and PGE off (shadow_mmu.hpp). The start state's tables are new.
        shadow_state& s = *vm.shadow;
        s.guest_cr3 = g.cr3;
        s.guest_nxe = (g.efer & sdm::efer::nxe) != 0;
        shadow_start_over(vcpu);
        w(f::guest_cr0, g.cr0 | shadow_cr0_bits);
        w(f::guest_cr3, s.table_pa(0));
        w(f::guest_cr4, g.cr4 & ~sdm::cr4::pge);
        set_guest_efer(vcpu, g.efer | sdm::efer::nxe);
    } else {
        w(f::guest_cr0, g.cr0);
        w(f::guest_cr3, g.cr3);
        w(f::guest_cr4, g.cr4);
        set_guest_efer(vcpu, g.efer);
    }
    w(f::guest_rip, g.rip);
    w(f::guest_rsp, g.rsp);
    w(f::guest_rflags, g.rflags);
    w(f::guest_dr7, sdm::dr7_reset);
    w(f::guest_debugctl, 0);
    w(f::guest_sysenter_cs, 0);
    w(f::guest_sysenter_esp, 0);
    w(f::guest_sysenter_eip, 0);
    w(f::guest_interruptibility, 0);
    w(f::guest_activity_state, static_cast<std::uint32_t>(sdm::activity_state::active));
    w(f::guest_pending_debug, 0);
    std::uint32_t entry = vm.controls->entry;
    if (g.ia32e)
        entry |= sdm::entry_ctl::ia32e_mode_guest;
    w(f::entry_controls, entry);
    // A fresh start: no event injected from the last run, no interrupt window asked for.
    w(f::entry_interruption_info, 0);
    w(f::proc_based_controls, vm.controls->proc);
    vcpu.interrupt_window = false;
    vcpu.regs = es_guest_regs{};
    vcpu.regs.rsi = g.rsi;
    return w.ok;
}

} // namespace es
