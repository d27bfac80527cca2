// The local APIC as seen through its MSRs in x2APIC mode: IA32_APIC_BASE, the x2APIC register
// MSRs and their access rules, IA32_TSC_DEADLINE, and the bit layouts of the registers.
//
// Source: Intel SDM, Volume 3, chapter "Advanced Programmable Interrupt Controller (APIC)":
// sections "Local APIC Status and Location" (IA32_APIC_BASE), "Local Vector Table", "Error
// Handling", "APIC Timer", "Issuing Interprocessor Interrupts", "Task Priority in IA-32e Mode"
// and "Interrupt, Task, and Processor Priority", "Spurious Interrupt", and "Extended XAPIC
// (x2APIC)": "x2APIC Register Address Space" (the table of x2APIC MSRs), "Reserved Bit Checking",
// "x2APIC State Transitions", "Interrupt Command Register (ICR) Operation in x2APIC Mode", "SELF
// IPI Register", "Logical Destination Mode in x2APIC Mode" (order number 325462-080US, June 2023).
#pragma once

#include <cstdint>

namespace sdm::apic {

// "Local APIC Status and Location": IA32_APIC_BASE (MSR 0x1B).
inline constexpr std::uint32_t base_msr = 0x1b;
namespace base {
inline constexpr std::uint64_t bsp = 1ull << 8;            // processor is the BSP (read only)
inline constexpr std::uint64_t x2apic_enable = 1ull << 10; // EXTD
inline constexpr std::uint64_t global_enable = 1ull << 11; // EN
inline constexpr std::uint64_t address_mask = ~0xfffull;   // APIC base, up to MAXPHYADDR
} // namespace base
inline constexpr std::uint64_t default_base = 0xfee00000; // the base after power-up or reset

// "TSC-Deadline Mode": IA32_TSC_DEADLINE.
inline constexpr std::uint32_t tsc_deadline_msr = 0x6e0;

// "x2APIC Register Address Space": MSR 0x800 + (xAPIC MMIO offset >> 4).
inline constexpr std::uint32_t x2apic_msr_first = 0x800;
inline constexpr std::uint32_t x2apic_msr_last = 0x8ff;

enum class x2apic_reg : std::uint32_t {
    id = 0x802,
    version = 0x803,
    tpr = 0x808,
    ppr = 0x80a,
    eoi = 0x80b,
    ldr = 0x80d,
    svr = 0x80f,
    isr = 0x810, // 8 MSRs, bits 0-31 .. 224-255
    tmr = 0x818, // 8 MSRs
    irr = 0x820, // 8 MSRs
    esr = 0x828,
    lvt_cmci = 0x82f,
    icr = 0x830, // 64 bits in x2APIC mode; 0x831 (the xAPIC's ICR high half) is reserved
    lvt_timer = 0x832,
    lvt_thermal = 0x833,
    lvt_pmi = 0x834,
    lvt_lint0 = 0x835,
    lvt_lint1 = 0x836,
    lvt_error = 0x837,
    timer_initial_count = 0x838,
    timer_current_count = 0x839,
    timer_divide = 0x83e,
    self_ipi = 0x83f, // x2APIC mode only
};

constexpr std::uint32_t to_number(x2apic_reg r) {
    return static_cast<std::uint32_t>(r);
}

enum class access : std::uint8_t { read_write, read_only, write_only };

// One row of the x2APIC MSR table: `count` consecutive MSRs from `first`, and the bits a WRMSR
// may set ("Reserved Bit Checking": a non-zero write to a reserved bit is #GP, and the upper 32
// bits of every x2APIC MSR but the ICR are reserved). EOI and ESR take only 0.
struct x2apic_register {
    x2apic_reg first;
    std::uint8_t count;
    access how;
    std::uint64_t writable;
};

// LVT bits ("Local Vector Table").
namespace lvt {
inline constexpr std::uint32_t vector = 0xff;
inline constexpr std::uint32_t delivery_mode = 0x700;
inline constexpr unsigned delivery_mode_shift = 8;
inline constexpr std::uint32_t delivery_status = 1u << 12; // read only: send pending
inline constexpr std::uint32_t input_polarity = 1u << 13;  // LINT0/LINT1
inline constexpr std::uint32_t remote_irr = 1u << 14;      // LINT0/LINT1, read only
inline constexpr std::uint32_t level_triggered = 1u << 15; // LINT0/LINT1
inline constexpr std::uint32_t masked = 1u << 16;
inline constexpr std::uint32_t timer_mode = 3u << 17; // timer only
inline constexpr unsigned timer_mode_shift = 17;
} // namespace lvt

// "APIC Timer": LVT timer bits 18:17.
enum class timer_mode : std::uint8_t { one_shot = 0, periodic = 1, tsc_deadline = 2 };

// Delivery modes of the LVT entries and of the ICR ("Local Vector Table", "Interrupt Command
// Register (ICR)"); 3 is reserved, and so is 7 in the ICR.
enum class delivery : std::uint8_t {
    fixed = 0,
    lowest_priority = 1, // ICR only
    smi = 2,
    nmi = 4,
    init = 5,
    startup = 6, // ICR only
    ext_int = 7, // LVT only
};

// "Interrupt Command Register (ICR) Operation in x2APIC Mode": bits 12, 13, 16-17 and 20-31 are
// reserved; the destination is bits 63:32, a full 32-bit x2APIC ID or logical ID.
namespace icr {
inline constexpr std::uint64_t vector = 0xff;
inline constexpr std::uint64_t delivery_mode = 0x700;
inline constexpr unsigned delivery_mode_shift = 8;
inline constexpr std::uint64_t logical = 1ull << 11; // destination mode
inline constexpr std::uint64_t level_assert = 1ull << 14;
inline constexpr std::uint64_t level_triggered = 1ull << 15;
inline constexpr std::uint64_t shorthand = 3ull << 18;
inline constexpr unsigned shorthand_shift = 18;
inline constexpr unsigned destination_shift = 32;
inline constexpr std::uint64_t writable = vector | delivery_mode | logical | level_assert |
                                          level_triggered | shorthand | (0xffffffffull << 32);
// The delivery status bit (12) reads as 0: an x2APIC never shows a send as pending.
inline constexpr std::uint64_t delivery_status = 1ull << 12;
} // namespace icr

enum class shorthand : std::uint8_t { none = 0, self = 1, all = 2, all_but_self = 3 };

// "Logical Destination Mode in x2APIC Mode": the LDR is derived from the x2APIC ID, a cluster
// (ID bits 31:4) in bits 31:16 and one bit (1 << ID bits 3:0) in bits 15:0; a logical
// destination of all ones is a broadcast.
constexpr std::uint32_t x2apic_logical_id(std::uint32_t x2apic_id) {
    return ((x2apic_id >> 4) << 16) | (1u << (x2apic_id & 0xf));
}
inline constexpr std::uint32_t broadcast = 0xffffffff;

// "Spurious-Interrupt Vector Register": its value after power-up or reset is 0xFF.
namespace svr {
inline constexpr std::uint32_t vector = 0xff;
inline constexpr std::uint32_t software_enable = 1u << 8;
inline constexpr std::uint32_t focus_disable = 1u << 9;
inline constexpr std::uint32_t reset_value = 0xff;
} // namespace svr

// "Local APIC Version Register".
namespace version {
inline constexpr unsigned max_lvt_shift = 16;           // number of LVT entries - 1
inline constexpr std::uint32_t integrated_first = 0x10; // 10H-15H: an integrated APIC
} // namespace version

// "Error Handling": the ESR bits an x2APIC sets (illegal register address is a #GP instead).
namespace esr {
inline constexpr std::uint32_t send_illegal_vector = 1u << 5;
inline constexpr std::uint32_t received_illegal_vector = 1u << 6;
} // namespace esr

// "Task and Processor Priorities": the class is bits 7:4 of a vector or priority, and vectors
// 0 to 15 are reserved (delivering one is an illegal-vector error).
inline constexpr std::uint32_t priority_class = 0xf0;
inline constexpr std::uint32_t tpr_writable = 0xff;
inline constexpr std::uint32_t first_legal_vector = 16;

// "Divide Configuration Register": bits 0, 1 and 3; 0b1011 divides by 1, else by 2^(value + 1).
inline constexpr std::uint32_t divide_writable = 0xb;
constexpr unsigned timer_divide_shift(std::uint32_t dcr) {
    const unsigned v = ((dcr >> 1) & 4) | (dcr & 3);
    return (v + 1) & 7;
}

// The x2APIC MSRs ("x2APIC Register Address Space"); every other MSR from 0x800 to 0x8FF is
// reserved: RDMSR and WRMSR of it are #GP.
inline constexpr x2apic_register x2apic_registers[] = {
    {x2apic_reg::id, 1, access::read_only, 0},
    {x2apic_reg::version, 1, access::read_only, 0},
    {x2apic_reg::tpr, 1, access::read_write, tpr_writable},
    {x2apic_reg::ppr, 1, access::read_only, 0},
    {x2apic_reg::eoi, 1, access::write_only, 0},
    {x2apic_reg::ldr, 1, access::read_only, 0},
    {x2apic_reg::svr, 1, access::read_write,
     svr::vector | svr::software_enable | svr::focus_disable},
    {x2apic_reg::isr, 8, access::read_only, 0},
    {x2apic_reg::tmr, 8, access::read_only, 0},
    {x2apic_reg::irr, 8, access::read_only, 0},
    {x2apic_reg::esr, 1, access::read_write, 0},
    {x2apic_reg::lvt_cmci, 1, access::read_write,
     lvt::vector | lvt::delivery_mode | lvt::delivery_status | lvt::masked},
    {x2apic_reg::icr, 1, access::read_write, icr::writable | icr::delivery_status},
    {x2apic_reg::lvt_timer, 1, access::read_write,
     lvt::vector | lvt::delivery_status | lvt::masked | lvt::timer_mode},
    {x2apic_reg::lvt_thermal, 1, access::read_write,
     lvt::vector | lvt::delivery_mode | lvt::delivery_status | lvt::masked},
    {x2apic_reg::lvt_pmi, 1, access::read_write,
     lvt::vector | lvt::delivery_mode | lvt::delivery_status | lvt::masked},
    {x2apic_reg::lvt_lint0, 1, access::read_write,
     lvt::vector | lvt::delivery_mode | lvt::delivery_status | lvt::input_polarity |
         lvt::remote_irr | lvt::level_triggered | lvt::masked},
    {x2apic_reg::lvt_lint1, 1, access::read_write,
     lvt::vector | lvt::delivery_mode | lvt::delivery_status | lvt::input_polarity |
         lvt::remote_irr | lvt::level_triggered | lvt::masked},
    {x2apic_reg::lvt_error, 1, access::read_write,
     lvt::vector | lvt::delivery_status | lvt::masked},
    {x2apic_reg::timer_initial_count, 1, access::read_write, 0xffffffff},
    {x2apic_reg::timer_current_count, 1, access::read_only, 0},
    {x2apic_reg::timer_divide, 1, access::read_write, divide_writable},
    {x2apic_reg::self_ipi, 1, access::write_only, 0xff},
};

// The row of an MSR in 0x800..0x8FF, or nullptr for a reserved one.
constexpr const x2apic_register* find_x2apic_register(std::uint32_t msr) {
    for (const x2apic_register& r : x2apic_registers)
        if (msr >= to_number(r.first) && msr < to_number(r.first) + r.count)
            return &r;
    return nullptr;
}

} // namespace sdm::apic
