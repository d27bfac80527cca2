// The shadow page tables of one VM: a fixed pool of host pages, table 0 the root (PML4), the
// others handed out in order as fills need them. Pure: the pages are reached through a template
// parameter, so the module works on its pool and the tests on arrays.
//
// Nothing about the guest's tables is cached here: the shadow leaves are a TLB, and lose what a
// TLB loses (SDM Vol. 3A, "Invalidation of TLBs and Paging-Structure Caches", June 2023):
//   - a guest CR3 write drops every leaf but the global ones (drop_local); the emptied tables
//     stay, for the next address space to reuse;
//   - an INVLPG drops the leaves of its page (drop_page): the 4 KiB leaf, or every piece of the
//     guest 2 MiB page it lies in; a guest 1 GiB page in the pool makes it start over;
//   - a paging-bit change in CR0/CR4/EFER starts over (every table zeroed, the root kept), and so
//     does a fill that finds the pool full.
// Host memory never grows with what the guest maps: a VM has exactly shadow_pool_pages pages of
// shadow tables.
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
// address, and members `used` (tables handed out, the root included: 1 after start_over),
// `local[i]` (page table i may hold a leaf without G) and `gib_pieces` (a leaf from a guest
// 1 GiB page was installed since the last start_over).
template <typename P>
concept shadow_pool = requires(P& p, std::uint32_t i) {
    { p.table(i) } -> std::same_as<std::uint64_t*>;
    { p.table_pa(i) } -> std::same_as<std::uint64_t>;
    p.used;
    p.local[i] = true;
    p.gib_pieces = true;
};

// No index: the pool has no table left for a path.
inline constexpr std::uint32_t no_table = ~0u;

// Zero every table in use and keep only the root (empty). The caller then invalidates the
// VM's TLB entries (they may still hold translations through the old entries).
template <shadow_pool P> void start_over(P& pool) {
    for (std::uint32_t i = 0; i < pool.used; ++i) {
        std::uint64_t* t = pool.table(i);
        for (unsigned e = 0; e < sdm::paging::entries_per_table; ++e)
            t[e] = 0;
        pool.local[i] = false;
    }
    pool.used = 1;
    pool.gib_pieces = false;
}

// The page table that holds the leaves of `linear`'s 2 MiB region, with the tables its path
// lacked added (`create`), or no_table: the pool is full, or (!create) the path is not there.
template <shadow_pool P>
std::uint32_t leaf_table(P& pool, std::uint64_t linear, bool create = true) {
    using sdm::paging::level;
    std::uint32_t table = 0;
    for (level l = level::pml4; l != level::pt;
         l = static_cast<level>(static_cast<unsigned>(l) - 1)) {
        std::uint64_t& e = pool.table(table)[sdm::paging::table_index(linear, l)];
        if (!(e & sdm::paging::present)) {
            if (!create || pool.used >= shadow_pool_pages)
                return no_table;
            const std::uint32_t fresh = pool.used++;
            e = table_entry_with_index(pool.table_pa(fresh), fresh);
        }
        table = pool_index_of(e);
        if (table >= pool.used) // never: only leaf_table writes table entries
            return no_table;
    }
    return table;
}

// Put shadow leaf `pte` at `index` of page table `table` (from leaf_table), noting what it is.
template <shadow_pool P>
void set_leaf(P& pool, std::uint32_t table, unsigned index, std::uint64_t pte) {
    pool.table(table)[index] = pte;
    if (!(pte & sdm::paging::global))
        pool.local[table] = true;
    if (pte & shadow_gib_piece)
        pool.gib_pieces = true;
}

// Install the shadow leaf `pte` for `linear` (4 KiB), adding the tables its path lacks. False,
// with nothing but empty tables added, when the pool has no table left for the path: the caller
// starts over and installs again.
template <shadow_pool P> bool install_leaf(P& pool, std::uint64_t linear, std::uint64_t pte) {
    const std::uint32_t table = leaf_table(pool, linear);
    if (table == no_table)
        return false;
    set_leaf(pool, table, sdm::paging::table_index(linear, sdm::paging::level::pt), pte);
    return true;
}

// No host frame: the guest frame is not guest RAM.
inline constexpr std::uint64_t no_frame = ~0ull;

// After a fill from a guest 2 MiB or 1 GiB page (translation `w`, its leaf in page table
// `table`), the other 4 KiB pieces of its 2 MiB region: the processor caches such a page
// as one translation, so the whole page is in the TLB after one access. Each piece gets the
// rights of a supervisor read (writable only once the guest's leaf is dirty); a piece already
// there stays. `host_frame(gpa)` is the host frame of guest frame gpa, or no_frame outside RAM
// (then the piece is left out: an access to it faults, and the fill ends the run).
template <shadow_pool P, typename F>
void fill_pieces(P& pool, std::uint32_t table, const walk_result& w, const paging_context& c,
                 F&& host_frame) {
    constexpr std::uint64_t region = sdm::paging::leaf_bytes(sdm::paging::level::pd);
    const std::uint64_t gpa_base = w.address & ~(region - 1) & sdm::paging::address_mask;
    constexpr std::uint64_t piece_bytes = sdm::paging::leaf_bytes(sdm::paging::level::pt);
    std::uint64_t* t = pool.table(table);
    for (unsigned i = 0; i < sdm::paging::entries_per_table; ++i) {
        if (t[i] & sdm::paging::present)
            continue;
        walk_result piece = w;
        piece.address = gpa_base + std::uint64_t{i} * piece_bytes;
        const std::uint64_t host = host_frame(piece.address);
        if (host == no_frame)
            continue;
        set_leaf(pool, table, i, shadow_pte(piece, supervisor_access(access_kind::read), c, host));
    }
}

// A guest CR3 write (CR4.PCIDE = 0): every leaf without G goes, the global ones stay ("MOV to
// CR3" invalidates the TLB entries of every PCID but the global ones). Tables stay allocated.
template <shadow_pool P> void drop_local(P& pool) {
    for (std::uint32_t i = 1; i < pool.used; ++i) {
        if (!pool.local[i])
            continue;
        std::uint64_t* t = pool.table(i);
        for (unsigned e = 0; e < sdm::paging::entries_per_table; ++e)
            if (!(t[e] & sdm::paging::global))
                t[e] = 0;
        pool.local[i] = false;
    }
}

// INVLPG of `linear`: its leaf goes, global or not, and with it every piece of a guest 2 MiB page
// in the same page table (the pieces of one 2 MiB page share it). False when the pool holds
// pieces of a guest 1 GiB page, which span many page tables: the caller starts over.
template <shadow_pool P> bool drop_page(P& pool, std::uint64_t linear) {
    if (pool.gib_pieces)
        return false;
    const std::uint32_t table = leaf_table(pool, linear, false);
    if (table == no_table)
        return true; // no leaf of this 2 MiB region is in the pool
    std::uint64_t* t = pool.table(table);
    t[sdm::paging::table_index(linear, sdm::paging::level::pt)] = 0;
    for (unsigned e = 0; e < sdm::paging::entries_per_table; ++e)
        if (t[e] & shadow_mib_piece)
            t[e] = 0;
    return true;
}

} // namespace es::mmu
