// Capability parsing and control choice. Pure logic: no kernel calls, unit-tested on the host.
#include "capabilities.hpp"

#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "sdm/vmx_controls.hpp"

namespace es {

namespace {

bool has(std::uint64_t value, std::uint64_t bit) {
    return (value & bit) != 0;
}

} // namespace

capabilities parse_capabilities(const vmx_msrs& m) {
    using namespace sdm;
    capabilities c{};
    const std::uint64_t basic = m.value[ES_MSR_BASIC];
    c.vmcs_revision = static_cast<std::uint32_t>(basic & vmx_basic::revision_mask);
    c.vmcs_region_size = static_cast<std::uint32_t>((basic >> vmx_basic::region_size_shift) &
                                                    vmx_basic::region_size_mask);
    c.vmcs_write_back = ((basic >> vmx_basic::memory_type_shift) & vmx_basic::memory_type_mask) ==
                        vmx_basic::memory_type_write_back;
    // With "true" controls the default-1 bits that may actually be 0 are reported separately
    // (appendix "VMX Capability Reporting Facility": use the TRUE MSRs when basic bit 55 is set).
    c.true_controls = has(basic, vmx_basic::true_controls);
    const bool t = c.true_controls;
    c.pin = decode_controls(m.value[t ? ES_MSR_TRUE_PINBASED : ES_MSR_PINBASED]);
    c.proc = decode_controls(m.value[t ? ES_MSR_TRUE_PROCBASED : ES_MSR_PROCBASED]);
    c.exit = decode_controls(m.value[t ? ES_MSR_TRUE_EXIT : ES_MSR_EXIT]);
    c.entry = decode_controls(m.value[t ? ES_MSR_TRUE_ENTRY : ES_MSR_ENTRY]);
    // The secondary controls (and the EPT/VPID capability MSR) exist only when the primary
    // controls allow "activate secondary controls".
    c.secondary = has(c.proc.may_be_one, proc_ctl::activate_secondary);
    c.proc2 = c.secondary ? decode_controls(m.value[ES_MSR_PROCBASED2]) : control_caps{0, 0};

    const std::uint64_t ev = c.secondary ? m.value[ES_MSR_EPT_VPID_CAP] : 0;
    c.ept = has(c.proc2.may_be_one, proc_ctl2::enable_ept);
    c.ept_4_level = c.ept && has(ev, ept_vpid_cap::page_walk_4);
    c.ept_write_back = c.ept && has(ev, ept_vpid_cap::memory_type_wb);
    c.ept_2mb = c.ept && has(ev, ept_vpid_cap::pde_2mb);
    c.ept_1gb = c.ept && has(ev, ept_vpid_cap::pdpte_1gb);
    c.ept_ad = c.ept && has(ev, ept_vpid_cap::accessed_dirty);
    c.invept = c.ept && has(ev, ept_vpid_cap::invept);
    c.invept_single = c.invept && has(ev, ept_vpid_cap::invept_single_context);
    c.invept_all = c.invept && has(ev, ept_vpid_cap::invept_all_context);
    c.vpid = has(c.proc2.may_be_one, proc_ctl2::enable_vpid);
    c.invvpid = c.vpid && has(ev, ept_vpid_cap::invvpid);
    c.invvpid_single = c.invvpid && has(ev, ept_vpid_cap::invvpid_single_context);
    c.invvpid_all = c.invvpid && has(ev, ept_vpid_cap::invvpid_all_context);
    c.unrestricted_guest = has(c.proc2.may_be_one, proc_ctl2::unrestricted_guest);
    c.efer_controls = has(c.exit.may_be_one, exit_ctl::load_efer) &&
                      has(c.exit.may_be_one, exit_ctl::save_efer) &&
                      has(c.entry.may_be_one, entry_ctl::load_efer);
    c.preemption_timer = has(c.pin.may_be_one, pin_ctl::preemption_timer);
    c.preemption_timer_rate =
        static_cast<std::uint8_t>(m.value[ES_MSR_MISC] & vmx_misc::preemption_timer_rate_mask);
    c.cr0_fixed0 = m.value[ES_MSR_CR0_FIXED0];
    c.cr0_fixed1 = m.value[ES_MSR_CR0_FIXED1];
    c.cr4_fixed0 = m.value[ES_MSR_CR4_FIXED0];
    c.cr4_fixed1 = m.value[ES_MSR_CR4_FIXED1];
    return c;
}

controls_choice choose_controls(const capabilities& caps) {
    using namespace sdm;
    controls_choice out{};
    if (caps.vmcs_region_size == 0 || caps.vmcs_region_size > ES_PAGE_SIZE)
        return {{}, "VMCS region size is not between 1 and 4096 bytes"};
    if (!caps.vmcs_write_back)
        return {{}, "VMCS memory type is not write-back"};
    // EPT (4-level, write-back), the EFER controls and unrestricted guest are used where the
    // CPU has them. Without EPT (Core 2) guests run under shadow paging only; without the EFER
    // controls, EFER is switched through the VM-entry and VM-exit MSR-load areas
    // (vmcs_setup.cpp); without unrestricted guest only paged guests (long mode, Linux) can run
    // (runs_ept_guests, runs_unpaged_modes).
    const bool runs_guests = runs_ept_guests(caps);
    const bool unrestricted = runs_unpaged_modes(caps);

    // Pin-based: host interrupts and NMIs always leave the guest, so the host keeps its CPU; the
    // preemption timer bounds every guest run even when the guest runs with interrupts off.
    const auto pin = adjust_controls(
        caps.pin, pin_ctl::external_interrupt_exiting | pin_ctl::nmi_exiting,
        pin_ctl::preemption_timer, pin_ctl::posted_interrupts | pin_ctl::virtual_nmis);
    // Primary: trap everything that would let the guest touch host state or devices: I/O ports,
    // MSRs (through an all-ones bitmap), debug registers, CR8 (the host's TPR), performance
    // counters, MONITOR/MWAIT. HLT ends a run. CR3 stays with the guest (EPT translates it).
    const std::uint32_t proc_required =
        proc_ctl::hlt_exiting | proc_ctl::unconditional_io_exiting | proc_ctl::use_msr_bitmaps |
        proc_ctl::mov_dr_exiting | proc_ctl::cr8_load_exiting | proc_ctl::cr8_store_exiting |
        proc_ctl::rdpmc_exiting | proc_ctl::mwait_exiting | proc_ctl::monitor_exiting |
        (caps.secondary ? proc_ctl::activate_secondary : 0);
    const std::uint32_t proc_forbidden =
        proc_ctl::interrupt_window_exiting | proc_ctl::nmi_window_exiting |
        proc_ctl::monitor_trap_flag | proc_ctl::rdtsc_exiting | proc_ctl::invlpg_exiting |
        proc_ctl::cr3_load_exiting | proc_ctl::cr3_store_exiting | proc_ctl::use_tpr_shadow |
        proc_ctl::use_io_bitmaps | proc_ctl::tsc_offsetting;
    const auto proc =
        adjust_controls(caps.proc, proc_required, proc_ctl::pause_exiting, proc_forbidden);
    // Secondary: EPT confines the guest to its RAM; unrestricted guest runs real mode natively.
    // Instructions we do not enable (RDTSCP, INVPCID, XSAVES, VMFUNC) raise #UD in the guest.
    const std::uint32_t proc2_forbidden =
        proc_ctl2::virtualize_apic_accesses | proc_ctl2::descriptor_table_exiting |
        proc_ctl2::enable_rdtscp | proc_ctl2::enable_invpcid | proc_ctl2::enable_vmfunc |
        proc_ctl2::enable_pml | proc_ctl2::enable_xsaves | proc_ctl2::rdrand_exiting |
        proc_ctl2::rdseed_exiting | proc_ctl2::pause_loop_exiting;
    const auto proc2 =
        caps.secondary
            ? adjust_controls(caps.proc2,
                              (runs_guests ? proc_ctl2::enable_ept : 0) |
                                  (unrestricted ? proc_ctl2::unrestricted_guest : 0),
                              (caps.vpid ? proc_ctl2::enable_vpid : 0) | proc_ctl2::wbinvd_exiting,
                              // A CPU that forces on EPT it cannot describe (no 4-level
                              // walk, no write-back) or unrestricted guest without EPT is
                              // refused: the VMCS would need an EPT pointer we cannot build.
                              proc2_forbidden | (runs_guests ? 0 : proc_ctl2::enable_ept) |
                                  (unrestricted ? 0 : proc_ctl2::unrestricted_guest))
            : adjusted_controls{};
    // Exit: return to a 64-bit host with its own EFER; leave interrupts unacknowledged so the
    // host's handler takes them when it enables interrupts. Saving the preemption timer's value
    // makes it count guest time across the exits handled without a host turn, so it bounds
    // the guest's time between two turns of the host, not one stretch without exits (a guest
    // that spins on CPUID with interrupts off would otherwise never let the host back in where
    // host interrupts do not exit for it, as in Bochs). The SDM allows the save control only
    // with the timer active ("VM-Exit Control Fields" checks).
    const std::uint32_t save_timer =
        (pin.value & pin_ctl::preemption_timer) ? exit_ctl::save_preemption_timer : 0;
    const std::uint32_t exit_efer =
        caps.efer_controls ? exit_ctl::load_efer | exit_ctl::save_efer : 0;
    const auto exit = adjust_controls(
        caps.exit, exit_ctl::host_address_space_size | exit_ctl::save_debug_controls | exit_efer,
        save_timer,
        exit_ctl::ack_interrupt_on_exit | exit_ctl::load_perf_global_ctrl |
            (save_timer ? 0 : exit_ctl::save_preemption_timer));
    // Entry loads the guest's DR7 and DEBUGCTL, so host breakpoints never fire inside a guest.
    const auto entry = adjust_controls(
        caps.entry,
        entry_ctl::load_debug_controls | (caps.efer_controls ? entry_ctl::load_efer : 0), 0,
        entry_ctl::entry_to_smm | entry_ctl::ia32e_mode_guest | entry_ctl::load_perf_global_ctrl);
    if (!(caps.entry.may_be_one & entry_ctl::ia32e_mode_guest))
        return {{}, "VM entry cannot enter IA-32e mode guests"};

    struct {
        const adjusted_controls& r;
        const char* what;
    } const checks[] = {{pin, "pin-based controls"},
                        {proc, "primary processor-based controls"},
                        {proc2, "secondary processor-based controls"},
                        {exit, "VM-exit controls"},
                        {entry, "VM-entry controls"}};
    for (const auto& c : checks)
        if (!c.r.ok())
            return {{}, c.what};

    out.controls = {pin.value,   proc.value,
                    proc2.value, exit.value,
                    entry.value, caps.proc.may_be_one & proc_ctl::interrupt_window_exiting};
    out.problem = nullptr;
    return out;
}

controls_choice shadow_paging_controls(const capabilities& caps, const vm_controls& base) {
    using namespace sdm;
    // The virtual TLB sees every change of the guest's address space: CR3 loads (the shadow
    // tables start over), CR3 stores (the guest reads its own CR3, not the shadow root) and
    // INVLPG (the shadow entries for the address go).
    const std::uint32_t proc_added =
        proc_ctl::invlpg_exiting | proc_ctl::cr3_load_exiting | proc_ctl::cr3_store_exiting;
    const std::uint32_t proc2_removed = proc_ctl2::enable_ept | proc_ctl2::unrestricted_guest;
    if (proc_added & ~caps.proc.may_be_one)
        return {{}, "VMX cannot make INVLPG and CR3 accesses exit: no shadow paging"};
    if (proc2_removed & caps.proc2.must_be_one)
        return {{}, "VMX forces EPT or unrestricted guest on: no shadow paging"};
    vm_controls c = base;
    c.proc |= proc_added;
    c.proc2 &= ~proc2_removed;
    return {c, nullptr};
}

vm_controls smp_controls(const capabilities& caps, const vm_controls& base) {
    using namespace sdm;
    if (!caps.secondary || !(caps.proc2.may_be_one & proc_ctl2::pause_loop_exiting) ||
        (caps.proc.must_be_one & proc_ctl::pause_exiting))
        return base;
    vm_controls c = base;
    c.proc &= ~proc_ctl::pause_exiting;
    c.proc2 |= proc_ctl2::pause_loop_exiting;
    return c;
}

std::uint64_t cr0_guest_fixed1_bits(const capabilities& caps) {
    if (!runs_unpaged_modes(caps))
        return caps.cr0_fixed0;
    return caps.cr0_fixed0 & ~(sdm::cr0::pe | sdm::cr0::pg);
}

bool runs_ept_guests(const capabilities& caps) {
    return caps.secondary && caps.ept && caps.ept_4_level && caps.ept_write_back;
}

const char* why_no_ept_guests(const capabilities& caps) {
    if (runs_ept_guests(caps))
        return nullptr;
    return "this CPU's VMX has no EPT (4-level, write-back): guests run under shadow paging "
           "only (run --paging shadow, the default here)";
}

const char* why_no_guests(const capabilities& caps) {
    if (runs_ept_guests(caps))
        return nullptr;
    constexpr std::uint32_t shadow_exits = sdm::proc_ctl::invlpg_exiting |
                                           sdm::proc_ctl::cr3_load_exiting |
                                           sdm::proc_ctl::cr3_store_exiting;
    if ((caps.proc.may_be_one & shadow_exits) != shadow_exits)
        return "this CPU's VMX has no EPT (4-level, write-back) and cannot make INVLPG and CR3 "
               "accesses exit for shadow paging: Exitscope cannot run guests on it (exitscope "
               "info shows its capabilities)";
    return nullptr;
}

bool can_run_guests(const capabilities& caps) {
    return why_no_guests(caps) == nullptr;
}

bool runs_unpaged_modes(const capabilities& caps) {
    return runs_ept_guests(caps) && caps.unrestricted_guest;
}
std::uint64_t cr0_guest_allowed_bits(const capabilities& caps) {
    return caps.cr0_fixed1;
}
std::uint64_t cr4_guest_fixed1_bits(const capabilities& caps) {
    return caps.cr4_fixed0;
}
std::uint64_t cr4_guest_allowed_bits(const capabilities& caps) {
    return caps.cr4_fixed1;
}

} // namespace es
