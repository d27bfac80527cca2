// The per-vCPU Linux CPUID view (cpuid/linux_leaves.hpp, linux_vcpu_view): APIC IDs in leaves 1
// and 0xB/0x1F, a topology of one package with one single-threaded core per vCPU (what the MP
// table lists), the APIC bits only with an emulated local APIC, and the one-vCPU view unchanged.
#include <catch2/catch.hpp>

#include "cpuid/linux_leaves.hpp"

using namespace es;

namespace {
constexpr cpuid_answer all_ones{~0u, ~0u, ~0u, ~0u};
// Answers a host might give (Haswell-like), leaf by leaf, for the "unchanged" check.
constexpr cpuid_answer haswell_leaf(std::uint32_t leaf, std::uint32_t sub) {
    switch (leaf) {
    case 0:
        return {0xd, 0x756e6547, 0x6c65746e, 0x49656e69};
    case 1:
        return {0x306c3, 0x02100800, 0x7ffafbff, 0xbfebfbff};
    case 4:
        return {sub < 4 ? 0x1c004121u + sub * 0x20 : 0u, 0x01c0003f, 0x3f, 0};
    case 7:
        return {0, 0x27ab, 0, 0x9c000400};
    case 0xb:
        return {sub < 2 ? 1u + 3 * sub : 0u, sub < 2 ? 2u + 6 * sub : 0u, sub | ((sub + 1) << 8),
                3};
    default:
        return {leaf * 3, leaf ^ sub, sub, 0x12345678};
    }
}
bool same(cpuid_answer a, cpuid_answer b) {
    return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}
} // namespace

TEST_CASE("per-vCPU CPUID: one vCPU without a local APIC answers as today's view") {
    for (std::uint32_t leaf : {0u, 1u, 2u, 4u, 6u, 7u, 0xau, 0xbu, 0xdu, 0x1fu, 0x80000001u}) {
        for (std::uint32_t sub = 0; sub < 5; ++sub) {
            CAPTURE(leaf, sub);
            for (cpuid_answer host : {all_ones, haswell_leaf(leaf, sub), cpuid_answer{0, 0, 0, 0}})
                CHECK(same(linux_vcpu_view(leaf, sub, host, single_vcpu_without_apic),
                           linux_guest_view(leaf, sub, host)));
        }
    }
    static_assert(linux_vcpu_view(1, 0, all_ones, single_vcpu_without_apic).ebx ==
                  linux_guest_view(1, 0, all_ones).ebx);
}

TEST_CASE("per-vCPU CPUID: APIC IDs and the package's size for vCPU i of N") {
    for (std::uint32_t n : {2u, 3u, 4u, 8u, 16u}) {
        for (std::uint32_t i = 0; i < n; ++i) {
            CAPTURE(n, i);
            const linux_vcpu_topology t{i, n, true};
            const std::uint32_t span = n <= 2 ? 2 : n <= 4 ? 4 : n <= 8 ? 8 : 16;
            const cpuid_answer one = linux_vcpu_view(1, 0, all_ones, t);
            CHECK((one.ebx >> 24) == i);
            CHECK(((one.ebx >> 16) & 0xff) == span);
            CHECK((one.ebx & 0xffff) == 0xffff); // brand, CLFLUSH size untouched
            CHECK((one.edx & sdm::cpuid1_edx::htt) != 0);
            CHECK((one.edx & sdm::cpuid1_edx::apic) != 0);
            CHECK((one.ecx & sdm::cpuid1_ecx::x2apic) != 0);
            CHECK((one.ecx & sdm::cpuid1_ecx::tsc_deadline) != 0);
            CHECK((one.edx & sdm::cpuid1_edx::mce) == 0); // the rest of the view stays
            for (std::uint32_t leaf : {0xbu, 0x1fu}) {
                const cpuid_answer smt = linux_vcpu_view(leaf, 0, all_ones, t);
                CHECK(smt.eax == 0); // one thread per core
                CHECK(smt.ebx == 1);
                CHECK(smt.ecx == (1u << 8));
                CHECK(smt.edx == i);
                const cpuid_answer core = linux_vcpu_view(leaf, 1, all_ones, t);
                CHECK((1u << core.eax) == span); // the shift to the package ID
                CHECK((i >> core.eax) == 0);     // package 0, for every vCPU
                CHECK(core.ebx == n);
                CHECK(core.ecx == ((2u << 8) | 1));
                CHECK(core.edx == i);
                const cpuid_answer end = linux_vcpu_view(leaf, 2, all_ones, t);
                CHECK(end.ebx == 0);
                CHECK(end.ecx == 2);
                CHECK(end.edx == i);
            }
            const cpuid_answer cache = linux_vcpu_view(4, 0, haswell_leaf(4, 0), t);
            CHECK((cache.eax >> 26) == span - 1);
            CHECK(((cache.eax >> 14) & 0xfff) == 0); // each cache is one thread's
            CHECK((cache.eax & 0x3fff) == (haswell_leaf(4, 0).eax & 0x3fff));
            CHECK(linux_vcpu_view(4, 4, haswell_leaf(4, 4), t).eax == 0); // the list's end
        }
    }
}

TEST_CASE("per-vCPU CPUID: the APIC bits follow the emulated local APIC, not the count") {
    const cpuid_answer no_apic = linux_vcpu_view(1, 0, all_ones, {1, 2, false});
    CHECK((no_apic.edx & sdm::cpuid1_edx::apic) == 0);
    CHECK((no_apic.ecx & sdm::cpuid1_ecx::x2apic) == 0);
    CHECK((no_apic.ebx >> 24) == 1);
    const cpuid_answer one_with_apic =
        linux_vcpu_view(1, 0, cpuid_answer{0, 0, 0, 0}, {0, 1, true});
    CHECK((one_with_apic.edx & sdm::cpuid1_edx::apic) != 0); // emulated even if the host lacks it
    CHECK((one_with_apic.ecx & sdm::cpuid1_ecx::x2apic) != 0);
    CHECK((one_with_apic.edx & sdm::cpuid1_edx::htt) == 0); // one processor: no HTT
    CHECK(((one_with_apic.ebx >> 16) & 0xff) == 1);
}
