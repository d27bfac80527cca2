// The shadow page tables of one VM: a fixed pool of host pages, table 0 the root (PML4), the
// others handed out in order as fills need them. Pure: the pages are reached through a template
// parameter, so the module works on its pool and the tests on arrays.
//
// Nothing about the guest's tables is cached here: the pool only ever grows by fills, and starts
// over (every table zeroed, the root kept) on a guest CR3 write, an INVLPG, a paging-bit change
// in CR0/CR4/EFER, and when a fill finds it full. Host memory never grows with what the guest
// maps: a VM has exactly shadow_pool_pages pages of shadow tables.
//
// The pool index of a table is kept in bits 62:52 of the entry that references it, which the
// processor ignores in a PML4E, a PDPTE that references a page directory and a PDE that
// references a page table (SDM Vol. 3A, "Formats of Paging-Structure Entries", June 2023), so
// going down the tree needs no reverse map from host-physical addresses.
#pragma once

#include <concepts>
#include <cstdint>

#include "mmu/shadow_entry.hpp"
#include "sdm/paging.hpp"

namespace es::mmu {

// 256 pages, 1 MiB per shadow-paging VM: room for 253 page tables (506 MiB of distinct 2 MiB
// regions) in the best case, at least 85 disjoint 4-level paths in the worst.
inline constexpr std::uint32_t shadow_pool_pages = 256;

inline constexpr unsigned pool_index_shift = 52;
inline constexpr std::uint64_t pool_index_mask = 0x7ffull << pool_index_shift;
static_assert(shadow_pool_pages <= (pool_index_mask >> pool_index_shift) + 1,
              "a pool index fits the ignored bits 62:52");
// A fill needs at most a PDPT, a PD and a PT besides the root: a pool this size always has room
// for one fill after starting over.
static_assert(shadow_pool_pages >= 4);

constexpr std::uint64_t table_entry_with_index(std::uint64_t host_table, std::uint32_t index) {
    return shadow_table_entry(host_table) | (std::uint64_t{index} << pool_index_shift);
}
constexpr std::uint32_t pool_index_of(std::uint64_t entry) {
    return static_cast<std::uint32_t>((entry & pool_index_mask) >> pool_index_shift);
}

// P: table(i) -> std::uint64_t* (512 entries of table i), table_pa(i) -> its host-physical
// address, and a member `used` (tables handed out, the root included: 1 after start_over).
template <typename P>
concept shadow_pool = requires(P& p, std::uint32_t i) {
    { p.table(i) } -> std::same_as<std::uint64_t*>;
    { p.table_pa(i) } -> std::same_as<std::uint64_t>;
    p.used;
};

// Zero every table in use and keep only the root (empty). The caller then invalidates the
// VM's TLB entries (they may still hold translations through the old entries).
template <shadow_pool P> void start_over(P& pool) {
    for (std::uint32_t i = 0; i < pool.used; ++i) {
        std::uint64_t* t = pool.table(i);
        for (unsigned e = 0; e < sdm::paging::entries_per_table; ++e)
            t[e] = 0;
    }
    pool.used = 1;
}

// Install the shadow leaf `pte` for `linear` (4 KiB), adding the tables its path lacks. False,
// with nothing but empty tables added, when the pool has no table left for the path: the caller
// starts over and installs again.
template <shadow_pool P> bool install_leaf(P& pool, std::uint64_t linear, std::uint64_t pte) {
    using sdm::paging::level;
    std::uint32_t table = 0;
    for (level l = level::pml4; l != level::pt;
         l = static_cast<level>(static_cast<unsigned>(l) - 1)) {
        std::uint64_t& e = pool.table(table)[sdm::paging::table_index(linear, l)];
        if (!(e & sdm::paging::present)) {
            if (pool.used >= shadow_pool_pages)
                return false;
            const std::uint32_t fresh = pool.used++;
            e = table_entry_with_index(pool.table_pa(fresh), fresh);
        }
        table = pool_index_of(e);
        if (table >= pool.used) // never: only install_leaf writes table entries
            return false;
    }
    pool.table(table)[sdm::paging::table_index(linear, level::pt)] = pte;
    return true;
}

} // namespace es::mmu
