// PTE prefetch (mmu/shadow_prefetch.hpp): after a 4 KiB fill, the neighbours of the same guest
// page table in the aligned window, each skipped for its reason (not present, reserved bit, A
// clear, outside RAM, already mapped), each prefetched with exactly the shadow leaf a fill for a
// supervisor read would give it (the upper rights narrowed by its PTE, read-only until dirty, G
// with CR4.PGE), never a guest-memory write, never a table beyond the fill's.
#include <catch2/catch.hpp>

#include "mmu/shadow_prefetch.hpp"
#include "tests/unit/fake_guest_ram.hpp"
#include "tests/unit/fake_shadow_pool.hpp"

using namespace es;
using namespace es::test;
using mmu::prefetch_skip;
using pg::level;

namespace {

constexpr std::uint64_t host_base = 0x40000000;
constexpr std::uint64_t a_bit = pg::accessed;

std::uint64_t host_frame(std::uint64_t gpa) {
    return gpa < ram_bytes ? gpa + host_base : mmu::no_frame;
}

// lin with its page-table index replaced by i: the i-th entry of lin's guest page table.
constexpr std::uint64_t neighbour_of(unsigned i) {
    return (lin & ~0x1fffffull) | (std::uint64_t{i} << 12);
}

// A fill of lin for `a` into the pool, then its prefetch: the counts, the fill's walk.
struct filled {
    mmu::walk_result walk;
    std::uint32_t table;
    mmu::prefetch_counts counts;
};

filled fill_and_prefetch(fake_guest_ram& ram, array_pool& pool, mmu::access a,
                         const mmu::paging_context& c, unsigned window) {
    const mmu::walk_result w = mmu::guest_walk(ram, pml4, lin, a, c);
    REQUIRE(w.outcome == mmu::walk_outcome::translated);
    const std::uint32_t t = mmu::leaf_table(pool, lin);
    REQUIRE(t != mmu::no_table);
    mmu::set_leaf(pool, t, pg::table_index(lin, level::pt),
                  mmu::shadow_pte(w, a, c, host_frame(mmu::guest_frame(w))));
    const fake_guest_ram before = ram;
    const std::uint32_t used = pool.used;
    const mmu::prefetch_counts n =
        mmu::prefetch_neighbours(ram, pool, t, lin, w, c, window, host_frame);
    CHECK(ram == before); // a prefetch only reads guest memory
    CHECK(pool.used == used);
    return {w, t, n};
}

// What a fill of `linear` for a supervisor read would install (walking a copy of the RAM).
std::uint64_t read_fill_of(const fake_guest_ram& ram, std::uint64_t linear,
                           const mmu::paging_context& c) {
    fake_guest_ram copy = ram;
    const mmu::walk_result w = mmu::guest_walk(copy, pml4, linear, sup_read, c);
    REQUIRE(w.outcome == mmu::walk_outcome::translated);
    return mmu::shadow_pte(w, sup_read, c, host_frame(mmu::guest_frame(w)));
}

} // namespace

TEST_CASE("prefetch: every skip reason, and only the aligned window") {
    fake_guest_ram ram(ram_bytes);
    array_pool pool;
    map(ram, lin, page, pg::present | pg::writable | pg::user); // entry 9: the fill's
    ram[pte(neighbour_of(8))] = 0x8000 | pg::present | a_bit;
    ram[pte(neighbour_of(10))] = 0x9000 | a_bit;                             // not present
    ram[pte(neighbour_of(11))] = 0xa000 | pg::present;                       // A clear
    ram[pte(neighbour_of(12))] = 0xb000 | pg::present | a_bit | 1ull << 45;  // past MAXPHYADDR
    ram[pte(neighbour_of(13))] = (ram_bytes + 0x1000) | pg::present | a_bit; // outside RAM
    ram[pte(neighbour_of(14))] = 0xc000 | pg::present | a_bit;               // already mapped
    ram[pte(neighbour_of(15))] = 0xd000 | pg::present | pg::writable | pg::user | a_bit | pg::dirty;
    ram[pte(neighbour_of(7))] = 0xe000 | pg::present | a_bit; // outside the window
    ram[pte(neighbour_of(16))] = 0xf000 | pg::present | a_bit;
    const std::uint32_t t = mmu::leaf_table(pool, lin);
    const std::uint64_t kept = 0x5000 | host_base | pg::present | a_bit;
    mmu::set_leaf(pool, t, 14, kept);

    const filled f = fill_and_prefetch(ram, pool, sup_read, linux_like, 8);
    CHECK(f.counts[prefetch_skip::prefetched] == 2);
    CHECK(f.counts[prefetch_skip::not_present] == 1);
    CHECK(f.counts[prefetch_skip::not_accessed] == 1);
    CHECK(f.counts[prefetch_skip::reserved_bit] == 1);
    CHECK(f.counts[prefetch_skip::outside_ram] == 1);
    CHECK(f.counts[prefetch_skip::mapped] == 1);
    CHECK(lookup(pool, neighbour_of(8)) == read_fill_of(ram, neighbour_of(8), linux_like));
    CHECK(lookup(pool, neighbour_of(15)) == read_fill_of(ram, neighbour_of(15), linux_like));
    for (unsigned i : {7u, 10u, 11u, 12u, 13u, 16u})
        CHECK(lookup(pool, neighbour_of(i)) == 0);
    CHECK(lookup(pool, neighbour_of(14)) == kept);
    // 8 is clean and supervisor read-only; 15 is dirty, writable and user; both XD-free.
    CHECK(lookup(pool, neighbour_of(8)) == (0x8000 | host_base | pg::present | a_bit));
    CHECK(lookup(pool, neighbour_of(15)) ==
          (0xd000 | host_base | pg::present | pg::writable | pg::user | a_bit | pg::dirty));
}

