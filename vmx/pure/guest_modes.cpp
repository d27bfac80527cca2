// Initial guest register state per start mode. The values satisfy the VM-entry checks on guest
// state (SDM "Checks on the Guest Register State"), with unrestricted guest for real mode.
#include "guest_modes.hpp"

#include "sdm/cpu_bits.hpp"
#include "sdm/msrs.hpp"
#include "sdm/segments.hpp"

namespace es {

namespace {

// Access rights in the VMX format (include/sdm/segments.hpp).
namespace ar = sdm::segment_ar;

constexpr std::uint64_t real_mode_stack = 0xfff0;
constexpr std::uint64_t real_mode_segment_span = 0x10000;

constexpr segment_state linux_code{linux_boot_cs, 0, 0xffffffff,
                                   ar::code | ar::long_mode | ar::granular};
constexpr segment_state linux_data{linux_boot_ds, 0, 0xffffffff, ar::data | ar::big | ar::granular};

// A segment descriptor from the VMX access-rights form ("Segment Descriptors"): access byte at
// bits 47:40, the AVL/L/D/G nibble at 55:52, limit in pages when G is set.
constexpr std::uint64_t descriptor(const segment_state& s) {
    const std::uint64_t limit = (s.access & ar::granular) ? s.limit >> 12 : s.limit;
    return (limit & 0xffff) | ((s.base & 0xffffff) << 16) | (std::uint64_t{s.access & 0xff} << 40) |
           (((limit >> 16) & 0xf) << 48) | (std::uint64_t{(s.access >> 12) & 0xf} << 52) |
           (((s.base >> 24) & 0xff) << 56);
}

// 64-bit mode with paging on the host-built identity tables ("Initializing IA-32e Mode").
void enter_long_mode(guest_start_state& g, std::uint64_t entry, std::uint64_t mem_bytes,
                     std::uint64_t cr0_base) {
    g.rip = entry;
    g.cr0_shadow = cr0_base | sdm::cr0::pe | sdm::cr0::pg | sdm::cr0::wp;
    g.cr3 = page_tables_base(mem_bytes);
    g.cr4_shadow = sdm::cr4::pae;
    g.efer = sdm::efer::lme | sdm::efer::lma;
    g.ia32e = true;
}

} // namespace

std::uint64_t linux64_host_base(std::uint64_t mem_bytes) {
    return mem_bytes - linux64_host_bytes;
}

std::uint64_t linux_boot_gdt_entry(std::uint32_t index) {
    if (index == linux_boot_cs / 8)
        return descriptor(linux_code);
    if (index == linux_boot_ds / 8)
        return descriptor(linux_data);
    return 0;
}

std::uint64_t page_tables_base(std::uint64_t mem_bytes) {
    return mem_bytes - long_mode_tables_bytes;
}

std::uint64_t default_stack(guest_mode mode, std::uint64_t mem_bytes) {
    switch (mode) {
    case guest_mode::real:
        return real_mode_stack;
    case guest_mode::protected32:
        return mem_bytes;
    case guest_mode::long64:
        return page_tables_base(mem_bytes);
    case guest_mode::linux64:
        return linux64_host_base(mem_bytes);
    }
    return 0;
}

guest_start_state initial_guest_state(guest_mode mode, std::uint64_t entry, std::uint64_t stack,
                                      std::uint64_t mem_bytes, std::uint64_t cr0_fixed1,
                                      std::uint64_t cr4_fixed1, std::uint64_t boot_params) {
    guest_start_state g{};
    // Without a GDT of its own the guest sees an empty one; only linux64 gets a real table. The
    // IDT is the real-mode interrupt vector table's place until the guest loads its own.
    g.gdtr_limit = 0xffff;
    g.idtr_base = 0;
    g.idtr_limit = 0xffff;
    g.rflags = sdm::rflags::fixed1; // interrupts off: nothing is ever injected
    g.rsp = stack ? stack : default_stack(mode, mem_bytes);
    g.ldtr = {0, 0, 0, ar::unusable};
    // TR must be usable and hold a busy TSS even in real mode with unrestricted guest.
    g.tr = {0, 0, 0x67, ar::present | ar::type_busy_tss};
    const std::uint64_t cr0_base = sdm::cr0::et | sdm::cr0::ne;

    switch (mode) {
    case guest_mode::real: {
        // CS:IP with the smallest CS that reaches `entry`: CS=0 for images below 64 KiB.
        const std::uint64_t cs_base =
            entry < real_mode_segment_span ? 0 : (entry & ~(real_mode_segment_span - 1));
        g.rip = entry - cs_base;
        g.cs = {static_cast<std::uint16_t>(cs_base >> 4), cs_base, 0xffff, ar::code};
        const segment_state data{0, 0, 0xffff, ar::data};
        g.ss = g.ds = g.es = g.fs = g.gs = data;
        g.cr0_shadow = cr0_base;
        break;
    }
    case guest_mode::protected32: {
        g.rip = entry;
        g.cs = {0x08, 0, 0xffffffff, ar::code | ar::big | ar::granular};
        const segment_state data{0x10, 0, 0xffffffff, ar::data | ar::big | ar::granular};
        g.ss = g.ds = g.es = g.fs = g.gs = data;
        g.cr0_shadow = cr0_base | sdm::cr0::pe;
        break;
    }
    case guest_mode::long64: {
        g.cs = {0x08, 0, 0xffffffff, ar::code | ar::long_mode | ar::granular};
        const segment_state data{0x10, 0, 0xffffffff, ar::data | ar::big | ar::granular};
        g.ss = g.ds = g.es = g.fs = g.gs = data;
        enter_long_mode(g, entry, mem_bytes, cr0_base);
        break;
    }
    case guest_mode::linux64:
        // Long mode as for long64, but on the boot GDT's selectors with the zero page in RSI.
        g.rsi = boot_params;
        g.cs = linux_code;
        g.ss = g.ds = g.es = g.fs = g.gs = linux_data;
        g.gdtr_base = linux64_host_base(mem_bytes);
        g.gdtr_limit = linux_boot_gdt_entries * 8 - 1;
        enter_long_mode(g, entry, mem_bytes, cr0_base);
        break;
    }
    g.cr0 = g.cr0_shadow | cr0_fixed1;
    g.cr4 = g.cr4_shadow | cr4_fixed1;
    return g;
}

void start_at_sipi_page(guest_start_state& g, std::uint64_t page) {
    g.cs.selector = static_cast<std::uint16_t>(page >> 4);
    g.cs.base = page;
    g.rip = 0;
}

} // namespace es
