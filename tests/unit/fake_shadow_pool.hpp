// A shadow-table pool in a host array for the mmu/ tests (mmu::shadow_pool), and the leaf the
// tables map a linear address to, found as the processor would walk them.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "mmu/shadow_tables.hpp"

namespace es::test {

struct array_pool {
    std::vector<std::uint64_t> mem = std::vector<std::uint64_t>(mmu::shadow_pool_pages * 512, 0);
    std::uint32_t used = 1;
    bool local[mmu::shadow_pool_pages] = {};
    bool gib_pieces = false;
    std::uint64_t* table(std::uint32_t i) { return &mem[std::size_t{i} * 512]; }
    std::uint64_t table_pa(std::uint32_t i) { return 0x100000 + std::uint64_t{i} * 4096; }
    std::uint64_t nonzero() const {
        std::uint64_t n = 0;
        for (auto e : mem)
            n += e != 0;
        return n;
    }
};
static_assert(mmu::shadow_pool<array_pool>);

// The leaf the tables map `linear` to; 0 if none.
inline std::uint64_t lookup(array_pool& p, std::uint64_t linear) {
    namespace paging = sdm::paging;
    std::uint64_t* t = p.table(0);
    for (auto l : {paging::level::pml4, paging::level::pdpt, paging::level::pd}) {
        const std::uint64_t e = t[paging::table_index(linear, l)];
        if (!(e & paging::present))
            return 0;
        REQUIRE(p.table_pa(mmu::pool_index_of(e)) == (e & paging::address_mask));
        REQUIRE((e & (paging::present | paging::writable | paging::user)) ==
                (paging::present | paging::writable | paging::user));
        t = p.table(mmu::pool_index_of(e));
    }
    return t[paging::table_index(linear, paging::level::pt)];
}

} // namespace es::test
