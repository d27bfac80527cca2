// The SDM's names of the control bits in vmx_controls.hpp, per control word, in bit order: what
// `exitscope info` lists.
//
// Source: Intel SDM, Volume 3, "VM-Execution Control Fields", "VM-Exit Control Fields" and
// "VM-Entry Control Fields" (order number 325462-080US, June 2023).
#pragma once

#include <cstdint>
#include <span>

#include "sdm/vmx_controls.hpp"

namespace sdm {

struct control_name {
    std::uint32_t mask; // one bit of its control word
    const char* name;
};

namespace control_names {

inline constexpr control_name pin[] = {
    {pin_ctl::external_interrupt_exiting, "External-interrupt exiting"},
    {pin_ctl::nmi_exiting, "NMI exiting"},
    {pin_ctl::virtual_nmis, "Virtual NMIs"},
    {pin_ctl::preemption_timer, "Activate VMX-preemption timer"},
    {pin_ctl::posted_interrupts, "Process posted interrupts"},
};

inline constexpr control_name proc[] = {
    {proc_ctl::interrupt_window_exiting, "Interrupt-window exiting"},
    {proc_ctl::tsc_offsetting, "Use TSC offsetting"},
    {proc_ctl::hlt_exiting, "HLT exiting"},
    {proc_ctl::invlpg_exiting, "INVLPG exiting"},
    {proc_ctl::mwait_exiting, "MWAIT exiting"},
    {proc_ctl::rdpmc_exiting, "RDPMC exiting"},
    {proc_ctl::rdtsc_exiting, "RDTSC exiting"},
    {proc_ctl::cr3_load_exiting, "CR3-load exiting"},
    {proc_ctl::cr3_store_exiting, "CR3-store exiting"},
    {proc_ctl::cr8_load_exiting, "CR8-load exiting"},
    {proc_ctl::cr8_store_exiting, "CR8-store exiting"},
    {proc_ctl::use_tpr_shadow, "Use TPR shadow"},
    {proc_ctl::nmi_window_exiting, "NMI-window exiting"},
    {proc_ctl::mov_dr_exiting, "MOV-DR exiting"},
    {proc_ctl::unconditional_io_exiting, "Unconditional I/O exiting"},
    {proc_ctl::use_io_bitmaps, "Use I/O bitmaps"},
    {proc_ctl::monitor_trap_flag, "Monitor trap flag"},
    {proc_ctl::use_msr_bitmaps, "Use MSR bitmaps"},
    {proc_ctl::monitor_exiting, "MONITOR exiting"},
    {proc_ctl::pause_exiting, "PAUSE exiting"},
    {proc_ctl::activate_secondary, "Activate secondary controls"},
};

inline constexpr control_name proc2[] = {
    {proc_ctl2::virtualize_apic_accesses, "Virtualize APIC accesses"},
    {proc_ctl2::enable_ept, "Enable EPT"},
    {proc_ctl2::descriptor_table_exiting, "Descriptor-table exiting"},
    {proc_ctl2::enable_rdtscp, "Enable RDTSCP"},
    {proc_ctl2::virtualize_x2apic, "Virtualize x2APIC mode"},
    {proc_ctl2::enable_vpid, "Enable VPID"},
    {proc_ctl2::wbinvd_exiting, "WBINVD exiting"},
    {proc_ctl2::unrestricted_guest, "Unrestricted guest"},
    {proc_ctl2::apic_register_virtualization, "APIC-register virtualization"},
    {proc_ctl2::virtual_interrupt_delivery, "Virtual-interrupt delivery"},
    {proc_ctl2::pause_loop_exiting, "PAUSE-loop exiting"},
    {proc_ctl2::rdrand_exiting, "RDRAND exiting"},
    {proc_ctl2::enable_invpcid, "Enable INVPCID"},
    {proc_ctl2::enable_vmfunc, "Enable VM functions"},
    {proc_ctl2::vmcs_shadowing, "VMCS shadowing"},
    {proc_ctl2::rdseed_exiting, "RDSEED exiting"},
    {proc_ctl2::enable_pml, "Enable PML"},
    {proc_ctl2::ept_violation_ve, "EPT-violation #VE"},
    {proc_ctl2::enable_xsaves, "Enable XSAVES/XRSTORS"},
    {proc_ctl2::use_tsc_scaling, "Use TSC scaling"},
};

inline constexpr control_name vm_exit[] = {
    {exit_ctl::save_debug_controls, "Save debug controls"},
    {exit_ctl::host_address_space_size, "Host address-space size"},
    {exit_ctl::load_perf_global_ctrl, "Load IA32_PERF_GLOBAL_CTRL"},
    {exit_ctl::ack_interrupt_on_exit, "Acknowledge interrupt on exit"},
    {exit_ctl::save_pat, "Save IA32_PAT"},
    {exit_ctl::load_pat, "Load IA32_PAT"},
    {exit_ctl::save_efer, "Save IA32_EFER"},
    {exit_ctl::load_efer, "Load IA32_EFER"},
    {exit_ctl::save_preemption_timer, "Save VMX-preemption timer value"},
};

inline constexpr control_name vm_entry[] = {
    {entry_ctl::load_debug_controls, "Load debug controls"},
    {entry_ctl::ia32e_mode_guest, "IA-32e mode guest"},
    {entry_ctl::entry_to_smm, "Entry to SMM"},
    {entry_ctl::load_perf_global_ctrl, "Load IA32_PERF_GLOBAL_CTRL"},
    {entry_ctl::load_pat, "Load IA32_PAT"},
    {entry_ctl::load_efer, "Load IA32_EFER"},
};

// Each entry names exactly one bit, and the bits rise (the listing order).
constexpr bool one_bit_each_rising(std::span<const control_name> names) {
    std::uint32_t prev = 0;
    for (const auto& n : names) {
        if (n.mask == 0 || (n.mask & (n.mask - 1)) != 0 || n.mask <= prev)
            return false;
        prev = n.mask;
    }
    return true;
}
static_assert(one_bit_each_rising(pin) && one_bit_each_rising(proc) && one_bit_each_rising(proc2) &&
              one_bit_each_rising(vm_exit) && one_bit_each_rising(vm_entry));

} // namespace control_names

} // namespace sdm
