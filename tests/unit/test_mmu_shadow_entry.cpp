// Shadow entries (mmu/shadow_entry.hpp): never wider than the guest's rights, read-only until the
// guest's D is set, write-back, the CR0.WP = 0 conversion; a shadow #PF classified into the
// guest's own fault (exact error code and CR2) or a fill.
#include <catch2/catch.hpp>

#include "mmu/shadow_entry.hpp"
#include "tests/unit/fake_guest_ram.hpp"

using namespace es;
using namespace es::test;
using mmu::access_kind;
using mmu::shadow_fault_action;
using pg::level;

namespace {

constexpr std::uint64_t host = 0x12345000;

mmu::walk_result translation(mmu::page_permissions p, bool dirty, std::uint64_t address = page) {
    return {mmu::walk_outcome::translated, address, 0, level::pt, p, dirty, 0, {}};
}

std::uint64_t pte_for(mmu::page_permissions p, bool dirty, mmu::access a,
                      const mmu::paging_context& c = linux_like) {
    return mmu::shadow_pte(translation(p, dirty), a, c, host);
}

constexpr std::uint64_t base = host | pg::present | pg::accessed;
constexpr std::uint64_t writable_dirty = pg::writable | pg::dirty;

} // namespace

TEST_CASE("shadow: table entries grant everything, the leaf decides") {
    CHECK(mmu::shadow_table_entry(0xabc000) ==
          (0xabc000 | pg::present | pg::writable | pg::user | pg::accessed));
    CHECK(mmu::shadow_table_entry(0xfff0000000abc123) == (0xabc000 | mmu::shadow_table_entry(0)));
}

TEST_CASE("shadow: a writable guest page is read-only in the shadow until the guest's D is set") {
    const mmu::page_permissions rw{true, true, true, false};
    CHECK(pte_for(rw, false, user_read) == (base | pg::user));
    CHECK(pte_for(rw, true, user_read) == (base | pg::user | writable_dirty));
    CHECK(pte_for(rw, true, user_write) == (base | pg::user | writable_dirty));
}

TEST_CASE("shadow: never wider than the guest: read-only, supervisor, XD, global carried over") {
    CHECK(pte_for({false, true, true, false}, true, user_read) == (base | pg::user));
    CHECK(pte_for({true, false, true, false}, true, sup_write) == (base | writable_dirty));
    CHECK(pte_for({true, true, false, false}, true, sup_read) ==
          (base | pg::user | writable_dirty | pg::execute_disable));
    CHECK(pte_for({false, false, false, true}, false, sup_read) ==
          (base | pg::execute_disable | pg::global));
}

TEST_CASE("shadow: CR0.WP = 0 supervisor write to a read-only page: writable, supervisor-only") {
    mmu::paging_context c = linux_like;
    c.write_protect = false;
    const mmu::page_permissions ro_user{false, true, true, false};
    CHECK(pte_for(ro_user, true, sup_write, c) == (base | writable_dirty));
    // The user access that follows faults on it and gets the guest's read-only user page back.
    CHECK(pte_for(ro_user, true, user_read, c) == (base | pg::user));
    // With SMEP the converted page must not become executable for the supervisor.
    c.smep = true;
    CHECK(pte_for(ro_user, true, sup_write, c) == (base | writable_dirty | pg::execute_disable));
    // A supervisor page has nothing to lose to SMEP.
    CHECK(pte_for({false, false, true, false}, true, sup_write, c) == (base | writable_dirty));
    // With WP = 1 no conversion: the walk faulted such a write already, and a read stays read-only.
    CHECK(pte_for(ro_user, true, sup_write) == (base | pg::user));
}

TEST_CASE("shadow: the guest's caching bits do not reach the shadow, and frames are masked") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, page, rw_user | pg::pwt | pg::pcd | pg::pat_4k | pg::dirty);
    const mmu::walk_result r = mmu::guest_walk(ram, pml4, lin, sup_read, linux_like);
    REQUIRE(r.outcome == mmu::walk_outcome::translated);
    CHECK(mmu::shadow_pte(r, sup_read, linux_like, host | 0xfff | (0xfffull << 52)) ==
          (base | pg::user | writable_dirty));
}

TEST_CASE("shadow: a large guest page is mapped by its 4 KiB piece") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, 0x40000000, rw_user, level::pdpt);
    const mmu::walk_result r = mmu::guest_walk(ram, pml4, lin, sup_read, linux_like);
    REQUIRE(r.outcome == mmu::walk_outcome::translated);
    CHECK(mmu::guest_frame(r) == 0x40000000 + (lin & 0x3ffff000));
    map(ram, lin, 0x200000, rw_user, level::pd);
    CHECK(mmu::guest_frame(mmu::guest_walk(ram, pml4, lin, sup_read, linux_like)) == 0x209000);
}

