// A small guest RAM for the mmu/ tests, with one table per level at fixed addresses so a test can
// map a linear address in one line and then break exactly the entry it is about.
#pragma once

#include <cstdint>
#include <vector>

#include "mmu/guest_walk.hpp"
#include "sdm/paging.hpp"

namespace es::test {

namespace pg = sdm::paging;

// Guest RAM from GPA 0; words past its end are outside RAM. Counts the stores the walk makes, and
// can make the next compare-exchanges fail as if another vCPU had written the entry first.
class fake_guest_ram {
  public:
    explicit fake_guest_ram(std::uint64_t bytes) : words_(bytes / 8) {}

    mmu::guest_word read64(std::uint64_t gpa) {
        if (gpa / 8 >= words_.size())
            return {0, false};
        return {words_[gpa / 8], true};
    }
    bool cmpxchg64(std::uint64_t gpa, std::uint64_t expected, std::uint64_t desired) {
        if (failing_stores > 0) {
            --failing_stores;
            return false;
        }
        std::uint64_t& w = words_.at(gpa / 8);
        if (w != expected)
            return false;
        w = desired;
        ++stores;
        return true;
    }

    std::uint64_t& operator[](std::uint64_t gpa) { return words_.at(gpa / 8); }
    bool operator==(const fake_guest_ram& o) const { return words_ == o.words_; }

    unsigned stores = 0;
    unsigned failing_stores = 0;

  private:
    std::vector<std::uint64_t> words_;
};

static_assert(mmu::guest_ram<fake_guest_ram>);

inline constexpr std::uint64_t ram_bytes = 1ull << 20;
// PML4 index 3, PDPT 5, PD 7, PT 9, offset 0xabc: a different slot at each level.
inline constexpr std::uint64_t lin =
    (3ull << 39) | (5ull << 30) | (7ull << 21) | (9ull << 12) | 0xabc;
inline constexpr std::uint64_t page = 0x7000; // where lin's 4 KiB leaf points
inline constexpr std::uint64_t pml4 = 0x1000, pdpt = 0x2000, pd = 0x3000, pt = 0x4000;
inline constexpr std::uint64_t rw_user = pg::present | pg::writable | pg::user;
inline constexpr std::uint32_t pf_p = pg::pf_error::present, pf_w = pg::pf_error::write,
                               pf_u = pg::pf_error::user, pf_rsvd = pg::pf_error::reserved,
                               pf_id = pg::pf_error::fetch;

inline constexpr mmu::access sup_read = mmu::supervisor_access(mmu::access_kind::read);
inline constexpr mmu::access sup_write = mmu::supervisor_access(mmu::access_kind::write);
inline constexpr mmu::access sup_fetch = mmu::supervisor_access(mmu::access_kind::fetch);
inline constexpr mmu::access user_read = mmu::user_access(mmu::access_kind::read);
inline constexpr mmu::access user_write = mmu::user_access(mmu::access_kind::write);
inline constexpr mmu::access user_fetch = mmu::user_access(mmu::access_kind::fetch);

inline std::uint64_t pml4e(std::uint64_t linear) {
    return pg::entry_address(pml4, linear, pg::level::pml4);
}
inline std::uint64_t pdpte(std::uint64_t linear) {
    return pg::entry_address(pdpt, linear, pg::level::pdpt);
}
inline std::uint64_t pde(std::uint64_t linear) {
    return pg::entry_address(pd, linear, pg::level::pd);
}
inline std::uint64_t pte(std::uint64_t linear) {
    return pg::entry_address(pt, linear, pg::level::pt);
}

// Map `linear` to the page at `gpa` with a leaf of `leaf_bits` at level `leaf` (PS added for a
// large page), through table entries with `table_bits`.
inline void map(fake_guest_ram& ram, std::uint64_t linear, std::uint64_t gpa,
                std::uint64_t leaf_bits, pg::level leaf = pg::level::pt,
                std::uint64_t table_bits = rw_user) {
    const std::uint64_t ps = leaf == pg::level::pt ? 0 : pg::page_size;
    ram[pml4e(linear)] = pdpt | table_bits;
    if (leaf == pg::level::pdpt) {
        ram[pdpte(linear)] = gpa | leaf_bits | ps;
        return;
    }
    ram[pdpte(linear)] = pd | table_bits;
    if (leaf == pg::level::pd) {
        ram[pde(linear)] = gpa | leaf_bits | ps;
        return;
    }
    ram[pde(linear)] = pt | table_bits;
    ram[pte(linear)] = gpa | leaf_bits;
}

// A 64-bit guest as Linux runs it: WP, NXE, PGE on, SMEP/SMAP off, 1 GiB pages, 39-bit MAXPHYADDR.
inline constexpr mmu::paging_context linux_like{true, true, true, false, false, true, 39};

} // namespace es::test