TEST_CASE("prefetch: a neighbour's rights are the upper entries' narrowed by its own PTE") {
    struct row {
        const char* name;
        std::uint64_t table_bits; // every upper entry
        std::uint64_t leaf_bits;  // the neighbour's PTE (P and A added)
        bool nx;
        std::uint64_t want; // the shadow leaf's W, U, D and XD
    };
    const std::uint64_t wud = pg::writable | pg::user | pg::dirty;
    const row rows[] = {
        {"all granted", rw_user, wud, true, pg::writable | pg::user | pg::dirty},
        {"upper read-only", pg::present | pg::user, wud, true, pg::user},
        {"upper supervisor", pg::present | pg::writable, wud, true, pg::writable | pg::dirty},
        {"upper XD", rw_user | pg::execute_disable, wud, true, wud | pg::execute_disable},
        {"own XD", rw_user, wud | pg::execute_disable, true, wud | pg::execute_disable},
        {"own read-only", rw_user, pg::user | pg::dirty, true, pg::user},
        {"own supervisor", rw_user, pg::writable | pg::dirty, true, pg::writable | pg::dirty},
        {"writable, clean", rw_user, pg::writable | pg::user, true, pg::user},
        {"NXE = 0: always executable", rw_user, wud, false, wud},
    };
    for (const row& r : rows) {
        INFO(r.name);
        fake_guest_ram ram(ram_bytes);
        array_pool pool;
        mmu::paging_context c = linux_like;
        c.nx = r.nx;
        map(ram, lin, page, pg::present | pg::writable | pg::user | pg::dirty, level::pt,
            r.table_bits);
        ram[pte(neighbour_of(10))] = 0x9000 | pg::present | a_bit | r.leaf_bits;
        const filled f = fill_and_prefetch(ram, pool, sup_read, c, 8);
        CHECK(f.counts[prefetch_skip::prefetched] == 1);
        const std::uint64_t got = lookup(pool, neighbour_of(10));
        CHECK(got == read_fill_of(ram, neighbour_of(10), c));
        CHECK((got & (pg::writable | pg::user | pg::dirty | pg::execute_disable)) == r.want);
        CHECK((got & pg::address_mask) == 0x9000 + host_base);
    }
}

TEST_CASE("prefetch: with EFER.NXE = 0 an XD bit is reserved, and the neighbour is skipped") {
    fake_guest_ram ram(ram_bytes);
    array_pool pool;
    mmu::paging_context c = linux_like;
    c.nx = false;
    map(ram, lin, page, pg::present);
    ram[pte(neighbour_of(10))] = 0x9000 | pg::present | a_bit | pg::execute_disable;
    const filled f = fill_and_prefetch(ram, pool, sup_read, c, 8);
    CHECK(f.counts[prefetch_skip::reserved_bit] == 1);
    CHECK(lookup(pool, neighbour_of(10)) == 0);
}

