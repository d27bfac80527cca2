// Initial guest state per mode, and the identity page tables for long mode.
#include <catch2/catch.hpp>
#include <map>

#include "sdm/cpu_bits.hpp"
#include "sdm/msrs.hpp"
#include "vmx/pure/guest_modes.hpp"

using namespace es;

namespace {
constexpr std::uint64_t mib = 1ull << 20;
constexpr std::uint64_t ne = sdm::cr0::ne;
constexpr std::uint64_t vmxe = sdm::cr4::vmxe;
} // namespace

TEST_CASE("real mode: CS:IP reaches the entry, paging and protection off") {
    const auto g = initial_guest_state(guest_mode::real, 0x1000, 0, 2 * mib, ne, vmxe);
    CHECK(g.cs.base == 0);
    CHECK(g.rip == 0x1000);
    CHECK(g.cs.limit == 0xffff);
    CHECK((g.cr0 & sdm::cr0::pe) == 0);
    CHECK((g.cr0 & ne) == ne);         // forced in hardware
    CHECK((g.cr4 & vmxe) == vmxe);     // forced in hardware...
    CHECK((g.cr4_shadow & vmxe) == 0); // ...and hidden from the guest
    CHECK(g.rsp == 0xfff0);
    CHECK_FALSE(g.ia32e);
    CHECK((g.rflags & sdm::rflags::intf) == 0);
}

TEST_CASE("real mode above 64 KiB picks a code segment") {
    const auto g = initial_guest_state(guest_mode::real, 0x12345, 0, 2 * mib, ne, vmxe);
    CHECK(g.cs.base + g.rip == 0x12345);
    CHECK(g.cs.selector == g.cs.base >> 4);
    CHECK(g.rip < 0x10000);
}

TEST_CASE("protected mode: flat 32-bit segments, PE on, paging off") {
    const auto g = initial_guest_state(guest_mode::protected32, 0x1000, 0, 2 * mib, ne, vmxe);
    CHECK(g.cr0 & sdm::cr0::pe);
    CHECK((g.cr0 & sdm::cr0::pg) == 0);
    CHECK(g.cs.limit == 0xffffffff);
    CHECK(g.cs.access & (1u << 14)); // 32-bit default operand size
    CHECK(g.rsp == 2 * mib);
}

TEST_CASE("long mode: paging, PAE, LME/LMA, 64-bit code, CR3 at the tables") {
    const auto g = initial_guest_state(guest_mode::long64, 0x1000, 0, 2 * mib, ne, vmxe);
    CHECK(g.ia32e);
    CHECK(g.cr0 & sdm::cr0::pg);
    CHECK(g.cr4 & sdm::cr4::pae);
    CHECK(g.efer == (sdm::efer::lme | sdm::efer::lma));
    CHECK(g.cs.access & (1u << 13));        // L
    CHECK((g.cs.access & (1u << 14)) == 0); // D must be 0 with L
    CHECK(g.cr3 == 2 * mib - 12 * 1024);    // the tables fill the top 12 KiB of RAM
    CHECK(g.rsp == g.cr3);
}

TEST_CASE("an explicit stack wins over the default") {
    CHECK(initial_guest_state(guest_mode::real, 0x1000, 0x8000, 2 * mib, ne, vmxe).rsp == 0x8000);
}

TEST_CASE("identity tables map all of RAM with 2 MiB pages") {
    std::map<std::uint64_t, std::uint64_t> mem;
    const std::uint64_t ram = 5 * mib;
    build_identity_tables(ram, [&mem](std::uint64_t gpa, std::uint64_t v) { mem[gpa] = v; });
    const std::uint64_t pml4 = ram - 12 * 1024; // PML4, PDPT, PD in the top 12 KiB
    CHECK(page_tables_base(ram) == pml4);
    CHECK(mem.size() == 2 + 3); // one PML4 and one PDPT entry, three PD entries
    CHECK(mem[pml4] == ((pml4 + 4096) | 3));
    CHECK(mem[pml4 + 4096] == ((pml4 + 8192) | 3));
    const std::uint64_t pd = pml4 + 8192;
    CHECK(mem[pd] == 0x83);
    CHECK(mem[pd + 8] == (2 * mib | 0x83));
    CHECK(mem[pd + 16] == (4 * mib | 0x83));
    CHECK(mem.count(pd + 24) == 0); // 5 MiB needs three 2 MiB pages
}

TEST_CASE("guest RIPs VM entry accepts: canonical in 64-bit code, below 4 GiB otherwise") {
    CHECK(guest_rip_enterable(0x00007fffffffffffull, true));
    CHECK_FALSE(guest_rip_enterable(0x0000800000000000ull, true)); // just past the lower half
    CHECK(guest_rip_enterable(0xffff800000000000ull, true));
    CHECK_FALSE(guest_rip_enterable(0xffff7fffffffffffull, true));
    CHECK(guest_rip_enterable(0xffffffffull, false));
    CHECK_FALSE(guest_rip_enterable(0x100000000ull, false)); // an instruction that ended at 4 GiB
    CHECK_FALSE(guest_rip_enterable(0xffff800000000000ull, false));
}
