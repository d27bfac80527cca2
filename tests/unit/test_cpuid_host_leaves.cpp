// The guest's view of the host's CPUID leaves and the hypervisor range, branch by branch.
#include <catch2/catch.hpp>
#include <string>

#include "cpuid/host_leaves.hpp"

using namespace es;

namespace {

constexpr cpuid_answer all_ones{~0u, ~0u, ~0u, ~0u};

bool same(cpuid_answer a, cpuid_answer b) {
    return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

} // namespace

TEST_CASE("leaf 1 hides VMX, SMX and MONITOR, sets the hypervisor bit, mirrors OSXSAVE") {
    const cpuid_answer off = guest_view_of_host(1, 0, all_ones, false, ~0ull);
    CHECK((off.ecx & sdm::cpuid1_ecx::vmx) == 0);
    CHECK((off.ecx & sdm::cpuid1_ecx::smx) == 0);
    CHECK((off.ecx & sdm::cpuid1_ecx::monitor) == 0);
    CHECK((off.ecx & sdm::cpuid1_ecx::osxsave) == 0);
    CHECK((off.ecx & sdm::cpuid1_ecx::xsave) != 0);
    CHECK(off.eax == ~0u);
    CHECK(off.edx == ~0u);
    const cpuid_answer on = guest_view_of_host(1, 0, cpuid_answer{0, 0, 0, 0}, true, ~0ull);
    CHECK(on.ecx == (sdm::cpuid1_ecx::hypervisor | sdm::cpuid1_ecx::osxsave));
}

TEST_CASE("leaf 7 subleaf 0 hides INVPCID and CET; other subleaves pass") {
    const cpuid_answer seven = guest_view_of_host(7, 0, all_ones, false, ~0ull);
    CHECK(seven.ebx == ~sdm::cpuid7_ebx::invpcid);
    CHECK(seven.ecx == ~sdm::cpuid7_ecx::cet_ss);
    CHECK(seven.edx == ~sdm::cpuid7_edx::cet_ibt);
    CHECK(seven.eax == ~0u);
    CHECK(same(guest_view_of_host(7, 1, all_ones, false, ~0ull), all_ones));
}

TEST_CASE("leaf 0xD subleaf 1 hides XSAVES; subleaf 0 passes with every feature in XCR0") {
    CHECK((guest_view_of_host(0xd, 1, all_ones, false, ~0ull).eax & sdm::cpuid_d1_eax::xsaves) ==
          0);
    CHECK(same(guest_view_of_host(0xd, 0, all_ones, false, ~0ull), all_ones));
}

TEST_CASE("leaf 0xD offers only the XSAVE features of the host's XCR0") {
    // A host with x87, SSE, AVX and PKRU (bit 9) enabled, on a CPU that has AVX-512 too.
    constexpr std::uint64_t xcr0 = 0x207;
    const cpuid_answer zero = guest_view_of_host(0xd, 0, all_ones, false, xcr0);
    CHECK(zero.eax == 0x207);
    CHECK(zero.edx == 0);
    CHECK(zero.ebx == ~0u); // the size for the XCR0 in force: the hardware's
    CHECK(zero.ecx == ~0u);
    CHECK(same(guest_view_of_host(0xd, 2, all_ones, false, xcr0), all_ones)); // AVX
    CHECK(same(guest_view_of_host(0xd, 9, all_ones, false, xcr0), all_ones)); // PKRU
    for (std::uint32_t sub : {5u, 6u, 7u, 8u, 62u, 63u})
        CHECK(same(guest_view_of_host(0xd, sub, all_ones, false, xcr0), cpuid_answer{0, 0, 0, 0}));
    CHECK(same(guest_view_of_host(0xd, 64, all_ones, false, xcr0), all_ones)); // past XCR0's bits
}

TEST_CASE("leaf 0x80000001 hides RDTSCP; other leaves pass unchanged") {
    CHECK((guest_view_of_host(extended_leaf1, 0, all_ones, false, ~0ull).edx &
           sdm::cpuid_ext1_edx::rdtscp) == 0);
    for (std::uint32_t leaf : {0u, 2u, 4u, 0xbu, 0x80000000u, 0x80000008u})
        CHECK(same(guest_view_of_host(leaf, 0, all_ones, true, ~0ull), all_ones));
}

TEST_CASE("the hypervisor range: vendor leaf, zeros up to 0x400000FF, the host above") {
    CHECK(is_hypervisor_range(0x40000000));
    CHECK(is_hypervisor_range(0x4fffffff));
    CHECK(!is_hypervisor_range(0x3fffffff));
    CHECK(!is_hypervisor_range(0x50000000));
    // The vendor leaf as a guest reads it: the highest hypervisor leaf in EAX, then the vendor
    // string in EBX, ECX, EDX (README, "Other leaves").
    const cpuid_answer vendor = own_hypervisor_answer(0x40000000);
    CHECK(vendor.eax == 0x40000000);
    std::string name;
    for (std::uint32_t reg : {vendor.ebx, vendor.ecx, vendor.edx})
        for (int byte = 0; byte < 4; ++byte)
            name += static_cast<char>(reg >> (8 * byte));
    CHECK(name == "ExitscopeVMM");
    CHECK(is_own_hypervisor_leaf(0x400000ff));
    CHECK(same(own_hypervisor_answer(0x40000001), cpuid_answer{0, 0, 0, 0}));
    CHECK(!is_own_hypervisor_leaf(0x40000100));
    CHECK(!is_own_hypervisor_leaf(0x4ffffffc));
}

TEST_CASE("a shadow-paging VM sees no PCID, INVPCID, SMEP, SMAP, PKU or LA57") {
    using namespace sdm;
    const cpuid_answer l1 = shadow_paging_view(1, 0, all_ones);
    CHECK(l1.ecx == ~cpuid1_ecx::pcid);
    CHECK(l1.eax == ~0u);
    CHECK(l1.ebx == ~0u);
    CHECK(l1.edx == ~0u);
    const cpuid_answer l7 = shadow_paging_view(7, 0, all_ones);
    CHECK(l7.ebx == ~(cpuid7_ebx::invpcid | cpuid7_ebx::smep | cpuid7_ebx::smap));
    CHECK(l7.ecx == ~(cpuid7_ecx::pku | cpuid7_ecx::ospke | cpuid7_ecx::la57));
    CHECK(l7.edx == ~0u);
    CHECK(same(shadow_paging_view(7, 1, all_ones), all_ones));
    CHECK(same(shadow_paging_view(0x80000001, 0, all_ones), all_ones));
    CHECK(same(shadow_paging_view(0, 0, all_ones), all_ones));
}
