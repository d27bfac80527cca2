// 4-level paging (IA-32e, CR4.LA57 = 0): paging-structure entry bits, address masks, the levels'
// index shifts, the reserved bits of each level and the page-fault error code.
//
// Source: Intel SDM, Volume 3A, chapter "Paging", sections "4-Level Paging and 5-Level Paging",
// "Access Rights", "Page-Fault Exceptions" and "Accessed and Dirty Flags" (order number
// 325462-080US, June 2023, the revision the other include/sdm/ headers cite).
#pragma once

#include <cstdint>

namespace sdm::paging {

// Bits of a paging-structure entry (PML4E, PDPTE, PDE, PTE). Bits 11:8 and 62:52 of a table
// reference, and bit 6 of one, are ignored; protection keys (bits 62:59 of a leaf) apply only
// with CR4.PKE = 1.
inline constexpr std::uint64_t present = 1ull << 0;    // P
inline constexpr std::uint64_t writable = 1ull << 1;   // R/W
inline constexpr std::uint64_t user = 1ull << 2;       // U/S
inline constexpr std::uint64_t pwt = 1ull << 3;        // page-level write-through
inline constexpr std::uint64_t pcd = 1ull << 4;        // page-level cache disable
inline constexpr std::uint64_t accessed = 1ull << 5;   // A
inline constexpr std::uint64_t dirty = 1ull << 6;      // D, leaves only
inline constexpr std::uint64_t page_size = 1ull << 7;  // PS: PDPTE/PDE maps a 1 GiB/2 MiB page
inline constexpr std::uint64_t pat_4k = 1ull << 7;     // PAT bit of a PTE (where PS is elsewhere)
inline constexpr std::uint64_t global = 1ull << 8;     // G, leaves only, with CR4.PGE = 1
inline constexpr std::uint64_t pat_large = 1ull << 12; // PAT bit of a 2 MiB or 1 GiB leaf
inline constexpr std::uint64_t execute_disable = 1ull << 63; // XD, with EFER.NXE = 1

// Physical addresses are at most 52 bits wide; an entry's address field is bits 51:12, of which
// bits 51:MAXPHYADDR are reserved.
inline constexpr unsigned max_phys_bits = 52;
inline constexpr std::uint64_t address_mask = 0x000ffffffffff000ull;
inline constexpr std::uint64_t page_offset_mask = 0xfffull;

// Bits MAXPHYADDR-1:0 of a physical address.
constexpr std::uint64_t phys_mask(unsigned maxphyaddr) {
    return maxphyaddr >= 64 ? ~0ull : (1ull << maxphyaddr) - 1;
}

// The four levels, named by what their entries are; the number is the level's depth from the
// leaf (a PTE is level 1), as the SDM counts them.
enum class level : std::uint8_t { pt = 1, pd = 2, pdpt = 3, pml4 = 4 };

inline constexpr unsigned entries_per_table = 512;
inline constexpr unsigned entry_bytes = 8;
inline constexpr unsigned index_bits = 9;

// Linear-address bits that select the entry at `l`: 47:39 (PML4), 38:30, 29:21, 20:12 (PT).
constexpr unsigned index_shift(level l) {
    return 12 + index_bits * (static_cast<unsigned>(l) - 1);
}
constexpr unsigned table_index(std::uint64_t linear, level l) {
    return static_cast<unsigned>(linear >> index_shift(l)) & (entries_per_table - 1);
}
// Where the entry for `linear` is in the table at physical `table` of level `l`.
constexpr std::uint64_t entry_address(std::uint64_t table, std::uint64_t linear, level l) {
    return table + std::uint64_t{table_index(linear, l)} * entry_bytes;
}
// The size of the page an entry at `l` maps when it is a leaf: 4 KiB, 2 MiB, 1 GiB.
constexpr std::uint64_t leaf_bytes(level l) {
    return 1ull << index_shift(l);
}
// The physical frame of a leaf at `l` (bits 51:12, 51:21 or 51:30 of the entry).
constexpr std::uint64_t leaf_frame(std::uint64_t entry, level l) {
    return entry & address_mask & ~(leaf_bytes(l) - 1);
}

static_assert(index_shift(level::pml4) == 39 && index_shift(level::pt) == 12);
static_assert(leaf_bytes(level::pd) == 2ull << 20 && leaf_bytes(level::pdpt) == 1ull << 30);

// A PDPTE or PDE with PS = 1 is a leaf; a PTE always is. (PS of a PML4E is reserved, below; with
// 4-level paging CR4.PSE is ignored.)
constexpr bool is_leaf(std::uint64_t entry, level l) {
    return l == level::pt || ((l == level::pdpt || l == level::pd) && (entry & page_size) != 0);
}

// The reserved bits of a present entry at `l` ("4-Level Paging and 5-Level Paging", the list
// after the entry formats): bits 51:MAXPHYADDR everywhere; XD when EFER.NXE = 0; PS of a PML4E;
// PS of a PDPTE when 1 GiB pages are not supported (CPUID.80000001H:EDX.Page1GB = 0); bits 29:13
// of a 1 GiB leaf and 20:13 of a 2 MiB leaf (between the PAT bit and the frame).
constexpr std::uint64_t reserved_bits(std::uint64_t entry, level l, unsigned maxphyaddr, bool nxe,
                                      bool page_1gb) {
    std::uint64_t reserved = address_mask & ~phys_mask(maxphyaddr);
    if (!nxe)
        reserved |= execute_disable;
    if (l == level::pml4 || (l == level::pdpt && !page_1gb))
        reserved |= page_size;
    if (is_leaf(entry, l) && l != level::pt)
        reserved |= (leaf_bytes(l) - 1) & ~page_offset_mask & ~pat_large;
    return reserved;
}

static_assert(reserved_bits(page_size, level::pd, 52, true, true) == 0x1fe000);
static_assert(reserved_bits(page_size, level::pdpt, 52, true, true) == 0x3fffe000);
static_assert(reserved_bits(0, level::pt, 36, false, true) == (0x000ffff000000000ull | 1ull << 63));
static_assert(reserved_bits(0, level::pml4, 52, true, true) == page_size);

// The page-fault error code ("Page-Fault Exceptions"). P: 0 for a non-present entry, 1 for a
// protection or reserved-bit fault; W/R, U/S and I/D describe the access, not the page.
namespace pf_error {
inline constexpr std::uint32_t present = 1u << 0;  // P
inline constexpr std::uint32_t write = 1u << 1;    // W/R
inline constexpr std::uint32_t user = 1u << 2;     // U/S: a user-mode access
inline constexpr std::uint32_t reserved = 1u << 3; // RSVD: a reserved bit set in some entry
inline constexpr std::uint32_t fetch = 1u << 4;    // I/D: only with CR4.SMEP = 1 or EFER.NXE = 1
inline constexpr std::uint32_t protection_key = 1u << 5; // PK
inline constexpr std::uint32_t shadow_stack = 1u << 6;   // SS
inline constexpr std::uint32_t hlat = 1u << 7;           // HLAT paging
inline constexpr std::uint32_t sgx = 1u << 15;           // SGX access control
} // namespace pf_error

} // namespace sdm::paging
