// Initial guest state for the three start modes (real, 32-bit protected, 64-bit long) and the
// identity page tables a long-mode guest starts on. Pure: unit-tested on the host.
#pragma once

#include <cstdint>

#include "exitscope/abi.h"
#include "sdm/canonical.hpp"
#include "sdm/paging.hpp"

namespace es {

struct segment_state {
    std::uint16_t selector;
    std::uint64_t base;
    std::uint32_t limit;
    std::uint32_t access; // VMX access-rights format ("Guest Register State")
};

struct guest_start_state {
    std::uint64_t cr0, cr0_shadow, cr3, cr4, cr4_shadow, efer, rip, rsp, rflags;
    std::uint64_t rsi; // linux64: the zero page ("64-bit Boot Protocol")
    std::uint64_t gdtr_base;
    std::uint32_t gdtr_limit;
    std::uint64_t idtr_base; // base 0, limit 0xFFFF: the real-mode IVT, whatever the mode
    std::uint32_t idtr_limit;
    segment_state cs, ss, ds, es, fs, gs, ldtr, tr;
    bool ia32e;
};

enum class guest_mode : std::uint32_t { real = 0, protected32 = 1, long64 = 2, linux64 = 3 };

// A guest RIP VM entry accepts ("Checks on Guest RIP, RFLAGS, and SSP"): canonical in 64-bit
// code (IA-32e mode and CS.L), bits 63:32 clear otherwise. An emulated instruction that ends at
// the top of the lower half, or at 4 GiB, leaves one that it refuses.
constexpr bool guest_rip_enterable(std::uint64_t rip, bool code64) {
    return code64 ? is_canonical(rip) : (rip >> 32) == 0;
}

// Guest RAM the host reserves at the top for a long-mode guest's page tables.
inline constexpr std::uint64_t long_mode_tables_bytes = std::uint64_t{3} * 4096;

// linux64 adds one page below the page tables for the boot GDT (abi.h: ES_LINUX64_HOST_BYTES).
inline constexpr std::uint64_t linux64_host_bytes = long_mode_tables_bytes + 4096;
static_assert(linux64_host_bytes == ES_LINUX64_HOST_BYTES);

// Linux's boot segments ("64-bit Boot Protocol": __BOOT_CS 0x10, __BOOT_DS 0x18).
inline constexpr std::uint16_t linux_boot_cs = 0x10;
inline constexpr std::uint16_t linux_boot_ds = 0x18;
inline constexpr std::uint32_t linux_boot_gdt_entries = 4; // null, unused, CS, DS

// First byte of the host area of a linux64 guest: its GDT page, then the page tables.
std::uint64_t linux64_host_base(std::uint64_t mem_bytes);

// Where a mode puts its page tables and its default stack, for `mem_bytes` of RAM.
std::uint64_t page_tables_base(std::uint64_t mem_bytes);
std::uint64_t default_stack(guest_mode mode, std::uint64_t mem_bytes);

// `cr0_fixed1`/`cr4_fixed1`: bits VMX forces to 1 in the guest (hidden from it by the shadows).
// `boot_params`: the zero page of a linux64 guest (0 in other modes).
guest_start_state initial_guest_state(guest_mode mode, std::uint64_t entry, std::uint64_t stack,
                                      std::uint64_t mem_bytes, std::uint64_t cr0_fixed1,
                                      std::uint64_t cr4_fixed1, std::uint64_t boot_params = 0);

// A start-up IPI's start ("MP Initialization Protocol Algorithm"): initial_guest_state's real
// mode, but with CS = page >> 4 (its base the page) and IP = 0, as the AP's trampoline expects
// whatever 64 KiB segment holds the page.
void start_at_sipi_page(guest_start_state& g, std::uint64_t page);

// Descriptor `index` of the linux64 boot GDT (flat 64-bit code at __BOOT_CS, flat data at
// __BOOT_DS, the rest null), as the processor reads it from guest memory.
std::uint64_t linux_boot_gdt_entry(std::uint32_t index);

// Write a PML4, PDPT and PD at page_tables_base() that map guest RAM 1:1 with 2 MiB pages.
// `ram` is the guest's RAM as host memory: `write64(gpa, value)` stores a little-endian word.
template <typename Write64> void build_identity_tables(std::uint64_t mem_bytes, Write64 write64) {
    constexpr std::uint64_t present_writable = sdm::paging::present | sdm::paging::writable;
    constexpr std::uint64_t large_page = sdm::paging::page_size;
    constexpr std::uint64_t two_mib = sdm::paging::leaf_bytes(sdm::paging::level::pd);
    const std::uint64_t pml4 = page_tables_base(mem_bytes);
    const std::uint64_t pdpt = pml4 + 4096;
    const std::uint64_t pd = pdpt + 4096;
    write64(pml4, pdpt | present_writable);
    write64(pdpt, pd | present_writable);
    const std::uint64_t pages = (mem_bytes + two_mib - 1) / two_mib;
    for (std::uint64_t i = 0; i < pages && i < 512; ++i)
        write64(pd + i * 8, (i * two_mib) | present_writable | large_page);
}

// Write the linux64 boot GDT at linux64_host_base().
template <typename Write64> void build_linux_boot_gdt(std::uint64_t mem_bytes, Write64 write64) {
    const std::uint64_t base = linux64_host_base(mem_bytes);
    for (std::uint32_t i = 0; i < linux_boot_gdt_entries; ++i)
        write64(base + i * 8, linux_boot_gdt_entry(i));
}

} // namespace es
