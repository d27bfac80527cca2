// VMX basic exit reasons.
//
// Source: Intel SDM, Volume 3, appendix "VMX Basic Exit Reasons", in the revision that defines
// numbers 0 to 77 (TDCALL being the last; order number 325462-080US, June 2023). Numbers that
// revision leaves out (35, 38, 42 and everything above 77) are "not defined" here; the CPUID leaf
// contract treats them differently from "defined but not enabled".
//
// This header is the one source of truth for numbers and names: the dispatcher, the CPUID leaves,
// the CLI and the tests all read this table. Freestanding: usable in the kernel and on the host.
#pragma once

#include <array>
#include <cstdint>

namespace sdm {

// The list: identifier, number, the SDM's name (for people), a short upper-case key (for tables
// and JSON). Everything else in this header is generated from it, as KVM does with
// VMX_EXIT_REASONS.
// clang-format off
#define SDM_EXIT_REASONS(X) \
    X(exception_or_nmi, 0, "exception or NMI", "EXCEPTION_NMI") \
    X(external_interrupt, 1, "external interrupt", "EXTERNAL_INTERRUPT") \
    X(triple_fault, 2, "triple fault", "TRIPLE_FAULT") \
    X(init_signal, 3, "INIT signal", "INIT_SIGNAL") \
    X(startup_ipi, 4, "start-up IPI", "STARTUP_IPI") \
    X(io_smi, 5, "I/O SMI", "IO_SMI") \
    X(other_smi, 6, "other SMI", "OTHER_SMI") \
    X(interrupt_window, 7, "interrupt window", "INTERRUPT_WINDOW") \
    X(nmi_window, 8, "NMI window", "NMI_WINDOW") \
    X(task_switch, 9, "task switch", "TASK_SWITCH") \
    X(cpuid, 10, "CPUID", "CPUID") \
    X(getsec, 11, "GETSEC", "GETSEC") \
    X(hlt, 12, "HLT", "HLT") \
    X(invd, 13, "INVD", "INVD") \
    X(invlpg, 14, "INVLPG", "INVLPG") \
    X(rdpmc, 15, "RDPMC", "RDPMC") \
    X(rdtsc, 16, "RDTSC", "RDTSC") \
    X(rsm, 17, "RSM", "RSM") \
    X(vmcall, 18, "VMCALL", "VMCALL") \
    X(vmclear, 19, "VMCLEAR", "VMCLEAR") \
    X(vmlaunch, 20, "VMLAUNCH", "VMLAUNCH") \
    X(vmptrld, 21, "VMPTRLD", "VMPTRLD") \
    X(vmptrst, 22, "VMPTRST", "VMPTRST") \
    X(vmread, 23, "VMREAD", "VMREAD") \
    X(vmresume, 24, "VMRESUME", "VMRESUME") \
    X(vmwrite, 25, "VMWRITE", "VMWRITE") \
    X(vmxoff, 26, "VMXOFF", "VMXOFF") \
    X(vmxon, 27, "VMXON", "VMXON") \
    X(cr_access, 28, "control-register access", "CR_ACCESS") \
    X(mov_dr, 29, "MOV DR", "DR_ACCESS") \
    X(io_instruction, 30, "I/O instruction", "IO_INSTRUCTION") \
    X(rdmsr, 31, "RDMSR", "MSR_READ") \
    X(wrmsr, 32, "WRMSR", "MSR_WRITE") \
    X(entry_fail_guest_state, 33, "VM-entry failure: invalid guest state", "INVALID_STATE") \
    X(entry_fail_msr_load, 34, "VM-entry failure: MSR loading", "MSR_LOAD_FAIL") \
    X(mwait, 36, "MWAIT", "MWAIT") \
    X(monitor_trap_flag, 37, "monitor trap flag", "MONITOR_TRAP_FLAG") \
    X(monitor, 39, "MONITOR", "MONITOR") \
    X(pause, 40, "PAUSE", "PAUSE") \
    X(entry_fail_machine_check, 41, "VM-entry failure: machine-check event", "MCE_DURING_VMENTRY") \
    X(tpr_below_threshold, 43, "TPR below threshold", "TPR_BELOW_THRESHOLD") \
    X(apic_access, 44, "APIC access", "APIC_ACCESS") \
    X(virtualized_eoi, 45, "virtualized EOI", "EOI_INDUCED") \
    X(gdtr_idtr_access, 46, "access to GDTR or IDTR", "GDTR_IDTR") \
    X(ldtr_tr_access, 47, "access to LDTR or TR", "LDTR_TR") \
    X(ept_violation, 48, "EPT violation", "EPT_VIOLATION") \
    X(ept_misconfig, 49, "EPT misconfiguration", "EPT_MISCONFIG") \
    X(invept, 50, "INVEPT", "INVEPT") \
    X(rdtscp, 51, "RDTSCP", "RDTSCP") \
    X(preemption_timer, 52, "VMX-preemption timer expired", "PREEMPTION_TIMER") \
    X(invvpid, 53, "INVVPID", "INVVPID") \
    X(wbinvd, 54, "WBINVD or WBNOINVD", "WBINVD") \
    X(xsetbv, 55, "XSETBV", "XSETBV") \
    X(apic_write, 56, "APIC write", "APIC_WRITE") \
    X(rdrand, 57, "RDRAND", "RDRAND") \
    X(invpcid, 58, "INVPCID", "INVPCID") \
    X(vmfunc, 59, "VMFUNC", "VMFUNC") \
    X(encls, 60, "ENCLS", "ENCLS") \
    X(rdseed, 61, "RDSEED", "RDSEED") \
    X(pml_full, 62, "page-modification log full", "PML_FULL") \
    X(xsaves, 63, "XSAVES", "XSAVES") \
    X(xrstors, 64, "XRSTORS", "XRSTORS") \
    X(pconfig, 65, "PCONFIG", "PCONFIG") \
    X(spp_event, 66, "SPP-related event", "SPP") \
    X(umwait, 67, "UMWAIT", "UMWAIT") \
    X(tpause, 68, "TPAUSE", "TPAUSE") \
    X(loadiwkey, 69, "LOADIWKEY", "LOADIWKEY") \
    X(enclv, 70, "ENCLV", "ENCLV") \
    X(sgx_conflict, 71, "SGX conflict", "SGX_CONFLICT") \
    X(enqcmd_pasid_fail, 72, "ENQCMD PASID translation failure", "ENQCMD_PASID_FAIL") \
    X(enqcmds_pasid_fail, 73, "ENQCMDS PASID translation failure", "ENQCMDS_PASID_FAIL") \
    X(bus_lock, 74, "bus lock", "BUS_LOCK") \
    X(notify, 75, "instruction timeout (notify)", "NOTIFY") \
    X(seamcall, 76, "SEAMCALL", "SEAMCALL") \
    X(tdcall, 77, "TDCALL", "TDCALL")
// clang-format on

enum class exit_reason : std::uint16_t {
#define SDM_EXIT_REASON_ENUMERATOR(id, number, name, key) id = number,
    SDM_EXIT_REASONS(SDM_EXIT_REASON_ENUMERATOR)
#undef SDM_EXIT_REASON_ENUMERATOR
};

// One past the highest number the cited revision defines: the size of every per-reason table.
inline constexpr std::uint32_t exit_reason_count = 78;

// Bit 31 of the exit-reason field: the VM entry failed (SDM "Basic VM-Exit Information").
inline constexpr std::uint32_t exit_reason_entry_failure_bit = 1u << 31;
// Bits 15:0 hold the basic exit reason.
inline constexpr std::uint32_t exit_reason_basic_mask = 0xffffu;

struct exit_reason_info {
    std::uint16_t number;
    const char* name; // as the SDM names it, for people
    const char* key;  // short upper-case name for tables and JSON
};

// Every defined reason, in number order; undefined numbers are absent.
inline constexpr exit_reason_info defined_exit_reasons[] = {
#define SDM_EXIT_REASON_INFO(id, number, name, key) {number, name, key},
    SDM_EXIT_REASONS(SDM_EXIT_REASON_INFO)
#undef SDM_EXIT_REASON_INFO
};

// Dense lookup by number, built at compile time from the list above: the position of each
// number's entry in defined_exit_reasons, or -1. (Indices, not pointers: with the kernel's
// -fno-delete-null-pointer-checks GCC cannot compare pointers in constant expressions.)
struct exit_reason_table {
    std::array<std::int16_t, exit_reason_count> index{};

