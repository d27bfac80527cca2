// The guest page walk (mmu/guest_walk.hpp) against the SDM's rules, one rule per case: leaves at
// each level, faults at each level with their exact error codes, reserved bits (the rights,
// A/D, tables outside RAM, non-canonical addresses and races: test_mmu_guest_walk_rights.cpp).
#include <catch2/catch.hpp>

#include "tests/unit/guest_walk_checks.hpp"

using namespace es;
using namespace es::test;

TEST_CASE("walk: a 4 KiB leaf translates, sets A at all four levels, D only for a write") {
    fake_guest_ram ram = mapped_4k();
    mmu::walk_result r = walk(ram, sup_read);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == page + 0xabc);
    CHECK(r.level == level::pt);
    CHECK(page_bytes(r) == 4096);
    CHECK(r.permissions == mmu::page_permissions{true, true, true, false});
    CHECK_FALSE(r.dirty);
    CHECK(ram[pml4e(lin)] == (pdpt | rw_user | pg::accessed));
    CHECK(ram[pdpte(lin)] == (pd | rw_user | pg::accessed));
    CHECK(ram[pde(lin)] == (pt | rw_user | pg::accessed));
    CHECK(ram[pte(lin)] == (page | rw_user | pg::accessed));
    CHECK(ram.stores == 4);

    r = walk(ram, sup_write);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.dirty);
    CHECK(ram[pte(lin)] == (page | rw_user | pg::accessed | pg::dirty));
    CHECK(ram[pde(lin)] == (pt | rw_user | pg::accessed)); // bit 6 of a table reference: ignored
    CHECK(ram.stores == 5);

    // Everything set already: no store at all.
    r = walk(ram, sup_write);
    CHECK(r.outcome == walk_outcome::translated);
    CHECK(ram.stores == 5);
}

TEST_CASE("walk: a fetch sets A only, a read of a dirty page reports it dirty") {
    fake_guest_ram ram = mapped_4k(rw_user | pg::dirty);
    const mmu::walk_result r = walk(ram, sup_fetch);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.dirty);
    CHECK(ram[pte(lin)] == (page | rw_user | pg::dirty | pg::accessed));
}

TEST_CASE("walk: a 2 MiB leaf maps 21 bits of offset, A/D in the PDE, the PT untouched") {
    fake_guest_ram ram(ram_bytes);
    constexpr std::uint64_t frame = 0x40200000;
    map(ram, lin, frame, rw_user, level::pd);
    ram[pte(lin)] = 0x1234; // not part of this walk
    const mmu::walk_result r = walk(ram, user_write);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == frame + (lin & 0x1fffff));
    CHECK(r.level == level::pd);
    CHECK(page_bytes(r) == 2ull << 20);
    CHECK(ram[pde(lin)] == (frame | rw_user | pg::page_size | pg::accessed | pg::dirty));
    CHECK(ram[pdpte(lin)] == (pd | rw_user | pg::accessed));
    CHECK(ram[pte(lin)] == 0x1234);
    CHECK(ram.stores == 3);
}

TEST_CASE("walk: a 1 GiB leaf maps 30 bits of offset where 1 GiB pages exist, else RSVD") {
    fake_guest_ram ram(ram_bytes);
    constexpr std::uint64_t frame = 0x3c0000000;
    map(ram, lin, frame, rw_user, level::pdpt);
    mmu::walk_result r = walk(ram, sup_read);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == frame + (lin & 0x3fffffff));
    CHECK(r.level == level::pdpt);
    CHECK(page_bytes(r) == 1ull << 30);
    CHECK(ram[pdpte(lin)] == (frame | rw_user | pg::page_size | pg::accessed));

    fake_guest_ram ram2(ram_bytes);
    map(ram2, lin, frame, rw_user, level::pdpt);
    mmu::paging_context no_1g = linux_like;
    no_1g.page_1gb = false;
    require_fault(walk(ram2, sup_read, no_1g), pf_p | pf_rsvd, level::pdpt);
    CHECK(ram2.stores == 0);
}

