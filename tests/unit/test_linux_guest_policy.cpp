// What a Linux guest's CPU looks like (cpuid/linux_leaves.hpp), the MSRs it may use beyond the
// toy set (vmx/pure/msr_policy.hpp), and the board's reset requests (board/reset_ports.hpp).
#include <catch2/catch.hpp>

#include "board/reset_ports.hpp"
#include "cpuid/linux_leaves.hpp"
#include "vmx/pure/msr_policy.hpp"

using namespace es;

namespace {

constexpr cpuid_answer all_ones{~0u, ~0u, ~0u, ~0u};
// Bochs 2.7's Haswell model: basic leaves up to 0xD, a 2.9 GHz TSC.
constexpr linux_cpu_facts haswell{0xd, 2893512};

} // namespace

TEST_CASE("Linux guest CPUID: the TSC frequency in leaves 0x15 and 0x16, exactly") {
    REQUIRE(is_linux_own_leaf(0x15, haswell));
    const cpuid_answer tsc = linux_own_answer(0x15, haswell);
    // Linux: crystal_khz = ECX / 1000; tsc_khz = crystal_khz * EBX / EAX.
    const std::uint64_t crystal_khz = tsc.ecx / 1000;
    REQUIRE(crystal_khz > 0);
    REQUIRE(tsc.eax > 0);
    CHECK(crystal_khz * tsc.ebx / tsc.eax == haswell.tsc_khz);
    // The 32-bit product Linux computes does not overflow even at 10 GHz.
    const cpuid_answer fast = linux_own_answer(0x15, {0xd, 10000000});
    CHECK(std::uint64_t{fast.ecx / 1000} * fast.ebx <= 0xffffffffull);
    const cpuid_answer freq = linux_own_answer(0x16, haswell);
    CHECK(freq.eax == 2893); // base MHz: cpu_khz_from_cpuid takes EAX * 1000
    CHECK(freq.ebx == 2893);
}

TEST_CASE("Linux guest CPUID: the basic range reaches 0x16, the missing leaves read zero") {
    CHECK(linux_guest_view(0, 0, cpuid_answer{0xd, 1, 2, 3}).eax == 0x16);
    CHECK(linux_guest_view(0, 0, cpuid_answer{0x20, 1, 2, 3}).eax == 0x20);
    CHECK(linux_max_basic_leaf(0x1f) == 0x1f);
    for (std::uint32_t leaf = 0xe; leaf <= 0x14; ++leaf) {
        CHECK(is_linux_own_leaf(leaf, haswell));
        const cpuid_answer a = linux_own_answer(leaf, haswell);
        CHECK((a.eax | a.ebx | a.ecx | a.edx) == 0);
    }
    CHECK_FALSE(is_linux_own_leaf(0xd, haswell)); // the host has it
    CHECK_FALSE(is_linux_own_leaf(0x17, haswell));
    CHECK_FALSE(is_linux_own_leaf(0x80000001, haswell));
    // A host with more basic leaves answers them itself, 0x15/0x16 aside.
    CHECK_FALSE(is_linux_own_leaf(0x14, {0x1f, 1000000}));
    CHECK(is_linux_own_leaf(0x15, {0x1f, 1000000}));
}

TEST_CASE("Linux guest CPUID: one CPU, and no feature backed by MSRs it does not have") {
    const cpuid_answer one = linux_guest_view(1, 0, all_ones);
    CHECK(((one.ebx >> 16) & 0xff) == 1);          // one logical processor
    CHECK((one.ebx >> 24) == 0);                   // APIC ID 0
    CHECK((one.ebx & 0xffff) == 0xffff);           // brand, CLFLUSH size untouched
    CHECK((one.edx & sdm::cpuid1_edx::apic) == 0); // the timer is the PIT
    CHECK((one.edx & sdm::cpuid1_edx::mce) == 0);
    CHECK((one.edx & sdm::cpuid1_edx::mtrr) == 0);
    CHECK((one.edx & sdm::cpuid1_edx::fpu) != 0); // the FPU stays
    CHECK((one.ecx & sdm::cpuid1_ecx::pdcm) == 0);
    CHECK((one.ecx & sdm::cpuid1_ecx::xsave) != 0); // XSAVE stays
    CHECK((linux_guest_view(4, 0, all_ones).eax >> 14) == 0);
    CHECK((linux_guest_view(4, 0, all_ones).eax & 0x3fff) == 0x3fff);
    const cpuid_answer six = linux_guest_view(6, 0, all_ones);
    CHECK((six.eax | six.ebx | six.ecx | six.edx) == 0);
    const cpuid_answer pmu = linux_guest_view(0xa, 0, all_ones);
    CHECK((pmu.eax | pmu.ebx | pmu.ecx | pmu.edx) == 0);
    const cpuid_answer seven = linux_guest_view(7, 0, all_ones);
    CHECK((seven.ebx & sdm::cpuid7_ebx::tsc_adjust) == 0);
    CHECK((seven.ebx & sdm::cpuid7_ebx::fsgsbase) != 0); // FSGSBASE stays
    CHECK(seven.edx == 0);
    CHECK(linux_guest_view(7, 1, all_ones).edx == ~0u); // other subleaves pass
}

