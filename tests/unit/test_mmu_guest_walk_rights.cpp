// The guest page walk (mmu/guest_walk.hpp) against the SDM's rules, continued: the rights under
// WP, NXE, SMEP and SMAP, global pages, tables outside RAM, non-canonical addresses, races and
// the context from the control registers.
#include <catch2/catch.hpp>

#include "tests/unit/guest_walk_checks.hpp"

using namespace es;
using namespace es::test;

namespace {

// A right taken away in one entry: the accesses it refuses (with their error codes, always at
// the leaf: rights are checked on the whole translation) and one it still allows.
struct removed_right {
    const char* what;
    std::uint64_t set, clear;
    mmu::access refused[3];
    std::uint32_t code[3];
    mmu::access allowed;
    mmu::page_permissions rights;
};

const removed_right removed_rights[] = {
    {"XD",
     pg::execute_disable,
     0,
     {sup_fetch, user_fetch, user_fetch},
     {pf_p | pf_id, pf_p | pf_u | pf_id, pf_p | pf_u | pf_id},
     user_write,
     {true, true, false, false}},
    {"U/S clear",
     0,
     pg::user,
     {user_read, user_write, user_fetch},
     {pf_p | pf_u, pf_p | pf_w | pf_u, pf_p | pf_u | pf_id},
     sup_write,
     {true, false, true, false}},
    {"R/W clear",
     0,
     pg::writable,
     {sup_write, user_write, user_write},
     {pf_p | pf_w, pf_p | pf_w | pf_u, pf_p | pf_w | pf_u},
     user_read,
     {false, true, true, false}},
};

} // namespace

TEST_CASE("walk: XD (NXE = 1), U/S and R/W (WP = 1) in any one entry refuse their accesses") {
    for (const removed_right& row : removed_rights) {
        for (level l : all_levels) {
            fake_guest_ram ram = mapped_4k_changed(l, row.set, row.clear);
            INFO(row.what << " at level " << static_cast<int>(l));
            for (unsigned i = 0; i < 3; ++i)
                require_fault(walk(ram, row.refused[i]), row.code[i], level::pt);
            CHECK(ram.stores == 0);
            const mmu::walk_result r = walk(ram, row.allowed);
            REQUIRE(r.outcome == walk_outcome::translated);
            CHECK(r.permissions == row.rights);
        }
    }
}

TEST_CASE("walk: with EFER.NXE = 0 every page is executable") {
    mmu::paging_context c = linux_like;
    c.nx = false;
    fake_guest_ram ram = mapped_4k(pg::present);
    const mmu::walk_result r = walk(ram, sup_fetch, c);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.permissions.executable);
    // A supervisor page: a user fetch faults, without I/D.
    require_fault(walk(ram, user_fetch, c), pf_p | pf_u, level::pt);
}

TEST_CASE("walk: CR0.WP = 0 lets supervisor writes through R/W clear at any level, and sets D") {
    mmu::paging_context no_wp = linux_like;
    no_wp.write_protect = false;
    for (level l : all_levels) {
        fake_guest_ram ram = mapped_4k_changed(l, 0, pg::writable);
        INFO("level " << static_cast<int>(l));
        require_fault(walk(ram, user_write, no_wp), pf_p | pf_w | pf_u, level::pt);
        CHECK_FALSE(walk(ram, user_read, no_wp).dirty);
        const mmu::walk_result r = walk(ram, sup_write, no_wp);
        REQUIRE(r.outcome == walk_outcome::translated);
        CHECK_FALSE(r.permissions.writable);
        CHECK(r.dirty);
        CHECK((ram[pte(lin)] & pg::dirty) != 0);
    }
}

TEST_CASE("walk: SMEP stops supervisor fetches from user pages, with I/D even without NXE") {
    mmu::paging_context c = linux_like;
    c.smep = true;
    fake_guest_ram ram = mapped_4k();
    require_fault(walk(ram, sup_fetch, c), pf_p | pf_id, level::pt);
    c.nx = false;
    require_fault(walk(ram, sup_fetch, c), pf_p | pf_id, level::pt);
    CHECK(walk(ram, user_fetch, c).outcome == walk_outcome::translated);
    CHECK(walk(ram, sup_read, c).outcome == walk_outcome::translated);
    ram[pde(lin)] &= ~pg::user; // now a supervisor page
    CHECK(walk(ram, sup_fetch, c).outcome == walk_outcome::translated);
}

TEST_CASE("walk: SMAP stops supervisor data accesses to user pages unless AC overrides") {
    mmu::paging_context c = linux_like;
    c.smap = true;
    fake_guest_ram ram = mapped_4k();
    require_fault(walk(ram, sup_read, c), pf_p, level::pt);
    require_fault(walk(ram, sup_write, c), pf_p | pf_w, level::pt);
    CHECK(walk(ram, sup_fetch, c).outcome == walk_outcome::translated); // SMAP is not about fetches
    const mmu::access read_ac = mmu::supervisor_access(access_kind::read, true);
    const mmu::access write_ac = mmu::supervisor_access(access_kind::write, true);
    CHECK(walk(ram, read_ac, c).outcome == walk_outcome::translated);
    CHECK(walk(ram, write_ac, c).outcome == walk_outcome::translated);
    // The override does not lift R/W with WP = 1; with WP = 0 it writes a read-only user page.
    ram[pte(lin)] &= ~pg::writable;
    require_fault(walk(ram, write_ac, c), pf_p | pf_w, level::pt);
    c.write_protect = false;
    CHECK(walk(ram, write_ac, c).outcome == walk_outcome::translated);
    require_fault(walk(ram, sup_write, c), pf_p | pf_w, level::pt);
}