TEST_CASE("walk: large-page frames keep the PAT bit (bit 12), not bits 20:13 or 29:13") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, 0x40200000 | pg::pat_large, rw_user, level::pd);
    mmu::walk_result r = walk(ram, sup_read);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == 0x40200000 + (lin & 0x1fffff));
    for (unsigned bit : {13u, 20u}) {
        ram[pde(lin)] = 0x40200000 | rw_user | pg::page_size | (1ull << bit);
        require_fault(walk(ram, sup_read), pf_p | pf_rsvd, level::pd);
    }
    map(ram, lin, 0x3c0000000 | pg::pat_large, rw_user, level::pdpt);
    r = walk(ram, sup_read);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == 0x3c0000000 + (lin & 0x3fffffff));
    for (unsigned bit : {13u, 21u, 29u}) {
        ram[pdpte(lin)] = 0x3c0000000 | rw_user | pg::page_size | (1ull << bit);
        require_fault(walk(ram, sup_read), pf_p | pf_rsvd, level::pdpt);
    }
    // A PTE's bit 7 is its PAT bit, not PS.
    fake_guest_ram ram4 = mapped_4k(rw_user | pg::pat_4k);
    r = walk(ram4, sup_read);
    CHECK(r.outcome == walk_outcome::translated);
    CHECK(r.level == level::pt);
}

TEST_CASE("walk: a non-present entry at each level: P = 0, nothing stored") {
    for (level l : all_levels) {
        fake_guest_ram ram = mapped_4k_changed(l, 0, pg::present);
        const fake_guest_ram before = ram;
        INFO("level " << static_cast<int>(l));
        require_fault(walk(ram, sup_read), 0, l);
        require_fault(walk(ram, user_write), pf_w | pf_u, l);
        require_fault(walk(ram, sup_fetch), pf_id, l);
        require_fault(walk(ram, user_fetch), pf_u | pf_id, l);
        CHECK(ram == before);
        CHECK(ram.stores == 0);
    }
}

TEST_CASE("walk: a non-present entry's other bits are ignored, reserved ones included") {
    fake_guest_ram ram = mapped_4k();
    ram[pde(lin)] = ~pg::present;
    require_fault(walk(ram, sup_read), 0, level::pd);
}

TEST_CASE("walk: bits 51:MAXPHYADDR are reserved at every level") {
    mmu::paging_context c = linux_like;
    c.maxphyaddr = 36;
    for (level l : all_levels) {
        for (unsigned bit : {36u, 45u, 51u}) {
            fake_guest_ram ram = mapped_4k_changed(l, 1ull << bit);
            INFO("level " << static_cast<int>(l) << " bit " << bit);
            require_fault(walk(ram, sup_read, c), pf_p | pf_rsvd, l);
            require_fault(walk(ram, user_write, c), pf_p | pf_rsvd | pf_w | pf_u, l);
            CHECK(ram.stores == 0);
        }
    }
    fake_guest_ram top = mapped_4k(rw_user | (1ull << 35)); // an address bit with MAXPHYADDR 36
    mmu::walk_result r = walk(top, sup_read, c);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == ((1ull << 35) | page | 0xabc));
    // With MAXPHYADDR 52 no address bit is reserved; bits 62:52 are ignored.
    c.maxphyaddr = 52;
    fake_guest_ram ram = mapped_4k(rw_user | (1ull << 51) | (0x7ffull << 52));
    r = walk(ram, sup_read, c);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == ((1ull << 51) | page | 0xabc));
}

TEST_CASE("walk: PS in a PML4E is reserved") {
    fake_guest_ram ram = mapped_4k();
    ram[pml4e(lin)] |= pg::page_size;
    require_fault(walk(ram, user_read), pf_p | pf_rsvd | pf_u, level::pml4);
}

TEST_CASE("walk: XD is reserved at every level when EFER.NXE = 0") {
    mmu::paging_context c = linux_like;
    c.nx = false;
    for (level l : all_levels) {
        fake_guest_ram ram = mapped_4k_changed(l, pg::execute_disable);
        INFO("level " << static_cast<int>(l));
        require_fault(walk(ram, sup_read, c), pf_p | pf_rsvd, l);
        // I/D is reported only with NXE or SMEP.
        require_fault(walk(ram, sup_fetch, c), pf_p | pf_rsvd, l);
        c.smep = true;
        require_fault(walk(ram, sup_fetch, c), pf_p | pf_rsvd | pf_id, l);
        c.smep = false;
    }
}

TEST_CASE("walk: the first reserved or non-present entry from the top decides") {
    fake_guest_ram ram = mapped_4k();
    ram[pdpte(lin)] |= 1ull << 40; // reserved with MAXPHYADDR 39
    ram[pte(lin)] = 0;             // not present, further down
    require_fault(walk(ram, sup_read), pf_p | pf_rsvd, level::pdpt);
    ram[pml4e(lin)] &= ~pg::present;
    require_fault(walk(ram, sup_read), 0, level::pml4);
}
