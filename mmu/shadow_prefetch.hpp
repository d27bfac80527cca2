// PTE prefetch: after a fill from a guest 4 KiB page, the neighbouring entries of the same guest
// page table go into the same shadow page table, so an address space that touches a run of pages
// takes one #PF exit for the run instead of one per page (KVM's FNAME(pte_prefetch) does the
// same with 8 entries). Pure, as shadow_tables.hpp.
//
// Why the processor may hold these translations (SDM Vol. 3A, "Details of TLB Use", June 2023):
// it "may cache a translation for any linear address, even if that address is not used to
// access memory", for prefetches among others, provided the P flag is 1 and the reserved bits
// are 0 in each paging-structure entry used, and "the processor does not cache a translation
// for a page number unless the accessed flag is 1" in each of them. A processor would set the
// missing A bits first ("Accessed and Dirty Flags"); a prefetch here never writes guest memory,
// so it takes only entries whose A is already 1. The entries above the leaf are the fill's own,
// which its walk has just found present and free of reserved bits and left with A set.
//
// A neighbour's rights are the fill walk's upper-level rights narrowed by its own PTE, as the
// walk would combine them (guest_walk.hpp); its shadow leaf is the one a supervisor read would
// get (shadow_entry.hpp): read-only until the guest's D is 1, so the first write still faults
// and the guest walk sets D exactly when the processor would. The guest's CR0.WP = 0 case (a
// supervisor write to a read-only page) is the fill's, on that write's own #PF.
//
// Bounds: a prefetch writes only into the page table the fill used (no table is allocated, so
// the pool bound holds), never over a leaf already there, and never maps a frame outside guest
// RAM (host_frame says no_frame; that entry is skipped and an access to it faults as before).
#pragma once

#include <cstdint>

#include "mmu/access.hpp"
#include "mmu/guest_walk.hpp"
#include "mmu/shadow_entry.hpp"
#include "mmu/shadow_tables.hpp"
#include "sdm/paging.hpp"

namespace es::mmu {

// Entries a fill looks at: the aligned group of `window` entries that holds the faulting one.
// 0 (or 1) turns prefetch off; the module takes a power of two up to a whole table.
inline constexpr unsigned max_prefetch_window = sdm::paging::entries_per_table;
constexpr bool valid_prefetch_window(unsigned window) {
    return window <= max_prefetch_window && (window & (window - 1)) == 0;
}

// Why a neighbour was not prefetched (prefetched: it was).
enum class prefetch_skip : std::uint8_t {
    prefetched,
    not_present,
    reserved_bit, // the walk would fault on it with RSVD
    not_accessed, // A = 0: caching it would need a guest-memory write
    outside_ram,  // its frame is not guest RAM
    mapped,       // the shadow table already holds a leaf there
};

struct neighbour {
    prefetch_skip skip;
    walk_result translation; // prefetched: what the guest walk would give a supervisor read
};

// The translation of guest PTE `entry` at guest-physical `entry_address`, a neighbour in the page
// table of `fill` (a walk_outcome::translated 4 KiB walk): the walk's upper rights narrowed by
// `entry`; or why it is no candidate (not_present, reserved_bit, not_accessed).
neighbour neighbour_translation(std::uint64_t entry, std::uint64_t entry_address,
                                const walk_result& fill, const paging_context& c);

// What prefetch_neighbours did, by reason (tests and measurements).
struct prefetch_counts {
    unsigned by_reason[6];
    unsigned operator[](prefetch_skip s) const { return by_reason[static_cast<unsigned>(s)]; }
};

// After the fill of `linear` from 4 KiB walk `fill` into page table `table` (leaf_table), the
// other entries of `linear`'s aligned group of `window` (valid_prefetch_window). `host_frame(gpa)`
// is the host frame of guest frame gpa, or no_frame outside RAM. Only reads guest memory.
template <guest_ram M, shadow_pool P, typename F>
prefetch_counts prefetch_neighbours(M& memory, P& pool, std::uint32_t table, std::uint64_t linear,
                                    const walk_result& fill, const paging_context& c,
                                    unsigned window, F&& host_frame) {
    using sdm::paging::level;
    prefetch_counts n{};
    if (window < 2 || !valid_prefetch_window(window) || fill.outcome != walk_outcome::translated ||
        fill.level != level::pt)
        return n;
    const unsigned self = sdm::paging::table_index(linear, level::pt);
    const unsigned first = self & ~(window - 1);
    const std::uint64_t guest_table = fill.leaf_entry & sdm::paging::address_mask;
    const std::uint64_t* shadow = pool.table(table);
    for (unsigned i = first; i < first + window; ++i) {
        if (i == self)
            continue;
        neighbour nb{prefetch_skip::mapped, {}};
        if ((shadow[i] & sdm::paging::present) == 0) {
            const std::uint64_t at = guest_table + std::uint64_t{i} * sdm::paging::entry_bytes;
            const guest_word w = memory.read64(at); // the fill's own table: in RAM
            nb = w.in_ram ? neighbour_translation(w.value, at, fill, c)
                          : neighbour{prefetch_skip::outside_ram, {}};
        }
        std::uint64_t host = no_frame;
        if (nb.skip == prefetch_skip::prefetched) {
            host = host_frame(guest_frame(nb.translation));
            if (host == no_frame)
                nb.skip = prefetch_skip::outside_ram;
        }
        ++n.by_reason[static_cast<unsigned>(nb.skip)];
        if (nb.skip == prefetch_skip::prefetched)
            set_leaf(pool, table, i,
                     shadow_pte(nb.translation, supervisor_access(access_kind::read), c, host));
    }
    return n;
}

} // namespace es::mmu
