// The shadow-table pool: fills add the tables a path lacks, the pool index rides in ignored
// bits, a full pool refuses and starting over keeps only an empty root.
#include <catch2/catch.hpp>
#include <vector>

#include "mmu/shadow_tables.hpp"

using namespace es::mmu;
namespace paging = sdm::paging;

namespace {

struct array_pool {
    std::vector<std::uint64_t> mem = std::vector<std::uint64_t>(shadow_pool_pages * 512, 0);
    std::uint32_t used = 1;
    std::uint64_t* table(std::uint32_t i) { return &mem[std::size_t{i} * 512]; }
    std::uint64_t table_pa(std::uint32_t i) { return 0x100000 + std::uint64_t{i} * 4096; }
    std::uint64_t nonzero() const {
        std::uint64_t n = 0;
        for (auto e : mem)
            n += e != 0;
        return n;
    }
};
static_assert(shadow_pool<array_pool>);

// The leaf the tables map `linear` to, walking them as the processor would; 0 if none.
std::uint64_t lookup(array_pool& p, std::uint64_t linear) {
    std::uint64_t* t = p.table(0);
    for (auto l : {paging::level::pml4, paging::level::pdpt, paging::level::pd}) {
        const std::uint64_t e = t[paging::table_index(linear, l)];
        if (!(e & paging::present))
            return 0;
        REQUIRE(p.table_pa(pool_index_of(e)) == (e & paging::address_mask));
        REQUIRE((e & (paging::present | paging::writable | paging::user)) ==
                (paging::present | paging::writable | paging::user));
        t = p.table(pool_index_of(e));
    }
    return t[paging::table_index(linear, paging::level::pt)];
}

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
