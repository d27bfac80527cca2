// The shadow-table pool: fills add the tables a path lacks, the pool index rides in ignored
// bits, a full pool refuses and starting over keeps only an empty root; a CR3 write keeps the
// global leaves, an INVLPG drops its page (every piece of a guest 2 MiB page), and a fill from a
// large guest page brings in the rest of its 2 MiB region.
#include <catch2/catch.hpp>
#include <vector>

#include "mmu/shadow_tables.hpp"
#include "tests/unit/fake_shadow_pool.hpp"

using namespace es::mmu;
using es::test::array_pool;
using es::test::lookup;
namespace paging = sdm::paging;

namespace {

constexpr std::uint64_t pte(std::uint64_t frame) {
    return frame | paging::present | paging::accessed;
}

} // namespace

TEST_CASE("shadow tables: a fill adds a PDPT, PD and PT, then shares them") {
    array_pool p;
    REQUIRE(install_leaf(p, 0x400000, pte(0x7000)));
    CHECK(p.used == 4);
    CHECK(lookup(p, 0x400000) == pte(0x7000));
    CHECK(lookup(p, 0x401000) == 0);
    REQUIRE(install_leaf(p, 0x401000, pte(0x8000)));
    CHECK(p.used == 4);
    REQUIRE(install_leaf(p, 0x600000, pte(0x9000))); // next 2 MiB: a new PT
    CHECK(p.used == 5);
    REQUIRE(install_leaf(p, 0xffff800000000000ull, pte(0xa000))); // other PML4 slot
    CHECK(p.used == 8);
    CHECK(lookup(p, 0xffff800000000000ull) == pte(0xa000));
    CHECK(lookup(p, 0x400000) == pte(0x7000));
    REQUIRE(install_leaf(p, 0x400000, pte(0xb000))); // a refill replaces the leaf
    CHECK(lookup(p, 0x400000) == pte(0xb000));
}

TEST_CASE("shadow tables: the pool bound holds and starting over empties every table") {
    array_pool p;
    std::uint64_t installed = 0;
    // Each 2 MiB region needs its own page table: the pool fills after shadow_pool_pages - 3.
    for (std::uint64_t linear = 0;; linear += 2ull << 20) {
        if (!install_leaf(p, linear, pte(0x1000)))
            break;
        ++installed;
        REQUIRE(p.used <= shadow_pool_pages);
    }
    CHECK(installed == shadow_pool_pages - 3);
    CHECK(p.used == shadow_pool_pages);
    start_over(p);
    CHECK(p.used == 1);
    CHECK(p.nonzero() == 0);
    CHECK(lookup(p, 0) == 0);
    REQUIRE(install_leaf(p, 0x1234000, pte(0x5000)));
    CHECK(lookup(p, 0x1234000) == pte(0x5000));
}

TEST_CASE("shadow tables: the pool index lives in bits 62:52 of a table entry") {
    const std::uint64_t e = table_entry_with_index(0x123456000ull, shadow_pool_pages - 1);
    CHECK(pool_index_of(e) == shadow_pool_pages - 1);
    CHECK((e & paging::address_mask) == 0x123456000ull);
    CHECK_FALSE(e & paging::execute_disable);
    CHECK(pool_index_of(shadow_table_entry(0x5000)) == 0);
}

TEST_CASE("shadow tables: a CR3 write drops the local leaves and keeps the global ones") {
    array_pool p;
    REQUIRE(install_leaf(p, 0x400000, pte(0x7000)));
    REQUIRE(install_leaf(p, 0x401000, pte(0x8000) | paging::global));
    REQUIRE(install_leaf(p, 0xffff800000000000ull, pte(0xa000) | paging::global));
    const std::uint32_t used = p.used;
    drop_local(p);
    CHECK(lookup(p, 0x400000) == 0);
    CHECK(lookup(p, 0x401000) == (pte(0x8000) | paging::global));
    CHECK(lookup(p, 0xffff800000000000ull) == (pte(0xa000) | paging::global));
    CHECK(p.used == used); // the tables stay for the next address space
    REQUIRE(install_leaf(p, 0x400000, pte(0x9000)));
    CHECK(p.used == used);
    CHECK(lookup(p, 0x400000) == pte(0x9000));
}

