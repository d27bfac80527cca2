// VM-execution, VM-exit and VM-entry control bits.
//
// Source: Intel SDM, Volume 3, chapter "VM-Execution Control Fields", "VM-Exit Control Fields" and
// "VM-Entry Control Fields" (order number 325462-080US, June 2023).
#pragma once

#include <cstdint>

namespace sdm {

namespace pin_ctl {
inline constexpr std::uint32_t external_interrupt_exiting = 1u << 0;
inline constexpr std::uint32_t nmi_exiting = 1u << 3;
inline constexpr std::uint32_t virtual_nmis = 1u << 5;
inline constexpr std::uint32_t preemption_timer = 1u << 6;
inline constexpr std::uint32_t posted_interrupts = 1u << 7;
} // namespace pin_ctl

namespace proc_ctl {
inline constexpr std::uint32_t interrupt_window_exiting = 1u << 2;
inline constexpr std::uint32_t tsc_offsetting = 1u << 3;
inline constexpr std::uint32_t hlt_exiting = 1u << 7;
inline constexpr std::uint32_t invlpg_exiting = 1u << 9;
inline constexpr std::uint32_t mwait_exiting = 1u << 10;
inline constexpr std::uint32_t rdpmc_exiting = 1u << 11;
inline constexpr std::uint32_t rdtsc_exiting = 1u << 12;
inline constexpr std::uint32_t cr3_load_exiting = 1u << 15;
inline constexpr std::uint32_t cr3_store_exiting = 1u << 16;
inline constexpr std::uint32_t cr8_load_exiting = 1u << 19;
inline constexpr std::uint32_t cr8_store_exiting = 1u << 20;
inline constexpr std::uint32_t use_tpr_shadow = 1u << 21;
inline constexpr std::uint32_t nmi_window_exiting = 1u << 22;
inline constexpr std::uint32_t mov_dr_exiting = 1u << 23;
inline constexpr std::uint32_t unconditional_io_exiting = 1u << 24;
inline constexpr std::uint32_t use_io_bitmaps = 1u << 25;
inline constexpr std::uint32_t monitor_trap_flag = 1u << 27;
inline constexpr std::uint32_t use_msr_bitmaps = 1u << 28;
inline constexpr std::uint32_t monitor_exiting = 1u << 29;
inline constexpr std::uint32_t pause_exiting = 1u << 30;
inline constexpr std::uint32_t activate_secondary = 1u << 31;
} // namespace proc_ctl

namespace proc_ctl2 {
inline constexpr std::uint32_t virtualize_apic_accesses = 1u << 0;
inline constexpr std::uint32_t enable_ept = 1u << 1;
inline constexpr std::uint32_t descriptor_table_exiting = 1u << 2;
inline constexpr std::uint32_t enable_rdtscp = 1u << 3;
inline constexpr std::uint32_t virtualize_x2apic = 1u << 4;
inline constexpr std::uint32_t enable_vpid = 1u << 5;
inline constexpr std::uint32_t wbinvd_exiting = 1u << 6;
inline constexpr std::uint32_t unrestricted_guest = 1u << 7;
inline constexpr std::uint32_t apic_register_virtualization = 1u << 8;
inline constexpr std::uint32_t virtual_interrupt_delivery = 1u << 9;
inline constexpr std::uint32_t pause_loop_exiting = 1u << 10;
inline constexpr std::uint32_t rdrand_exiting = 1u << 11;
inline constexpr std::uint32_t enable_invpcid = 1u << 12;
inline constexpr std::uint32_t enable_vmfunc = 1u << 13;
inline constexpr std::uint32_t vmcs_shadowing = 1u << 14;
inline constexpr std::uint32_t rdseed_exiting = 1u << 16;
inline constexpr std::uint32_t enable_pml = 1u << 17;
inline constexpr std::uint32_t ept_violation_ve = 1u << 18;
inline constexpr std::uint32_t enable_xsaves = 1u << 20;
inline constexpr std::uint32_t use_tsc_scaling = 1u << 25;
} // namespace proc_ctl2

namespace exit_ctl {
inline constexpr std::uint32_t save_debug_controls = 1u << 2;
inline constexpr std::uint32_t host_address_space_size = 1u << 9;
inline constexpr std::uint32_t load_perf_global_ctrl = 1u << 12;
inline constexpr std::uint32_t ack_interrupt_on_exit = 1u << 15;
inline constexpr std::uint32_t save_pat = 1u << 18;
inline constexpr std::uint32_t load_pat = 1u << 19;
inline constexpr std::uint32_t save_efer = 1u << 20;
inline constexpr std::uint32_t load_efer = 1u << 21;
inline constexpr std::uint32_t save_preemption_timer = 1u << 22;
} // namespace exit_ctl

namespace entry_ctl {
inline constexpr std::uint32_t load_debug_controls = 1u << 2;
inline constexpr std::uint32_t ia32e_mode_guest = 1u << 9;
inline constexpr std::uint32_t entry_to_smm = 1u << 10;
inline constexpr std::uint32_t load_perf_global_ctrl = 1u << 13;
inline constexpr std::uint32_t load_pat = 1u << 14;
inline constexpr std::uint32_t load_efer = 1u << 15;
} // namespace entry_ctl

// IA32_VMX_BASIC (appendix "Basic VMX Information").
namespace vmx_basic {
inline constexpr std::uint64_t revision_mask = 0x7fffffffull;
inline constexpr unsigned region_size_shift = 32;
inline constexpr std::uint64_t region_size_mask = 0x1fffull;
inline constexpr std::uint64_t phys_addr_32bit = 1ull << 48;
inline constexpr unsigned memory_type_shift = 50;
inline constexpr std::uint64_t memory_type_mask = 0xfull;
inline constexpr std::uint64_t io_exit_info = 1ull << 54;
inline constexpr std::uint64_t true_controls = 1ull << 55;
inline constexpr std::uint64_t memory_type_write_back = 6;
} // namespace vmx_basic

// IA32_VMX_MISC (appendix "Miscellaneous Data").
namespace vmx_misc {
inline constexpr std::uint64_t preemption_timer_rate_mask = 0x1full;
inline constexpr std::uint64_t store_lma = 1ull << 5;
inline constexpr std::uint64_t activity_hlt = 1ull << 6;
inline constexpr unsigned cr3_target_shift = 16;
inline constexpr std::uint64_t cr3_target_mask = 0x1ffull;
} // namespace vmx_misc

// IA32_VMX_EPT_VPID_CAP (appendix "VPID and EPT Capabilities").
namespace ept_vpid_cap {
inline constexpr std::uint64_t execute_only = 1ull << 0;
inline constexpr std::uint64_t page_walk_4 = 1ull << 6;
inline constexpr std::uint64_t memory_type_uc = 1ull << 8;
inline constexpr std::uint64_t memory_type_wb = 1ull << 14;
inline constexpr std::uint64_t pde_2mb = 1ull << 16;
inline constexpr std::uint64_t pdpte_1gb = 1ull << 17;
inline constexpr std::uint64_t invept = 1ull << 20;
inline constexpr std::uint64_t accessed_dirty = 1ull << 21;
inline constexpr std::uint64_t invept_single_context = 1ull << 25;
inline constexpr std::uint64_t invept_all_context = 1ull << 26;
inline constexpr std::uint64_t invvpid = 1ull << 32;
inline constexpr std::uint64_t invvpid_individual_address = 1ull << 40;
inline constexpr std::uint64_t invvpid_single_context = 1ull << 41;
inline constexpr std::uint64_t invvpid_all_context = 1ull << 42;
} // namespace ept_vpid_cap

} // namespace sdm
