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

enum class exit_reason : std::uint16_t {
    exception_or_nmi = 0,
    external_interrupt = 1,
    triple_fault = 2,
    init_signal = 3,
    startup_ipi = 4,
    io_smi = 5,
    other_smi = 6,
    interrupt_window = 7,
    nmi_window = 8,
    task_switch = 9,
    cpuid = 10,
    getsec = 11,
    hlt = 12,
    invd = 13,
    invlpg = 14,
    rdpmc = 15,
    rdtsc = 16,
    rsm = 17,
    vmcall = 18,
    vmclear = 19,
    vmlaunch = 20,
    vmptrld = 21,
    vmptrst = 22,
    vmread = 23,
    vmresume = 24,
    vmwrite = 25,
    vmxoff = 26,
    vmxon = 27,
    cr_access = 28,
    mov_dr = 29,
    io_instruction = 30,
    rdmsr = 31,
    wrmsr = 32,
    entry_fail_guest_state = 33,
    entry_fail_msr_load = 34,
    mwait = 36,
    monitor_trap_flag = 37,
    monitor = 39,
    pause = 40,
    entry_fail_machine_check = 41,
    tpr_below_threshold = 43,
    apic_access = 44,
    virtualized_eoi = 45,
    gdtr_idtr_access = 46,
    ldtr_tr_access = 47,
    ept_violation = 48,
    ept_misconfig = 49,
    invept = 50,
    rdtscp = 51,
    preemption_timer = 52,
    invvpid = 53,
    wbinvd = 54,
    xsetbv = 55,
    apic_write = 56,
    rdrand = 57,
    invpcid = 58,
    vmfunc = 59,
    encls = 60,
    rdseed = 61,
    pml_full = 62,
    xsaves = 63,
    xrstors = 64,
    pconfig = 65,
    spp_event = 66,
    umwait = 67,
    tpause = 68,
    loadiwkey = 69,
    enclv = 70,
    sgx_conflict = 71,
    enqcmd_pasid_fail = 72,
    enqcmds_pasid_fail = 73,
    bus_lock = 74,
    notify = 75,
    seamcall = 76,
    tdcall = 77,
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
    {0, "exception or NMI", "EXCEPTION_NMI"},
    {1, "external interrupt", "EXTERNAL_INTERRUPT"},
    {2, "triple fault", "TRIPLE_FAULT"},
    {3, "INIT signal", "INIT_SIGNAL"},
    {4, "start-up IPI", "STARTUP_IPI"},
    {5, "I/O SMI", "IO_SMI"},
    {6, "other SMI", "OTHER_SMI"},
    {7, "interrupt window", "INTERRUPT_WINDOW"},
    {8, "NMI window", "NMI_WINDOW"},
    {9, "task switch", "TASK_SWITCH"},
    {10, "CPUID", "CPUID"},
    {11, "GETSEC", "GETSEC"},
    {12, "HLT", "HLT"},
    {13, "INVD", "INVD"},
    {14, "INVLPG", "INVLPG"},
    {15, "RDPMC", "RDPMC"},
    {16, "RDTSC", "RDTSC"},
    {17, "RSM", "RSM"},
    {18, "VMCALL", "VMCALL"},
    {19, "VMCLEAR", "VMCLEAR"},
    {20, "VMLAUNCH", "VMLAUNCH"},
    {21, "VMPTRLD", "VMPTRLD"},
    {22, "VMPTRST", "VMPTRST"},
    {23, "VMREAD", "VMREAD"},
    {24, "VMRESUME", "VMRESUME"},
    {25, "VMWRITE", "VMWRITE"},
    {26, "VMXOFF", "VMXOFF"},
    {27, "VMXON", "VMXON"},
    {28, "control-register access", "CR_ACCESS"},
    {29, "MOV DR", "DR_ACCESS"},
    {30, "I/O instruction", "IO_INSTRUCTION"},
    {31, "RDMSR", "MSR_READ"},
    {32, "WRMSR", "MSR_WRITE"},
    {33, "VM-entry failure: invalid guest state", "INVALID_STATE"},
    {34, "VM-entry failure: MSR loading", "MSR_LOAD_FAIL"},
    {36, "MWAIT", "MWAIT"},
    {37, "monitor trap flag", "MONITOR_TRAP_FLAG"},
    {39, "MONITOR", "MONITOR"},
    {40, "PAUSE", "PAUSE"},
    {41, "VM-entry failure: machine-check event", "MCE_DURING_VMENTRY"},
    {43, "TPR below threshold", "TPR_BELOW_THRESHOLD"},
    {44, "APIC access", "APIC_ACCESS"},
    {45, "virtualized EOI", "EOI_INDUCED"},
    {46, "access to GDTR or IDTR", "GDTR_IDTR"},
    {47, "access to LDTR or TR", "LDTR_TR"},
    {48, "EPT violation", "EPT_VIOLATION"},
    {49, "EPT misconfiguration", "EPT_MISCONFIG"},
    {50, "INVEPT", "INVEPT"},
    {51, "RDTSCP", "RDTSCP"},
    {52, "VMX-preemption timer expired", "PREEMPTION_TIMER"},
    {53, "INVVPID", "INVVPID"},
    {54, "WBINVD or WBNOINVD", "WBINVD"},
    {55, "XSETBV", "XSETBV"},
    {56, "APIC write", "APIC_WRITE"},
    {57, "RDRAND", "RDRAND"},
    {58, "INVPCID", "INVPCID"},
    {59, "VMFUNC", "VMFUNC"},
    {60, "ENCLS", "ENCLS"},
    {61, "RDSEED", "RDSEED"},
    {62, "page-modification log full", "PML_FULL"},
    {63, "XSAVES", "XSAVES"},
    {64, "XRSTORS", "XRSTORS"},
    {65, "PCONFIG", "PCONFIG"},
    {66, "SPP-related event", "SPP"},
    {67, "UMWAIT", "UMWAIT"},
    {68, "TPAUSE", "TPAUSE"},
    {69, "LOADIWKEY", "LOADIWKEY"},
    {70, "ENCLV", "ENCLV"},
    {71, "SGX conflict", "SGX_CONFLICT"},
    {72, "ENQCMD PASID translation failure", "ENQCMD_PASID_FAIL"},
    {73, "ENQCMDS PASID translation failure", "ENQCMDS_PASID_FAIL"},
    {74, "bus lock", "BUS_LOCK"},
    {75, "instruction timeout (notify)", "NOTIFY"},
    {76, "SEAMCALL", "SEAMCALL"},
    {77, "TDCALL", "TDCALL"},
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

static_assert(sizeof(defined_exit_reasons) / sizeof(defined_exit_reasons[0]) == 75,
              "0..77 less the three undefined numbers");
static_assert(!is_defined_exit_reason(35) && !is_defined_exit_reason(38) &&
                  !is_defined_exit_reason(42),
              "35, 38 and 42 are not defined");
static_assert(is_defined_exit_reason(to_number(exit_reason::tdcall)));
static_assert(!is_defined_exit_reason(exit_reason_count));

} // namespace sdm