    constexpr exit_reason_table() {
        for (auto& i : index)
            i = -1;
        std::int16_t pos = 0;
        for (const auto& info : defined_exit_reasons)
            index[info.number] = pos++;
    }
};

inline constexpr exit_reason_table exit_reasons{};

constexpr bool is_defined_exit_reason(std::uint32_t number) {
    return number < exit_reason_count && exit_reasons.index[number] >= 0;
}

// Name and key of a defined reason; nullptr for any other number.
constexpr const exit_reason_info* find_exit_reason(std::uint32_t number) {
    return is_defined_exit_reason(number) ? &defined_exit_reasons[exit_reasons.index[number]]
                                          : nullptr;
}

constexpr std::uint32_t to_number(exit_reason r) {
    return static_cast<std::uint32_t>(r);
}

constexpr bool numbers_strictly_increase() {
    std::int32_t last = -1;
    for (const auto& info : defined_exit_reasons) {
        if (info.number <= last)
            return false;
        last = info.number;
    }
    return last + 1 == static_cast<std::int32_t>(exit_reason_count);
}
static_assert(numbers_strictly_increase(),
              "the list is in number order, each number once, ending at exit_reason_count - 1");
static_assert(sizeof(defined_exit_reasons) / sizeof(defined_exit_reasons[0]) == 75,
              "0..77 less the three undefined numbers");
static_assert(!is_defined_exit_reason(35) && !is_defined_exit_reason(38) &&
                  !is_defined_exit_reason(42),
              "35, 38 and 42 are not defined");
static_assert(is_defined_exit_reason(to_number(exit_reason::tdcall)));
static_assert(!is_defined_exit_reason(exit_reason_count));

} // namespace sdm