TEST_CASE("prefetch: CR0.WP = 0 makes only the faulting write's leaf writable") {
    fake_guest_ram ram(ram_bytes);
    array_pool pool;
    mmu::paging_context c = linux_like;
    c.write_protect = false;
    map(ram, lin, page, pg::present | pg::user); // read-only: the write passes with WP = 0
    ram[pte(neighbour_of(10))] = 0x9000 | pg::present | pg::user | a_bit | pg::dirty;
    ram[pte(neighbour_of(11))] = 0xa000 | pg::present | pg::user | pg::writable | a_bit;
    const filled f = fill_and_prefetch(ram, pool, sup_write, c, 8);
    CHECK(f.counts[prefetch_skip::prefetched] == 2);
    CHECK((lookup(pool, lin) & (pg::writable | pg::user)) == pg::writable);
    // Read-only as a read fill has them: a supervisor write faults and the fill emulates WP = 0.
    CHECK(lookup(pool, neighbour_of(10)) == read_fill_of(ram, neighbour_of(10), c));
    CHECK(lookup(pool, neighbour_of(11)) == read_fill_of(ram, neighbour_of(11), c));
    CHECK_FALSE(lookup(pool, neighbour_of(10)) & pg::writable);
    CHECK_FALSE(lookup(pool, neighbour_of(11)) & pg::writable);
}

TEST_CASE("prefetch: G only with CR4.PGE, and a CR3 write keeps just the global neighbours") {
    for (const bool pge : {true, false}) {
        INFO("PGE " << pge);
        fake_guest_ram ram(ram_bytes);
        array_pool pool;
        mmu::paging_context c = linux_like;
        c.global_pages = pge;
        map(ram, lin, page, pg::present | pg::global);
        ram[pte(neighbour_of(10))] = 0x9000 | pg::present | a_bit | pg::global;
        ram[pte(neighbour_of(11))] = 0xa000 | pg::present | a_bit;
        fill_and_prefetch(ram, pool, sup_read, c, 8);
        const std::uint64_t g = lookup(pool, neighbour_of(10));
        CHECK(((g & pg::global) != 0) == pge);
        CHECK_FALSE(lookup(pool, neighbour_of(11)) & pg::global);
        mmu::drop_local(pool);
        CHECK(lookup(pool, neighbour_of(10)) == (pge ? g : 0));
        CHECK(lookup(pool, neighbour_of(11)) == 0);
    }
}

TEST_CASE("prefetch: the window is an aligned power of two; 0 and 1 turn it off") {
    CHECK(mmu::valid_prefetch_window(0));
    CHECK(mmu::valid_prefetch_window(8));
    CHECK(mmu::valid_prefetch_window(512));
    CHECK_FALSE(mmu::valid_prefetch_window(12));
    CHECK_FALSE(mmu::valid_prefetch_window(1024));
    struct row {
        unsigned window, prefetched;
    };
    for (const row r : {row{0, 0}, row{1, 0}, row{12, 0}, row{2, 1}, row{16, 15}, row{512, 511}}) {
        INFO("window " << r.window);
        fake_guest_ram ram(ram_bytes);
        array_pool pool;
        map(ram, lin, page, pg::present);
        for (unsigned i = 0; i < pg::entries_per_table; ++i)
            if (i != 9)
                ram[pte(neighbour_of(i))] = 0x8000 | pg::present | a_bit;
        const filled f = fill_and_prefetch(ram, pool, sup_read, linux_like, r.window);
        CHECK(f.counts[prefetch_skip::prefetched] == r.prefetched);
        // Window 2 is entries 8 and 9; 16 is 0..15.
        CHECK((lookup(pool, neighbour_of(8)) != 0) == (r.prefetched >= 1));
        CHECK((lookup(pool, neighbour_of(15)) != 0) == (r.prefetched >= 15));
        CHECK((lookup(pool, neighbour_of(16)) != 0) == (r.prefetched == 511));
    }
}

TEST_CASE("prefetch: a fill from a large guest page prefetches nothing (fill_pieces does)") {
    fake_guest_ram ram(ram_bytes);
    array_pool pool;
    map(ram, lin, 0, pg::present, level::pd);
    const mmu::walk_result w = mmu::guest_walk(ram, pml4, lin, sup_read, linux_like);
    REQUIRE(w.level == level::pd);
    const std::uint32_t t = mmu::leaf_table(pool, lin);
    const mmu::prefetch_counts n =
        mmu::prefetch_neighbours(ram, pool, t, lin, w, linux_like, 512, host_frame);
    CHECK(n[prefetch_skip::prefetched] + n[prefetch_skip::not_present] == 0);
    CHECK(pool.nonzero() == 3); // the path's table entries only
}

TEST_CASE("prefetch: the walk reports its leaf entry and the upper rights") {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, page, pg::present | pg::writable | pg::user, level::pt,
        pg::present | pg::user | pg::execute_disable);
    const mmu::walk_result w = mmu::guest_walk(ram, pml4, lin, user_read, linux_like);
    REQUIRE(w.outcome == mmu::walk_outcome::translated);
    CHECK(w.leaf_entry == pte(lin));
    CHECK(w.upper == mmu::page_permissions{false, true, false, false});
}
