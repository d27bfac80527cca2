// VMCS field encodings Exitscope reads or writes.
//
// Source: Intel SDM, Volume 3, appendix "Field Encoding in VMCS" (order number 325462-080US,
// June 2023). Bits 14:13 of an encoding give the width, bit 0 the "high" access type.
#pragma once

#include <cstdint>

namespace sdm {

enum class vmcs_field : std::uint32_t {
    // 16-bit control, guest-state and host-state fields.
    vpid = 0x0000,
    guest_es_selector = 0x0800,
    guest_cs_selector = 0x0802,
    guest_ss_selector = 0x0804,
    guest_ds_selector = 0x0806,
    guest_fs_selector = 0x0808,
    guest_gs_selector = 0x080a,
    guest_ldtr_selector = 0x080c,
    guest_tr_selector = 0x080e,
    host_es_selector = 0x0c00,
    host_cs_selector = 0x0c02,
    host_ss_selector = 0x0c04,
    host_ds_selector = 0x0c06,
    host_fs_selector = 0x0c08,
    host_gs_selector = 0x0c0a,
    host_tr_selector = 0x0c0c,
    // 64-bit control fields.
    io_bitmap_a = 0x2000,
    io_bitmap_b = 0x2002,
    msr_bitmap = 0x2004,
    exit_msr_store_address = 0x2006,
    exit_msr_load_address = 0x2008,
    entry_msr_load_address = 0x200a,
    ept_pointer = 0x201a,
    // 64-bit read-only data field.
    guest_physical_address = 0x2400,
    // 64-bit guest-state fields.
    vmcs_link_pointer = 0x2800,
    guest_debugctl = 0x2802,
    guest_pat = 0x2804,
    guest_efer = 0x2806,
    // 64-bit host-state fields.
    host_pat = 0x2c00,
    host_efer = 0x2c02,
    // 32-bit control fields.
    pin_based_controls = 0x4000,
    proc_based_controls = 0x4002,
    exception_bitmap = 0x4004,
    page_fault_error_mask = 0x4006,
    page_fault_error_match = 0x4008,
    cr3_target_count = 0x400a,
    exit_controls = 0x400c,
    exit_msr_store_count = 0x400e,
    exit_msr_load_count = 0x4010,
    entry_controls = 0x4012,
    entry_msr_load_count = 0x4014,
    entry_interruption_info = 0x4016,
    entry_exception_error_code = 0x4018,
    entry_instruction_length = 0x401a,
    proc_based_controls2 = 0x401e,
    ple_gap = 0x4020,    // PAUSE-loop exiting: the most TSC ticks between two PAUSEs of one loop
    ple_window = 0x4022, // and the longest a loop may spin before it exits
    // 32-bit read-only data fields.
    vm_instruction_error = 0x4400,
    exit_reason = 0x4402,
    exit_interruption_info = 0x4404,
    exit_interruption_error_code = 0x4406,
    idt_vectoring_info = 0x4408,
    idt_vectoring_error_code = 0x440a,
    exit_instruction_length = 0x440c,
    exit_instruction_info = 0x440e,
    // 32-bit guest-state fields.
    guest_es_limit = 0x4800,
    guest_cs_limit = 0x4802,
    guest_ss_limit = 0x4804,
    guest_ds_limit = 0x4806,
    guest_fs_limit = 0x4808,
    guest_gs_limit = 0x480a,
    guest_ldtr_limit = 0x480c,
    guest_tr_limit = 0x480e,
    guest_gdtr_limit = 0x4810,
    guest_idtr_limit = 0x4812,
    guest_es_access_rights = 0x4814,
    guest_cs_access_rights = 0x4816,
    guest_ss_access_rights = 0x4818,
    guest_ds_access_rights = 0x481a,
    guest_fs_access_rights = 0x481c,
    guest_gs_access_rights = 0x481e,
    guest_ldtr_access_rights = 0x4820,
    guest_tr_access_rights = 0x4822,
    guest_interruptibility = 0x4824,
    guest_activity_state = 0x4826,
    guest_sysenter_cs = 0x482a,
    preemption_timer_value = 0x482e,
    // 32-bit host-state field.
    host_sysenter_cs = 0x4c00,
    // Natural-width control fields.
    cr0_guest_host_mask = 0x6000,
    cr4_guest_host_mask = 0x6002,
    cr0_read_shadow = 0x6004,
    cr4_read_shadow = 0x6006,
    // Natural-width read-only data fields.
    exit_qualification = 0x6400,
    guest_linear_address = 0x640a,
    // Natural-width guest-state fields.
    guest_cr0 = 0x6800,
    guest_cr3 = 0x6802,
    guest_cr4 = 0x6804,
    guest_es_base = 0x6806,
    guest_cs_base = 0x6808,
    guest_ss_base = 0x680a,
    guest_ds_base = 0x680c,
    guest_fs_base = 0x680e,
    guest_gs_base = 0x6810,
    guest_ldtr_base = 0x6812,
    guest_tr_base = 0x6814,
    guest_gdtr_base = 0x6816,
    guest_idtr_base = 0x6818,
    guest_dr7 = 0x681a,
    guest_rsp = 0x681c,
    guest_rip = 0x681e,
    guest_rflags = 0x6820,
    guest_pending_debug = 0x6822,
    guest_sysenter_esp = 0x6824,
    guest_sysenter_eip = 0x6826,
    // Natural-width host-state fields.
    host_cr0 = 0x6c00,
    host_cr3 = 0x6c02,
    host_cr4 = 0x6c04,
    host_fs_base = 0x6c06,
    host_gs_base = 0x6c08,
    host_tr_base = 0x6c0a,
    host_gdtr_base = 0x6c0c,
    host_idtr_base = 0x6c0e,
    host_sysenter_esp = 0x6c10,
    host_sysenter_eip = 0x6c12,
    host_rsp = 0x6c14,
    host_rip = 0x6c16,
};

constexpr std::uint32_t to_number(vmcs_field f) {
    return static_cast<std::uint32_t>(f);
}

// Interruption-information format shared by the VM-entry and VM-exit fields
// ("VM-Entry Controls for Event Injection").
namespace interruption {
inline constexpr std::uint32_t vector_mask = 0xff;
inline constexpr unsigned type_shift = 8;
inline constexpr std::uint32_t type_mask = 0x7;
inline constexpr std::uint32_t type_external = 0;
inline constexpr std::uint32_t type_nmi = 2;
inline constexpr std::uint32_t type_hardware_exception = 3;
inline constexpr std::uint32_t type_software_interrupt = 4;   // INT n
inline constexpr std::uint32_t type_privileged_exception = 5; // INT1
inline constexpr std::uint32_t type_software_exception = 6;   // INT3, INTO
inline constexpr std::uint32_t deliver_error_code = 1u << 11;
// Bit 12 of the IDT-vectoring field: NMI unblocking due to IRET; reserved in the entry field.
inline constexpr std::uint32_t nmi_unblocking = 1u << 12;

// Software interrupts and exceptions are re-injected with the length of the instruction that
// raised them ("Event Injection": VM-entry instruction length).
constexpr bool needs_instruction_length(std::uint32_t type) {
    return type == type_software_interrupt || type == type_privileged_exception ||
           type == type_software_exception;
}
inline constexpr std::uint32_t valid = 1u << 31;
} // namespace interruption

// Guest interruptibility-state bits ("Guest Non-Register State"): an interrupt may not be
// injected while STI or MOV SS blocking is on, an NMI not while an earlier one blocks NMIs.
namespace interruptibility {
inline constexpr std::uint32_t sti_blocking = 1u << 0;
inline constexpr std::uint32_t mov_ss_blocking = 1u << 1;
inline constexpr std::uint32_t nmi_blocking = 1u << 3;
} // namespace interruptibility

// Activity-state values ("Guest Non-Register State").
enum class activity_state : std::uint32_t { active = 0, hlt = 1, shutdown = 2, wait_for_sipi = 3 };

} // namespace sdm