TEST_CASE("walk: G makes the leaf global only with CR4.PGE, and only in the leaf") {
    fake_guest_ram ram = mapped_4k(rw_user | pg::global);
    CHECK(walk(ram, sup_read).permissions.global);
    mmu::paging_context c = linux_like;
    c.global_pages = false;
    CHECK_FALSE(walk(ram, sup_read, c).permissions.global);
    fake_guest_ram tables_only = mapped_4k(rw_user, rw_user | pg::global);
    CHECK_FALSE(walk(tables_only, sup_read).permissions.global);
}

TEST_CASE("walk: a permission fault after a full walk stores nothing") {
    fake_guest_ram ram = mapped_4k(pg::present | pg::user);
    const fake_guest_ram before = ram;
    require_fault(walk(ram, user_write), pf_p | pf_w | pf_u, level::pt);
    CHECK(ram == before);
}

TEST_CASE("walk: a table outside guest RAM names the entry it could not read") {
    fake_guest_ram ram = mapped_4k();
    constexpr std::uint64_t outside = ram_bytes + 0x5000;
    mmu::walk_result r = mmu::guest_walk(ram, outside, lin, sup_read, linux_like);
    REQUIRE(r.outcome == walk_outcome::table_outside_ram);
    CHECK(r.address == outside + 3ull * 8);
    CHECK(r.level == level::pml4);

    ram[pdpte(lin)] = outside | rw_user;
    const fake_guest_ram before = ram;
    r = walk(ram, sup_write);
    REQUIRE(r.outcome == walk_outcome::table_outside_ram);
    CHECK(r.address == outside + 7ull * 8);
    CHECK(r.level == level::pd);
    CHECK(ram == before); // no A set on the levels above
}

TEST_CASE("walk: a leaf outside RAM is still a translation (the caller checks the frame)") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, 0x80000000, rw_user);
    const mmu::walk_result r = walk(ram, sup_read);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == 0x80000abc);
}

TEST_CASE("walk: non-canonical addresses are #GP, before any table is read") {
    fake_guest_ram ram(ram_bytes);
    for (std::uint64_t a : {0x0000800000000000ull, 0xffff7fffffffffffull, 0x8000000000000000ull}) {
        const mmu::walk_result r = walk(ram, sup_read, linux_like, a);
        CHECK(r.outcome == walk_outcome::non_canonical);
        CHECK(r.error_code == 0);
    }
    CHECK(ram.stores == 0);
    // The upper half is canonical: PML4 index 511.
    constexpr std::uint64_t high = 0xffffff8000201234ull;
    map(ram, high, page, rw_user);
    const mmu::walk_result r = walk(ram, sup_read, linux_like, high);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == page + 0x234);
    CHECK(pml4e(high) == pml4 + 511ull * 8);
}

TEST_CASE("walk: CR3's flag bits and bits above MAXPHYADDR do not move the PML4") {
    fake_guest_ram ram = mapped_4k();
    const std::uint64_t cr3 = pml4 | pg::pwt | pg::pcd | (1ull << 45);
    const mmu::walk_result r = mmu::guest_walk(ram, cr3, lin, sup_read, linux_like);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == page + 0xabc);
}

TEST_CASE("walk: an entry changed by another vCPU restarts the walk, and enough races give up") {
    fake_guest_ram ram = mapped_4k();
    ram.failing_stores = 1;
    mmu::walk_result r = walk(ram, sup_write);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(ram[pte(lin)] == (page | rw_user | pg::accessed | pg::dirty));

    fake_guest_ram busy = mapped_4k();
    busy.failing_stores = mmu::max_walk_attempts;
    r = walk(busy, sup_read);
    CHECK(r.outcome == walk_outcome::raced);
    CHECK(busy.stores == 0);
}

TEST_CASE("walk: a PML4 that maps itself is walked four times and updated once per bit") {
    fake_guest_ram ram(ram_bytes);
    constexpr std::uint64_t self =
        (510ull << 39) | (510ull << 30) | (510ull << 21) | (510ull << 12);
    constexpr std::uint64_t linear = 0xffff000000000000ull | self | 0x18;
    ram[pml4 + 510ull * 8] = pml4 | rw_user;
    const mmu::walk_result r = walk(ram, sup_write, linux_like, linear);
    REQUIRE(r.outcome == walk_outcome::translated);
    CHECK(r.address == pml4 + 0x18);
    CHECK(ram[pml4 + 510ull * 8] == (pml4 | rw_user | pg::accessed | pg::dirty));
    CHECK(ram.stores == 2); // A at the PML4 level, D at the leaf: no restart
}

TEST_CASE("walk: the context follows CR0, CR4 and EFER") {
    const mmu::paging_context c =
        mmu::context_of(sdm::cr0::pg | sdm::cr0::wp, sdm::cr4::pae | sdm::cr4::smap,
                        sdm::efer::lme | sdm::efer::nxe, 46, false);
    CHECK(c.write_protect);
    CHECK(c.nx);
    CHECK_FALSE(c.global_pages);
    CHECK_FALSE(c.smep);
    CHECK(c.smap);
    CHECK_FALSE(c.page_1gb);
    CHECK(c.maxphyaddr == 46);
    const mmu::paging_context d = mmu::context_of(0, sdm::cr4::pge | sdm::cr4::smep, 0, 36, true);
    CHECK_FALSE(d.write_protect);
    CHECK_FALSE(d.nx);
    CHECK(d.global_pages);
    CHECK(d.smep);
    CHECK(d.page_1gb);
}