TEST_CASE("Linux guest CPUID: extended topology of one processor") {
    const cpuid_answer smt = linux_guest_view(0xb, 0, all_ones);
    CHECK(smt.ebx == 1);
    CHECK(((smt.ecx >> 8) & 0xff) == 1);
    const cpuid_answer core = linux_guest_view(0xb, 1, all_ones);
    CHECK(core.ebx == 1);
    CHECK(((core.ecx >> 8) & 0xff) == 2);
    const cpuid_answer end = linux_guest_view(0x1f, 2, all_ones);
    CHECK(end.ebx == 0);
    CHECK(((end.ecx >> 8) & 0xff) == 0); // invalid level: the enumeration ends
    CHECK((end.ecx & 0xff) == 2);
}

TEST_CASE("Linux guest MSRs: SYSCALL, SYSENTER, KERNEL_GS_BASE and PAT; toys still fault") {
    using sdm::msr;
    for (msr m : {msr::star, msr::lstar, msr::cstar, msr::sfmask}) {
        CHECK(rule_for_msr(sdm::to_number(m), msr_set::board) == msr_rule::syscall);
        CHECK(rule_for_msr(sdm::to_number(m), msr_set::toy) == msr_rule::gp);
    }
    CHECK(syscall_msr_index(sdm::to_number(msr::star)) == 0);
    CHECK(syscall_msr_index(sdm::to_number(msr::sfmask)) == 3);
    CHECK(rule_for_msr(sdm::to_number(msr::kernel_gs_base), msr_set::board) ==
          msr_rule::kernel_gs_base);
    CHECK(rule_for_msr(sdm::to_number(msr::sysenter_eip), msr_set::board) == msr_rule::sysenter);
    CHECK(rule_for_msr(sdm::to_number(msr::pat), msr_set::board) == msr_rule::pat);
    CHECK(rule_for_msr(sdm::to_number(msr::pat), msr_set::toy) == msr_rule::gp);
    CHECK(rule_for_msr(0x179 /* MCG_CAP */, msr_set::board) == msr_rule::gp);

    CHECK(syscall_msr_write_faults(sdm::to_number(msr::lstar), 0x0000800000000000ull));
    CHECK_FALSE(syscall_msr_write_faults(sdm::to_number(msr::lstar), 0xffffffff81a00080ull));
    CHECK(syscall_msr_write_faults(sdm::to_number(msr::sfmask), 1ull << 32));
    CHECK_FALSE(syscall_msr_write_faults(sdm::to_number(msr::sfmask), 0x47700));
    CHECK_FALSE(syscall_msr_write_faults(sdm::to_number(msr::star), ~0ull));

    CHECK(pat_reset_value == 0x0007040600070406ull); // the SDM's power-up PAT (WB WT UC- UC x2)
    CHECK(is_valid_pat(0x0007040600070406ull));
    CHECK(is_valid_pat(0x0407050600070106ull)); // Linux's own layout (WB WC UC- UC WB WP UC- WT)
    CHECK_FALSE(is_valid_pat(0x0000000000000002ull));
    CHECK_FALSE(is_valid_pat(0x0800000000000000ull));
}

TEST_CASE("board reset: the keyboard controller's pulse and port 0xCF9's reset bit") {
    CHECK(board::is_reset_request(0x64, 0xfe));
    CHECK_FALSE(board::is_reset_request(0x64, 0xd1));
    CHECK(board::is_reset_request(0xcf9, 0x06));
    CHECK(board::is_reset_request(0xcf9, 0x0e));
    CHECK_FALSE(board::is_reset_request(0xcf9, 0x02));
    CHECK_FALSE(board::is_reset_request(0x60, 0xfe));
}
