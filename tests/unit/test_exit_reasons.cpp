// The exit-reason table (SDM_EXIT_REASONS in sdm/exit_reasons.hpp) against lists written out
// here: the SDM's defined numbers, and the keys the CLI, JSON and CSV outputs and the CPUID leaf
// contract use. The header's static_asserts cover its own shape (order, count); these checks
// cover what it says.
#include <catch2/catch.hpp>
#include <cctype>
#include <map>
#include <set>
#include <string>

#include "sdm/exit_reasons.hpp"

namespace {

// Intel SDM Vol. 3, appendix "VMX Basic Exit Reasons" (325462-080US): the numbers it defines and
// the key Exitscope prints for each. Renaming a key changes `stat --json`, `--csv`, `--hist KEY`
// and the e2e scripts: it must be done here too, on purpose.
const std::map<std::uint32_t, std::string> sdm_reasons = {
    {0, "EXCEPTION_NMI"},
    {1, "EXTERNAL_INTERRUPT"},
    {2, "TRIPLE_FAULT"},
    {3, "INIT_SIGNAL"},
    {4, "STARTUP_IPI"},
    {5, "IO_SMI"},
    {6, "OTHER_SMI"},
    {7, "INTERRUPT_WINDOW"},
    {8, "NMI_WINDOW"},
    {9, "TASK_SWITCH"},
    {10, "CPUID"},
    {11, "GETSEC"},
    {12, "HLT"},
    {13, "INVD"},
    {14, "INVLPG"},
    {15, "RDPMC"},
    {16, "RDTSC"},
    {17, "RSM"},
    {18, "VMCALL"},
    {19, "VMCLEAR"},
    {20, "VMLAUNCH"},
    {21, "VMPTRLD"},
    {22, "VMPTRST"},
    {23, "VMREAD"},
    {24, "VMRESUME"},
    {25, "VMWRITE"},
    {26, "VMXOFF"},
    {27, "VMXON"},
    {28, "CR_ACCESS"},
    {29, "DR_ACCESS"},
    {30, "IO_INSTRUCTION"},
    {31, "MSR_READ"},
    {32, "MSR_WRITE"},
    {33, "INVALID_STATE"},
    {34, "MSR_LOAD_FAIL"},
    {36, "MWAIT"},
    {37, "MONITOR_TRAP_FLAG"},
    {39, "MONITOR"},
    {40, "PAUSE"},
    {41, "MCE_DURING_VMENTRY"},
    {43, "TPR_BELOW_THRESHOLD"},
    {44, "APIC_ACCESS"},
    {45, "EOI_INDUCED"},
    {46, "GDTR_IDTR"},
    {47, "LDTR_TR"},
    {48, "EPT_VIOLATION"},
    {49, "EPT_MISCONFIG"},
    {50, "INVEPT"},
    {51, "RDTSCP"},
    {52, "PREEMPTION_TIMER"},
    {53, "INVVPID"},
    {54, "WBINVD"},
    {55, "XSETBV"},
    {56, "APIC_WRITE"},
    {57, "RDRAND"},
    {58, "INVPCID"},
    {59, "VMFUNC"},
    {60, "ENCLS"},
    {61, "RDSEED"},
    {62, "PML_FULL"},
    {63, "XSAVES"},
    {64, "XRSTORS"},
    {65, "PCONFIG"},
    {66, "SPP"},
    {67, "UMWAIT"},
    {68, "TPAUSE"},
    {69, "LOADIWKEY"},
    {70, "ENCLV"},
    {71, "SGX_CONFLICT"},
    {72, "ENQCMD_PASID_FAIL"},
    {73, "ENQCMDS_PASID_FAIL"},
    {74, "BUS_LOCK"},
    {75, "NOTIFY"},
    {76, "SEAMCALL"},
    {77, "TDCALL"},
};

bool upper_case_key(const std::string& k) {
    if (k.empty() || !std::isupper(static_cast<unsigned char>(k[0])))
        return false;
    for (char ch : k)
        if (!std::isupper(static_cast<unsigned char>(ch)) &&
            !std::isdigit(static_cast<unsigned char>(ch)) && ch != '_')
            return false;
    return true;
}

} // namespace

TEST_CASE("every number up to well past the table: defined exactly when the SDM defines it") {
    for (std::uint32_t n = 0; n < 4 * sdm::exit_reason_count; ++n) {
        CAPTURE(n);
        const bool in_sdm = sdm_reasons.count(n) == 1;
        CHECK(sdm::is_defined_exit_reason(n) == in_sdm);
        const sdm::exit_reason_info* info = sdm::find_exit_reason(n);
        CHECK((info != nullptr) == in_sdm);
        if (info && in_sdm) {
            CHECK(info->number == n);
            CHECK(std::string(info->key) == sdm_reasons.at(n));
            CHECK(std::string(info->name) != "");
        }
    }
    // The table's size is the SDM's: one past its last number.
    CHECK(sdm::exit_reason_count == sdm_reasons.rbegin()->first + 1);
}

TEST_CASE("numbers far past the table are undefined, the entry-failure bit included") {
    for (std::uint32_t n : {0x100u, 0xffffu, 0x10000u, 0x7fffffffu, 0x80000000u, 0x80000000u | 33u,
                            0xfffffffeu, 0xffffffffu}) {
        CAPTURE(n);
        CHECK_FALSE(sdm::is_defined_exit_reason(n));
        CHECK(sdm::find_exit_reason(n) == nullptr);
    }
}

TEST_CASE("each X-macro entry: found under its number, names and keys unique, keys upper case") {
    std::set<std::string> names, keys;
    std::set<std::uint32_t> numbers;
    std::size_t entries = 0;
#define ES_TEST_REASON(id, number_, name_, key_)                                                   \
    {                                                                                              \
        ++entries;                                                                                 \
        CAPTURE(number_, name_, key_);                                                             \
        numbers.insert(number_);                                                                   \
        CHECK(names.insert(name_).second);                                                         \
        CHECK(keys.insert(key_).second);                                                           \
        CHECK(upper_case_key(key_));                                                               \
        const sdm::exit_reason_info* found = sdm::find_exit_reason(number_);                       \
        REQUIRE(found != nullptr);                                                                 \
        CHECK(std::string(found->name) == (name_));                                                \
        CHECK(std::string(found->key) == (key_));                                                  \
    }
    SDM_EXIT_REASONS(ES_TEST_REASON)
#undef ES_TEST_REASON
    CHECK(entries == sdm_reasons.size());
    std::set<std::uint32_t> expected;
    for (const auto& [n, key] : sdm_reasons)
        expected.insert(n);
    CHECK(numbers == expected);
}
