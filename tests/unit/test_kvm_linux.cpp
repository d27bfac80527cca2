// The pure parts of `run --backend kvm --kernel`: the Linux CPUID view built from KVM's supported
// entries, the linux64 start state in KVM's registers, the reset summary and the statistics line.
#include <catch2/catch.hpp>

#include "cli/kvm_backend.hpp"
#include "cpuid/linux_leaves.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "vmx/pure/guest_modes.hpp"

using namespace es::cli;

namespace {

kvm_cpuid_entry2 e(std::uint32_t leaf, std::uint32_t index, std::uint32_t eax, std::uint32_t ebx,
                   std::uint32_t ecx, std::uint32_t edx) {
    kvm_cpuid_entry2 x{};
    x.function = leaf;
    x.index = index;
    x.eax = eax;
    x.ebx = ebx;
    x.ecx = ecx;
    x.edx = edx;
    return x;
}

const kvm_cpuid_entry2* find(const std::vector<kvm_cpuid_entry2>& v, std::uint32_t leaf,
                             std::uint32_t index = 0) {
    for (const auto& x : v)
        if (x.function == leaf && x.index == index)
            return &x;
    return nullptr;
}

} // namespace

TEST_CASE("kvm linux: CPUID goes through the Linux view, TSC leaves from KVM_GET_TSC_KHZ") {
    const std::vector<kvm_cpuid_entry2> supported = {
        e(0, 0, 0xd, 1, 2, 3),
        e(1, 0, 0x306a9, 0x00ff0800, 0xffffffff, 0xffffffff),
        e(0x15, 0, 9, 9, 9, 9),
        e(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
        e(0x40000001, 0, 0xffff, 0, 0, 0),
        e(0x80000000, 0, 0x80000008, 0, 0, 0),
    };
    const auto v = linux_kvm_cpuid(supported, 2'000'000);
    const es::linux_cpu_facts facts{0xd, 2'000'000};
    REQUIRE(find(v, 0));
    CHECK(find(v, 0)->eax == es::linux_max_basic_leaf(0xd));
    const auto view1 = es::linux_guest_view(1, 0, {0x306a9, 0x00ff0800, 0xffffffff, 0xffffffff});
    REQUIRE(find(v, 1));
    CHECK(find(v, 1)->ebx == view1.ebx);
    CHECK(find(v, 1)->ecx == view1.ecx);
    CHECK(find(v, 1)->edx == view1.edx);
    const auto tsc = es::linux_own_answer(0x15, facts);
    REQUIRE(find(v, 0x15));
    CHECK(find(v, 0x15)->ebx == tsc.ebx);
    CHECK(find(v, 0x15)->ecx == tsc.ecx);
    REQUIRE(find(v, 0x16));
    CHECK(find(v, 0x16)->eax == 2000);
    // Leaves past KVM's maximum up to the Linux one exist, zero.
    REQUIRE(find(v, 0xe));
    CHECK(find(v, 0xe)->eax == 0);
    // One entry per leaf and index, no hypervisor leaves, extended leaves kept.
    int n15 = 0;
    for (const auto& x : v)
        n15 += x.function == 0x15;
    CHECK(n15 == 1);
    CHECK_FALSE(find(v, 0x40000000));
    CHECK_FALSE(find(v, 0x40000001));
    CHECK(find(v, 0x80000000));
}

TEST_CASE("kvm linux: a host with leaves past 0x16 keeps them, TSC leaves replaced") {
    const auto v = linux_kvm_cpuid({e(0, 0, 0x1f, 0, 0, 0), e(0x16, 0, 7, 7, 7, 7),
                                    e(0x1f, 1, 5, 5, 5, 5), e(0x1f, 2, 5, 5, 5, 5)},
                                   1'500'000);
    REQUIRE(find(v, 0));
    CHECK(find(v, 0)->eax == 0x1f);
    REQUIRE(find(v, 0x16));
    CHECK(find(v, 0x16)->eax == 1500);
    REQUIRE(find(v, 0x1f, 1));
    CHECK(find(v, 0x1f, 1)->ebx == 1); // one processor per level
    CHECK_FALSE(find(v, 0x17));
    CHECK(linux_kvm_cpuid({}, 1000).size() == 0x16); // leaves 1..0x16: Linux's own answers
}

TEST_CASE("kvm linux: linux64 start state carries the boot GDT and the zero page") {
    constexpr std::uint64_t mem = 128ull << 20;
    const auto g =
        es::initial_guest_state(es::guest_mode::linux64, 0x1000200, 0, mem, 0, 0, 0x7000);
    kvm_sregs s{};
    fill_kvm_sregs(g, s);
    CHECK(s.gdt.base == es::linux64_host_base(mem));
    CHECK(s.gdt.limit == es::linux_boot_gdt_entries * 8 - 1);
    CHECK(s.idt.limit == 0xffff);
    CHECK(s.cs.selector == es::linux_boot_cs);
    CHECK(s.cs.l == 1);
    CHECK(s.ds.selector == es::linux_boot_ds);
    kvm_regs r{};
    fill_kvm_regs(g, r);
    CHECK(r.rsi == 0x7000);
    CHECK(r.rip == 0x1000200);
}

TEST_CASE("kvm linux: reset ends like Exitscope's, every nonzero statistic listed") {
    stop_record s;
    s.stop = ES_STOP_RESET;
    s.rip = 0xffffffff81000000;
    const auto r = summarize_stop(s, "exitscope[kvm]", kvm_counts(3, {{"exits", 40}}));
    CHECK(r.status == status_reset);
    CHECK(r.line.find("guest reset the machine") != std::string::npos);
    CHECK(format_nonzero_kvm_stats({{"exits", 5}, {"halt_exits", 0}, {"io_exits", 2}}) ==
          "exits 5, io_exits 2");
    CHECK(format_nonzero_kvm_stats({}).empty());
}

TEST_CASE("kvm linux: each vCPU of several gets its APIC ID in leaves 1 and 0xB, and the APIC") {
    const std::vector<kvm_cpuid_entry2> supported = {
        e(0, 0, 0xd, 1, 2, 3),     e(1, 0, 0x306a9, 0x00ff0800, 0xffffffff, 0xffffffff),
        e(0xb, 0, 1, 1, 0x100, 0), e(0xb, 1, 4, 4, 0x201, 0),
        e(0xb, 2, 0, 0, 2, 0),
    };
    for (std::uint32_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        const auto v = linux_kvm_cpuid(supported, 2'000'000, {i, 3, true});
        REQUIRE(find(v, 1));
        CHECK(find(v, 1)->ebx >> 24 == i);
        CHECK((find(v, 1)->ebx >> 16 & 0xff) == 4); // 3 vCPUs: 2 ID bits
        CHECK(find(v, 1)->edx & sdm::cpuid1_edx::apic);
        CHECK(find(v, 1)->ecx & sdm::cpuid1_ecx::x2apic);
        for (std::uint32_t sub = 0; sub < 3; ++sub) {
            REQUIRE(find(v, 0xb, sub));
            CHECK(find(v, 0xb, sub)->edx == i);
        }
        CHECK(find(v, 0xb, 1)->ebx == 3);
    }
    // One vCPU keeps the view without a local APIC.
    const auto one = linux_kvm_cpuid(supported, 2'000'000);
    CHECK_FALSE(find(one, 1)->edx & sdm::cpuid1_edx::apic);
}

TEST_CASE("kvm linux: with a local APIC, leaf 0x15's crystal is KVM's 1 GHz APIC timer clock") {
    const std::vector<kvm_cpuid_entry2> supported = {e(0, 0, 0xd, 1, 2, 3)};
    // Linux's own arithmetic (native_calibrate_tsc), in its 32-bit unsigned types.
    const auto linux_reads = [](const kvm_cpuid_entry2& x, std::uint32_t& apic_period) {
        const std::uint32_t crystal_khz = x.ecx / 1000;
        apic_period = crystal_khz * 1000 / 250; // HZ=250, Debian's
        return crystal_khz * x.ebx / x.eax;
    };
    for (const std::uint32_t khz : {100'000u, 2'000'000u, 2'893'202u, 3'400'000u}) {
        CAPTURE(khz);
        const auto v = linux_kvm_cpuid(supported, khz, {0, 2, true});
        REQUIRE(find(v, 0x15));
        std::uint32_t period = 0;
        const std::uint64_t tsc = linux_reads(*find(v, 0x15), period);
        CHECK(period == 4'000'000); // 1 GHz / HZ
        CHECK(tsc + 500 >= khz);    // exact, or to the MHz
        CHECK(tsc <= khz + 500);
        CHECK(std::uint64_t{find(v, 0x15)->ecx / 1000} * find(v, 0x15)->ebx < (1ull << 32));
    }
    // One vCPU (no local APIC): the 1 kHz crystal as before.
    CHECK(find(linux_kvm_cpuid(supported, 2'000'000), 0x15)->ecx == 1000);
}
