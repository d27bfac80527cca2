// Extended page tables: guest RAM mapped 1:1 from guest-physical 0, 4 KiB pages, write-back,
// nothing else reachable (SDM "EPT Translation Mechanism", "EPT Memory Type"). Pure.
#pragma once

#include <cstdint>

namespace es::ept {

inline constexpr std::uint64_t read = 1u << 0;
inline constexpr std::uint64_t write = 1u << 1;
inline constexpr std::uint64_t execute = 1u << 2;
inline constexpr std::uint64_t rwx = read | write | execute;
inline constexpr unsigned memory_type_shift = 3; // leaf entries, bits 5:3
inline constexpr std::uint64_t write_back = 6;
// Leaf entries, bit 6: the EPT memory type alone applies, whatever the guest's PAT says (guest RAM
// is ordinary write-back host memory, so a guest cannot make it uncached).
inline constexpr std::uint64_t ignore_pat = 1u << 6;
inline constexpr std::uint64_t address_mask = 0x000ffffffffff000ull;

constexpr std::uint64_t table_entry(std::uint64_t table_pa) {
    return (table_pa & address_mask) | rwx;
}
constexpr std::uint64_t leaf_entry(std::uint64_t page_pa) {
    return (page_pa & address_mask) | rwx | (write_back << memory_type_shift) | ignore_pat;
}

// EPTP: memory type WB (bits 2:0), page-walk length minus one (bits 5:3), PML4 address.
constexpr std::uint64_t pointer(std::uint64_t pml4_pa) {
    constexpr std::uint64_t walk_length_4 = 3ull << 3;
    return (pml4_pa & address_mask) | walk_length_4 | write_back;
}

// Page tables needed for `nr_pages` guest pages (each maps 512).
constexpr std::uint64_t page_tables_for(std::uint64_t nr_pages) {
    return (nr_pages + 511) / 512;
}

constexpr unsigned pml4_index(std::uint64_t gpa) {
    return (gpa >> 39) & 511;
}
constexpr unsigned pdpt_index(std::uint64_t gpa) {
    return (gpa >> 30) & 511;
}
constexpr unsigned pd_index(std::uint64_t gpa) {
    return (gpa >> 21) & 511;
}
constexpr unsigned pt_index(std::uint64_t gpa) {
    return (gpa >> 12) & 511;
}

} // namespace es::ept
