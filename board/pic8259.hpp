// The PC's two Intel 8259A programmable interrupt controllers (slave on master IR2), edge
// triggered, as Linux's arch/x86/kernel/i8259.c drives them: init_8259A (ICW1-ICW4, optionally
// auto-EOI), probe_8259A (IMR written and read back), mask_and_ack_8259A (IMR rewrite and specific
// EOIs), i8259A_irq_real / i8259A_irq_pending (OCW3 ISR/IRR reads). Pure: unit-tested on the host.
#pragma once

#include <array>
#include <cstdint>

namespace es {

namespace pic {
inline constexpr std::uint16_t master_command = 0x20;
inline constexpr std::uint16_t master_data = 0x21;
inline constexpr std::uint16_t slave_command = 0xa0;
inline constexpr std::uint16_t slave_data = 0xa1;
// Edge/level control registers of the PC chipsets (PIIX/ICH "ELCR1/ELCR2"); not in the 8259A.
inline constexpr std::uint16_t elcr_master = 0x4d0;
inline constexpr std::uint16_t elcr_slave = 0x4d1;

inline constexpr unsigned cascade_irq = 2;   // the master input the slave's INT drives
inline constexpr unsigned irq2_redirect = 9; // where the bus's IRQ2 pin goes on a PC/AT
inline constexpr unsigned irq_count = 16;

// Command words (Intel 8259A data sheet, "Programming the 8259A").
inline constexpr std::uint8_t icw1_select = 0x10; // with A0 = 0: this is ICW1
inline constexpr std::uint8_t icw1_ic4 = 0x01;    // ICW4 follows
inline constexpr std::uint8_t icw1_single = 0x02; // no cascade: no ICW3
inline constexpr std::uint8_t icw4_aeoi = 0x02;
inline constexpr std::uint8_t icw4_sfnm = 0x10;   // special fully nested mode
inline constexpr std::uint8_t ocw3_select = 0x08; // with A0 = 0 and bit 4 clear: OCW3
inline constexpr std::uint8_t ocw3_read = 0x02;   // RR: bit 0 (RIS) picks ISR over IRR
inline constexpr std::uint8_t ocw3_ris = 0x01;
inline constexpr std::uint8_t ocw3_poll = 0x04;
inline constexpr std::uint8_t ocw3_special_mask = 0x40; // ESMM: bit 5 (SMM) sets or clears it
inline constexpr std::uint8_t ocw3_smm = 0x20;
} // namespace pic

// One 8259A. All-zero is its state after power-on: nothing requested, in service or masked,
// IR0 highest priority, IRR selected for reads.
struct pic8259 {
    std::uint8_t irr;        // requests latched on a rising edge
    std::uint8_t isr;        // in service
    std::uint8_t imr;        // masked
    std::uint8_t levels;     // the IR inputs as last driven, for edge detection
    std::uint8_t icw2;       // vector base (bits 7-3)
    std::uint8_t highest;    // the IR with the highest priority (rotation moves it); 0 = IR0
    std::uint8_t init_step;  // 0 ready; 2, 3, 4: ICW2, ICW3, ICW4 expected next
    std::uint8_t icw1, icw4; // as written, for which ICWs follow and the mode bits
    bool read_isr;           // OCW3 RIS: the command port reads ISR, else IRR
    bool poll;               // OCW3 poll: the next command-port read is a poll
    bool special_mask;       // OCW3 special mask mode
    bool rotate_on_aeoi;     // OCW2 "rotate in automatic EOI mode"
    std::uint8_t elcr;       // the chipset's ELCR byte for this chip: storage only
};

// The pair. All-zero is a valid power-on state (IMR 0 lets everything through, but Linux masks
// every line before it programs the chips, as a BIOS would have left them).
struct pic_pair {
    std::array<pic8259, 2> chip; // [0] master (IRQ 0-7), [1] slave (IRQ 8-15)
};

bool pic_handles(std::uint16_t port);
std::uint8_t pic_read(pic_pair& p, std::uint16_t port);
void pic_write(pic_pair& p, std::uint16_t port, std::uint8_t value);

// Drives ISA line `irq` (0..15; others ignored). A low-to-high edge sets the request. The
// master's IR2 is the slave's INT output, not a bus line: the bus's IRQ2 pin is wired to the
// slave's IR1 on a PC/AT ("IRQ2/9"), so line 2 requests IRQ 9 (pic::irq2_redirect). A request
// latched on IR2 itself would acknowledge through a slave with nothing to deliver: a spurious
// IRQ 15 vector for a real request.
void pic_set_irq(pic_pair& p, unsigned irq, bool level);
// One edge on an edge-triggered line (the PIT's IRQ0): high, then low again.
void pic_pulse_irq(pic_pair& p, unsigned irq);

// The INTR line: an unmasked request above the priority in service on the master, the slave's
// requests arriving through IR2 (fully nested mode).
bool pic_has_interrupt(const pic_pair& p);

// The INTA cycle: the vector (ICW2 base + IR), request moved to in-service unless auto-EOI,
// through the slave for IR2. With no request left, the IR7 vector of the chip asked (spurious
// interrupt, Intel 8259A "Interrupt Sequence"), nothing put in service on that chip.
std::uint8_t pic_acknowledge(pic_pair& p);

} // namespace es