TEST_CASE("shadow: the access a shadow #PF describes") {
    using mmu::access_of_page_fault;
    auto same = [](mmu::access x, mmu::access y) {
        return x.kind == y.kind && x.user == y.user && x.smap_override == y.smap_override;
    };
    CHECK(same(access_of_page_fault(0, false), sup_read));
    CHECK(same(access_of_page_fault(pf_p | pf_w, false), sup_write));
    CHECK(same(access_of_page_fault(pf_u | pf_w, true), user_write)); // AC matters only < CPL 3
    CHECK(same(access_of_page_fault(pf_id, false), mmu::supervisor_access(access_kind::fetch)));
    CHECK(same(access_of_page_fault(pf_u | pf_id, false), mmu::user_access(access_kind::fetch)));
    CHECK(same(access_of_page_fault(pf_p, true), mmu::supervisor_access(access_kind::read, true)));
}

TEST_CASE("shadow: a fault the guest's tables allow is a fill, and a first write sets D") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, page, rw_user);
    // The shadow has nothing yet: P = 0, a user read.
    mmu::shadow_fault_decision d = mmu::shadow_page_fault(ram, pml4, lin, pf_u, false, linux_like);
    REQUIRE(d.action == shadow_fault_action::fill);
    CHECK(mmu::guest_frame(d.walk) == page);
    CHECK(mmu::shadow_pte(d.walk, user_read, linux_like, host) == (base | pg::user));
    CHECK((ram[pte(lin)] & pg::dirty) == 0);
    // The read-only shadow entry makes the first write fault (P = 1): the walk sets D.
    d = mmu::shadow_page_fault(ram, pml4, lin, pf_p | pf_w | pf_u, false, linux_like);
    REQUIRE(d.action == shadow_fault_action::fill);
    CHECK(ram[pte(lin)] == (page | rw_user | pg::accessed | pg::dirty));
    CHECK(mmu::shadow_pte(d.walk, user_write, linux_like, host) ==
          (base | pg::user | writable_dirty));
}

TEST_CASE("shadow: the guest's own faults are injected with its error code and CR2") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, page, pg::present | pg::user | pg::execute_disable);
    // The shadow had no entry (P = 0); the guest's page is present and read-only: P = 1.
    mmu::shadow_fault_decision d =
        mmu::shadow_page_fault(ram, pml4, lin, pf_w | pf_u, false, linux_like);
    CHECK(d.action == shadow_fault_action::inject_page_fault);
    CHECK(d.error_code == (pf_p | pf_w | pf_u));
    CHECK(d.cr2 == lin);
    d = mmu::shadow_page_fault(ram, pml4, lin, pf_u | pf_id, false, linux_like);
    CHECK(d.action == shadow_fault_action::inject_page_fault);
    CHECK(d.error_code == (pf_p | pf_u | pf_id));
    // I/D as the guest's NXE and SMEP give it, not as the hardware reported it.
    ram[pte(lin)] = 0;
    mmu::paging_context no_nx = linux_like;
    no_nx.nx = false;
    d = mmu::shadow_page_fault(ram, pml4, lin, pf_id, false, no_nx);
    CHECK(d.action == shadow_fault_action::inject_page_fault);
    CHECK(d.error_code == 0);
    CHECK(d.cr2 == lin);
}

TEST_CASE("shadow: SMAP's AC override comes from the caller for supervisor faults") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, page, rw_user | pg::dirty);
    mmu::paging_context c = linux_like;
    c.smap = true;
    mmu::shadow_fault_decision d = mmu::shadow_page_fault(ram, pml4, lin, 0, false, c);
    CHECK(d.action == shadow_fault_action::inject_page_fault);
    CHECK(d.error_code == pf_p);
    d = mmu::shadow_page_fault(ram, pml4, lin, 0, true, c);
    CHECK(d.action == shadow_fault_action::fill);
}

TEST_CASE("shadow: tables outside RAM stop the run, races resume the guest") {
    fake_guest_ram ram(ram_bytes);
    mmu::shadow_fault_decision d =
        mmu::shadow_page_fault(ram, ram_bytes, lin, pf_w, false, linux_like);
    CHECK(d.action == shadow_fault_action::stop_outside_ram);
    CHECK(d.walk.address == ram_bytes + 3ull * 8);
    map(ram, lin, page, rw_user);
    ram.failing_stores = 100;
    d = mmu::shadow_page_fault(ram, pml4, lin, pf_w, false, linux_like);
    CHECK(d.action == shadow_fault_action::retry);
    CHECK(mmu::classify_shadow_fault(
              mmu::guest_walk(ram, pml4, 0x0000800000000000ull, sup_read, linux_like), 0)
              .action == shadow_fault_action::inject_general_protection);
}