TEST_CASE("shadow tables: INVLPG drops its leaf, global or not, and a 2 MiB page's pieces") {
    array_pool p;
    REQUIRE(install_leaf(p, 0x400000, pte(0x7000) | paging::global));
    REQUIRE(install_leaf(p, 0x401000, pte(0x8000)));
    REQUIRE(drop_page(p, 0x400abc));
    CHECK(lookup(p, 0x400000) == 0);
    CHECK(lookup(p, 0x401000) == pte(0x8000));
    CHECK(drop_page(p, 0x7fff0000000ull)); // nothing there: nothing to do
    // Two pieces of a guest 2 MiB page at 0x600000: an INVLPG of either drops both.
    REQUIRE(install_leaf(p, 0x600000, pte(0x200000) | shadow_mib_piece));
    REQUIRE(install_leaf(p, 0x7ff000, pte(0x3ff000) | shadow_mib_piece));
    REQUIRE(drop_page(p, 0x634000)); // a piece not in the pool
    CHECK(lookup(p, 0x600000) == 0);
    CHECK(lookup(p, 0x7ff000) == 0);
    CHECK(lookup(p, 0x401000) == pte(0x8000));
    // A guest 1 GiB page's pieces span page tables: the caller starts over.
    REQUIRE(install_leaf(p, 0x40000000, pte(0x40000000) | shadow_gib_piece));
    CHECK_FALSE(drop_page(p, 0x401000));
    start_over(p);
    CHECK(drop_page(p, 0x401000));
}

TEST_CASE("shadow tables: a fill from a 2 MiB page brings in the rest of the page") {
    array_pool p;
    const paging_context c = context_of(sdm::cr0::pg | sdm::cr0::wp, sdm::cr4::pae | sdm::cr4::pge,
                                        sdm::efer::nxe, 40, true);
    walk_result w{walk_outcome::translated,
                  0x200000 + 0x5123,
                  0,
                  paging::level::pd,
                  page_permissions{true, true, false, true},
                  false,
                  0,
                  {}};
    const std::uint32_t t = leaf_table(p, 0x40005123);
    REQUIRE(t != no_table);
    // The faulting piece, as the fill put it (here writable: already there, it stays).
    set_leaf(p, t, 5, shadow_pte(w, supervisor_access(access_kind::write), c, 0x9000));
    const std::uint64_t ram_end = 0x300000; // the page's last 1 MiB is outside RAM
    fill_pieces(p, t, w, c, [ram_end](std::uint64_t gpa) {
        return gpa < ram_end ? gpa + 0x10000000 : no_frame;
    });
    CHECK(lookup(p, 0x40005000) == shadow_pte(w, supervisor_access(access_kind::write), c, 0x9000));
    const std::uint64_t piece0 = lookup(p, 0x40000000);
    CHECK((piece0 & paging::address_mask) == 0x10200000);
    CHECK((piece0 & (paging::present | paging::user | paging::global | shadow_mib_piece |
                     paging::execute_disable)) == (paging::present | paging::user | paging::global |
                                                   shadow_mib_piece | paging::execute_disable));
    CHECK_FALSE(piece0 & paging::writable); // the guest's leaf is clean: read-only until written
    CHECK((lookup(p, 0x400ff000) & paging::address_mask) == 0x102ff000);
    CHECK(lookup(p, 0x40100000) == 0); // outside RAM: left out
    CHECK(lookup(p, 0x401ff000) == 0);
    // Global pieces stay over a CR3 write.
    drop_local(p);
    CHECK(lookup(p, 0x40000000) == piece0);
}
