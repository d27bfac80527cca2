// The ACPI tables a PC's firmware leaves in memory for an operating system to find its processors
// with: the Root System Description Pointer, the Extended System Description Table and the
// Multiple APIC Description Table. Offsets are from the start of each structure; multi-byte
// fields are little-endian.
//
// Source: ACPI Specification 6.5 (August 2022), chapter 5.2 "ACPI System Description Tables":
// 5.2.5.3 "Root System Description Pointer (RSDP) Structure", 5.2.6 "System Description Table
// Header", 5.2.8 "Extended System Description Table (XSDT)", 5.2.12 "Multiple APIC Description
// Table (MADT)" and 5.2.12.2 "Processor Local APIC Structure".
#pragma once

#include <cstdint>

namespace acpi {

struct field {
    std::uint32_t offset;
    std::uint32_t bytes;
};

// 5.2.5.3: 36 bytes (revision 2) on a 16-byte boundary, found by scanning the first KiB of the
// EBDA and the BIOS area 0xE0000-0xFFFFF (5.2.5.1 "Finding the RSDP on IA-PC Systems").
namespace rsdp {
inline constexpr char signature_text[] = "RSD PTR ";
inline constexpr std::uint32_t bytes = 36;
inline constexpr std::uint32_t v1_bytes = 20; // what `checksum` covers
inline constexpr std::uint8_t revision_2 = 2; // ACPI 2.0 and later: XSDT and `length`
inline constexpr field signature{0, 8};
inline constexpr field checksum{8, 1};
inline constexpr field oem_id{9, 6};
inline constexpr field revision{15, 1};
inline constexpr field rsdt_address{16, 4};
inline constexpr field length{20, 4};
inline constexpr field xsdt_address{24, 8};
inline constexpr field extended_checksum{32, 1}; // the whole structure sums to 0
inline constexpr std::uint64_t bios_area_start = 0xe0000;
inline constexpr std::uint64_t bios_area_end = 0x100000;
} // namespace rsdp

// 5.2.6: every description table starts with this header; `checksum` makes the whole table
// (`length` bytes) sum to 0.
namespace header {
inline constexpr std::uint32_t bytes = 36;
inline constexpr field signature{0, 4};
inline constexpr field length{4, 4};
inline constexpr field revision{8, 1};
inline constexpr field checksum{9, 1};
inline constexpr field oem_id{10, 6};
inline constexpr field oem_table_id{16, 8};
inline constexpr field oem_revision{24, 4};
inline constexpr field creator_id{28, 4};
inline constexpr field creator_revision{32, 4};
} // namespace header

// 5.2.8: the header, then 64-bit addresses of the other tables.
namespace xsdt {
inline constexpr char signature_text[] = "XSDT";
inline constexpr std::uint8_t revision = 1;
inline constexpr std::uint32_t entry_bytes = 8;
} // namespace xsdt

// 5.2.12: the header, the local APIC address and flags, then interrupt controller structures.
namespace madt {
inline constexpr char signature_text[] = "APIC";
inline constexpr std::uint8_t revision = 5; // ACPI 6.5's MADT revision
inline constexpr field local_apic_address{36, 4};
inline constexpr field flags{40, 4};
inline constexpr std::uint32_t pcat_compat = 1u << 0; // a dual 8259 setup is also present
inline constexpr std::uint32_t entries_offset = 44;
inline constexpr std::uint32_t default_local_apic_address = 0xfee00000;
// 5.2.12.2 "Processor Local APIC Structure": type 0, 8 bytes.
namespace local_apic {
inline constexpr std::uint8_t type = 0;
inline constexpr std::uint8_t bytes = 8;
inline constexpr field entry_type{0, 1};
inline constexpr field length{1, 1};
inline constexpr field processor_uid{2, 1};
inline constexpr field apic_id{3, 1};
inline constexpr field flags{4, 4};
inline constexpr std::uint32_t enabled = 1u << 0;
} // namespace local_apic
} // namespace madt

} // namespace acpi
