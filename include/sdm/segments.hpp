// Segment access rights in the VMX format of the guest-state area.
//
// Source: Intel SDM, Volume 3, "Guest Register State" (format of the access-rights fields) and
// "Segment Descriptors" (type field values), order number 325462-080US, June 2023.
#pragma once

#include <cstdint>

namespace sdm::segment_ar {

inline constexpr std::uint32_t type_mask = 0xfu;       // bits 3:0
inline constexpr std::uint32_t code_or_data = 1u << 4; // S: 1 code/data, 0 system
inline constexpr unsigned dpl_shift = 5;               // bits 6:5
inline constexpr std::uint32_t dpl_mask = 3u;
inline constexpr std::uint32_t present = 1u << 7;    // P
inline constexpr std::uint32_t available = 1u << 12; // AVL
inline constexpr std::uint32_t long_mode = 1u << 13; // L: 64-bit code segment
inline constexpr std::uint32_t big = 1u << 14;       // D/B: 32-bit default size
inline constexpr std::uint32_t granular = 1u << 15;  // G: limit in 4 KiB units
inline constexpr std::uint32_t unusable = 1u << 16;  // segment unusable (VMX only)

// Type values (code/data with S=1, system with S=0).
inline constexpr std::uint32_t type_data_rw_accessed = 0x3;
inline constexpr std::uint32_t type_code_rx_accessed = 0xb;
inline constexpr std::uint32_t type_busy_tss = 0xb; // system: busy 32/64-bit TSS

// The code and data segments every start mode uses, before size bits.
inline constexpr std::uint32_t code = present | code_or_data | type_code_rx_accessed;
inline constexpr std::uint32_t data = present | code_or_data | type_data_rw_accessed;

} // namespace sdm::segment_ar
