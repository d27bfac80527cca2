// The MP tables a PC's BIOS leaves in memory so that an operating system finds its processors and
// interrupt wiring without ACPI: the floating pointer and the configuration table with its base
// entries. Offsets are from the start of each structure; multi-byte fields are little-endian.
//
// Source: Intel MultiProcessor Specification, version 1.4 (May 1997), chapter 4 "MP
// Configuration Table": sections "MP Floating Pointer Structure", "MP Configuration Table
// Header" and "Base MP Configuration Table Entries" (Processor, Bus, I/O APIC, I/O Interrupt
// Assignment and Local Interrupt Assignment Entries).
#pragma once

#include <cstdint>

namespace mpspec {

// A field: where it is and how wide.
struct field {
    std::uint32_t offset;
    std::uint32_t bytes;
};

// Spec revision byte of both structures for version 1.4 (1 is version 1.1).
inline constexpr std::uint8_t spec_rev_1_4 = 4;
inline constexpr std::uint8_t spec_rev_1_1 = 1;

// "MP Floating Pointer Structure": 16 bytes on a 16-byte boundary, in the first KiB of the EBDA,
// the last KiB of base memory, or the BIOS ROM between 0xF0000 and 0xFFFFF.
namespace floating {
inline constexpr char signature_text[] = "_MP_";
inline constexpr std::uint32_t bytes = 16;
inline constexpr std::uint32_t alignment = 16;
inline constexpr std::uint8_t length_paragraphs = 1; // LENGTH counts 16-byte paragraphs
inline constexpr field signature{0, 4};
inline constexpr field physical_address_pointer{4, 4}; // the configuration table, or 0
inline constexpr field length{8, 1};
inline constexpr field spec_rev{9, 1};
inline constexpr field checksum{10, 1}; // all 16 bytes sum to 0
// Feature byte 1: 0 when a configuration table is present, else a default configuration's
// number. Feature byte 2 bit 7 (IMCRP): the IMCR is present and the system starts in PIC mode;
// clear means virtual wire mode. Bytes 3 to 5 are reserved.
inline constexpr field feature1{11, 1};
inline constexpr field feature2{12, 1};
inline constexpr std::uint8_t feature2_imcrp = 0x80;
// The BIOS ROM area, one of the places the structure may be.
inline constexpr std::uint64_t bios_rom_start = 0xf0000;
inline constexpr std::uint64_t bios_rom_end = 0x100000;
} // namespace floating

// "MP Configuration Table Header": 44 bytes, then the base table's entries, sorted by type.
namespace config {
inline constexpr char signature_text[] = "PCMP";
inline constexpr std::uint32_t header_bytes = 44;
inline constexpr field signature{0, 4};
inline constexpr field base_table_length{4, 2}; // header and base entries, in bytes
inline constexpr field spec_rev{6, 1};
inline constexpr field checksum{7, 1}; // the base table sums to 0
inline constexpr field oem_id{8, 8};   // ASCII, space padded
inline constexpr field product_id{16, 12};
inline constexpr field oem_table_pointer{28, 4};
inline constexpr field oem_table_size{32, 2};
inline constexpr field entry_count{34, 2};
inline constexpr field local_apic_address{36, 4};
inline constexpr field extended_table_length{40, 2};
inline constexpr field extended_table_checksum{42, 1};
} // namespace config

// "Base MP Configuration Table Entries": the first byte of each is its type.
enum class entry_type : std::uint8_t {
    processor = 0,
    bus = 1,
    io_apic = 2,
    io_interrupt = 3,
    local_interrupt = 4,
};

constexpr std::uint32_t entry_bytes(entry_type t) {
    return t == entry_type::processor ? 20 : 8;
}

inline constexpr field entry_type_field{0, 1};

// "Processor Entries".
namespace processor {
inline constexpr field local_apic_id{1, 1};
inline constexpr field local_apic_version{2, 1};
inline constexpr field cpu_flags{3, 1};
inline constexpr field cpu_signature{4, 4};        // stepping 3:0, model 7:4, family 11:8
inline constexpr field feature_flags{8, 4};        // CPUID.1:EDX
inline constexpr std::uint8_t flag_enabled = 0x01; // EN
inline constexpr std::uint8_t flag_bootstrap_processor = 0x02; // BP
} // namespace processor

// "Bus Entries".
namespace bus {
inline constexpr field bus_id{1, 1};
inline constexpr field bus_type{2, 6};       // ASCII, space padded
inline constexpr char isa_type[] = "ISA   "; // "Bus Type String Values"
} // namespace bus

// "I/O APIC Entries".
namespace io_apic {
inline constexpr field id{1, 1};
inline constexpr field version{2, 1};
inline constexpr field flags{3, 1};
inline constexpr field address{4, 4};
inline constexpr std::uint8_t flag_enabled = 0x01; // EN: usable
} // namespace io_apic

// "I/O Interrupt Assignment Entries" and "Local Interrupt Assignment Entries" share a layout:
// the source (bus and its IRQ) and the destination (an APIC and its input pin).
namespace interrupt {
inline constexpr field interrupt_type{1, 1};
inline constexpr field flags{2, 2}; // polarity 1:0, trigger mode 3:2; 0 conforms to the bus
inline constexpr field source_bus_id{4, 1};
inline constexpr field source_bus_irq{5, 1};
inline constexpr field destination_apic_id{6, 1};
inline constexpr field destination_input{7, 1}; // INTIN# of an I/O APIC, LINTIN# of a local APIC
inline constexpr std::uint8_t all_local_apics = 0xff; // a local interrupt's destination
} // namespace interrupt

// "Interrupt Type Values".
enum class interrupt_type : std::uint8_t { vectored = 0, nmi = 1, smi = 2, ext_int = 3 };

} // namespace mpspec
