// Linux's x86 boot protocol: the setup header in a bzImage and the zero page (struct boot_params)
// a loader hands the kernel. Offsets are from the start of the image's boot sector, which is also
// the start of the zero page: the header sits at the same offset in both.
//
// Source: Linux Documentation/arch/x86/boot.rst ("The Real-Mode Kernel Header", "Details of
// Header Fields", "64-bit Boot Protocol") and Documentation/arch/x86/zero-page.rst; the layout
// is struct setup_header / struct boot_params in arch/x86/include/uapi/asm/bootparam.h.
#pragma once

#include <cstdint>

namespace linux_boot {

// A little-endian field: where it is and how wide.
struct field {
    std::uint32_t offset;
    std::uint32_t bytes;
    constexpr std::uint32_t end() const { return offset + bytes; }
};

// The setup header ("The Real-Mode Kernel Header"). Fields past `jump` exist from the protocol
// version named beside them.
namespace hdr {
inline constexpr field setup_sects{0x1f1, 1};
inline constexpr field boot_flag{0x1fe, 2};
inline constexpr field jump{0x200, 2}; // the byte at 0x201 is the header's length past 0x202
inline constexpr field header{0x202, 4};
inline constexpr field version{0x206, 2};
inline constexpr field type_of_loader{0x210, 1};
inline constexpr field loadflags{0x211, 1};
inline constexpr field ramdisk_image{0x218, 4};      // 2.00
inline constexpr field ramdisk_size{0x21c, 4};       // 2.00
inline constexpr field cmd_line_ptr{0x228, 4};       // 2.02
inline constexpr field initrd_addr_max{0x22c, 4};    // 2.03
inline constexpr field kernel_alignment{0x230, 4};   // 2.05
inline constexpr field relocatable_kernel{0x234, 1}; // 2.05
inline constexpr field xloadflags{0x236, 2};         // 2.12
inline constexpr field cmdline_size{0x238, 4};       // 2.06
inline constexpr field pref_address{0x258, 8};       // 2.10
inline constexpr field init_size{0x260, 4};          // 2.10
} // namespace hdr

inline constexpr std::uint32_t header_start = hdr::setup_sects.offset;
inline constexpr std::uint32_t jump_length_byte = hdr::jump.offset + 1;
inline constexpr std::uint32_t header_length_base = hdr::header.offset;

inline constexpr std::uint16_t boot_flag_value = 0xaa55;
inline constexpr std::uint32_t header_magic = 0x53726448; // "HdrS", little-endian
// xloadflags (and with it the 64-bit entry's description) exists from 2.12.
inline constexpr std::uint16_t min_version = 0x020c;

// loadflags bits.
inline constexpr std::uint8_t loaded_high = 1u << 0; // protected-mode code at 0x100000: bzImage
// xloadflags bits.
inline constexpr std::uint16_t xlf_kernel_64 = 1u << 0; // 64-bit entry at load address + 0x200
// type_of_loader for a loader without an assigned ID ("Details of Header Fields").
inline constexpr std::uint8_t loader_undefined = 0xff;

inline constexpr std::uint32_t sector_bytes = 512;
// "If this field is 0, the real value is 4."
inline constexpr std::uint32_t default_setup_sects = 4;
inline constexpr std::uint64_t kernel_load_address = 0x100000;
inline constexpr std::uint64_t entry_64_offset = 0x200;

// The zero page ("zero-page.rst").
namespace zp {
inline constexpr std::uint32_t bytes = 4096;
inline constexpr field ext_ramdisk_image{0x0c0, 4};
inline constexpr field ext_ramdisk_size{0x0c4, 4};
inline constexpr field ext_cmd_line_ptr{0x0c8, 4};
inline constexpr field e820_entries{0x1e8, 1};
inline constexpr field sentinel{0x1ef, 1};
inline constexpr std::uint32_t e820_table = 0x2d0;
inline constexpr std::uint32_t e820_max_entries = 128; // E820_MAX_ENTRIES_ZEROPAGE
} // namespace zp

// One e820 entry: u64 address, u64 size, u32 type, packed.
namespace e820 {
inline constexpr std::uint32_t entry_bytes = 20;
inline constexpr field addr{0, 8};
inline constexpr field size{8, 8};
inline constexpr field type{16, 4};
inline constexpr std::uint32_t ram = 1;
inline constexpr std::uint32_t reserved = 2;
} // namespace e820

// The layout's own consistency: fields in order where bootparam.h has them, nothing overlapping
// the header from the zero page's side, the e820 table inside the page.
static_assert(zp::sentinel.end() <= header_start);
static_assert(zp::e820_entries.end() <= zp::sentinel.offset);
static_assert(hdr::jump.end() == hdr::header.offset);
static_assert(hdr::header.end() == hdr::version.offset);
static_assert(hdr::type_of_loader.end() == hdr::loadflags.offset);
static_assert(hdr::ramdisk_image.end() == hdr::ramdisk_size.offset);
static_assert(hdr::cmd_line_ptr.end() == hdr::initrd_addr_max.offset);
static_assert(hdr::relocatable_kernel.offset + 2 == hdr::xloadflags.offset);
static_assert(hdr::xloadflags.end() == hdr::cmdline_size.offset);
static_assert(hdr::init_size.end() <= zp::e820_table);
static_assert(zp::e820_table + zp::e820_max_entries * e820::entry_bytes <= zp::bytes);
static_assert(e820::type.end() == e820::entry_bytes);

} // namespace linux_boot
