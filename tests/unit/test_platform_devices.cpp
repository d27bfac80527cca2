// The PC devices a Linux guest booted with `nolapic acpi=off` drives: the 8259A pair, the CMOS
// RTC and the 16550A's transmitter interrupt (the 8254 is in test_platform_pit.cpp), fed the port
// sequences of Linux's own drivers (arch/x86/kernel/i8259.c, drivers/rtc/rtc-mc146818-lib.c,
// drivers/tty/serial/8250/8250_port.c).
#include <catch2/catch.hpp>

#include "board/cmos_rtc.hpp"
#include "board/pic8259.hpp"
#include "board/uart16550.hpp"

using namespace es;

namespace {

// Linux's cached_irq_mask, as the driver keeps it; everything masked at boot.
struct linux_i8259 {
    pic_pair p{};
    std::uint16_t cached = 0xffff;

    void init(bool auto_eoi) { // init_8259A()
        pic_write(p, pic::master_data, 0xff);
        pic_write(p, pic::slave_data, 0xff);
        pic_write(p, pic::master_command, 0x11); // ICW1: edge, cascade, ICW4
        pic_write(p, pic::master_data, 0x30);    // ICW2: ISA_IRQ_VECTOR(0)
        pic_write(p, pic::master_data, 0x04);    // ICW3: slave on IR2
        pic_write(p, pic::master_data, auto_eoi ? 0x03 : 0x01);
        pic_write(p, pic::slave_command, 0x11);
        pic_write(p, pic::slave_data, 0x38);
        pic_write(p, pic::slave_data, 0x02); // ICW3: slave identity 2
        pic_write(p, pic::slave_data, 0x01);
        pic_write(p, pic::master_data, static_cast<std::uint8_t>(cached));
        pic_write(p, pic::slave_data, static_cast<std::uint8_t>(cached >> 8));
    }
    void write_masks() {
        pic_write(p, pic::master_data, static_cast<std::uint8_t>(cached));
        pic_write(p, pic::slave_data, static_cast<std::uint8_t>(cached >> 8));
    }
    void unmask(unsigned irq) { // enable_8259A_irq()
        cached &= static_cast<std::uint16_t>(~(1u << irq));
        write_masks();
    }
    void mask_and_ack(unsigned irq) { // mask_and_ack_8259A()
        cached |= static_cast<std::uint16_t>(1u << irq);
        if (irq & 8) {
            pic_read(p, pic::slave_data);
            pic_write(p, pic::slave_data, static_cast<std::uint8_t>(cached >> 8));
            pic_write(p, pic::slave_command, static_cast<std::uint8_t>(0x60 + (irq & 7)));
            pic_write(p, pic::master_command, 0x62);
        } else {
            pic_read(p, pic::master_data);
            pic_write(p, pic::master_data, static_cast<std::uint8_t>(cached));
            pic_write(p, pic::master_command, static_cast<std::uint8_t>(0x60 + irq));
        }
    }
    std::uint8_t isr(std::uint16_t command) { // as i8259A_irq_real() reads it
        pic_write(p, command, 0x0b);
        const std::uint8_t v = pic_read(p, command);
        pic_write(p, command, 0x0a);
        return v;
    }
    std::uint8_t irr(std::uint16_t command) { return pic_read(p, command); }
};

} // namespace

TEST_CASE("8259A: probe reads IMR back, ICW1 clears it, ELCR is storage") {
    pic_pair p{};
    CHECK(pic_handles(0x20));
    CHECK(pic_handles(0xa1));
    CHECK(pic_handles(0x4d1));
    CHECK_FALSE(pic_handles(0x22));
    CHECK_FALSE(pic_handles(0x61));
    CHECK_FALSE(pic_has_interrupt(p));   // all-zero: nothing requested
    pic_write(p, pic::slave_data, 0xff); // probe_8259A
    pic_write(p, pic::master_data, 0xfb);
    CHECK(pic_read(p, pic::master_data) == 0xfb);
    CHECK(pic_read(p, pic::slave_data) == 0xff);
    pic_write(p, pic::master_command, 0x11);
    CHECK(pic_read(p, pic::master_data) == 0x00);
    pic_write(p, pic::elcr_master, 0x20);
    pic_write(p, pic::elcr_slave, 0x0e);
    CHECK(pic_read(p, pic::elcr_master) == 0x20);
    CHECK(pic_read(p, pic::elcr_slave) == 0x0e);
}

TEST_CASE("8259A: timer IRQ0 through init_8259A, INTA, mask_and_ack and unmask") {
    linux_i8259 l;
    l.init(false);
    l.unmask(2); // "cascade"
    l.unmask(0);
    CHECK(pic_read(l.p, pic::master_data) == 0xfa);
    CHECK_FALSE(pic_has_interrupt(l.p));
    pic_pulse_irq(l.p, 0);
    CHECK(l.irr(pic::master_command) == 0x01); // i8259A_irq_pending
    REQUIRE(pic_has_interrupt(l.p));
    CHECK(pic_acknowledge(l.p) == 0x30);
    CHECK(l.irr(pic::master_command) == 0x00);
    CHECK(l.isr(pic::master_command) == 0x01);
    CHECK_FALSE(pic_has_interrupt(l.p)); // in service, no new edge
    l.mask_and_ack(0);
    CHECK(l.isr(pic::master_command) == 0x00);
    CHECK_FALSE(pic_has_interrupt(l.p));
    pic_pulse_irq(l.p, 0); // the next tick, while the handler runs with IRQ0 masked
    CHECK_FALSE(pic_has_interrupt(l.p));
    l.unmask(0);
    REQUIRE(pic_has_interrupt(l.p));
    CHECK(pic_acknowledge(l.p) == 0x30);
}

TEST_CASE("8259A: edge triggered: a line held high requests once") {
    linux_i8259 l;
    l.init(false);
    l.unmask(0);
    pic_set_irq(l.p, 0, true);
    pic_set_irq(l.p, 0, true);
    CHECK(pic_acknowledge(l.p) == 0x30);
    pic_set_irq(l.p, 0, true); // still high after INTA: no new edge
    l.mask_and_ack(0);
    l.unmask(0);
    CHECK_FALSE(pic_has_interrupt(l.p));
    pic_set_irq(l.p, 0, false); // the fall does not withdraw, the next rise requests
    pic_set_irq(l.p, 0, true);
    CHECK(pic_has_interrupt(l.p));
    pic_set_irq(l.p, 16, true); // out of range: ignored
    pic_set_irq(l.p, 99, true);
}

TEST_CASE("8259A: slave IRQ8 through the cascade, specific EOIs to slave then master") {
    linux_i8259 l;
    l.init(false);
    l.unmask(8);
    pic_pulse_irq(l.p, 8);
    CHECK_FALSE(pic_has_interrupt(l.p)); // IR2 still masked on the master
    CHECK(l.irr(pic::slave_command) == 0x01);
    l.unmask(2);
    CHECK(l.irr(pic::master_command) == 0x04); // the slave's INT at IR2
    REQUIRE(pic_has_interrupt(l.p));
    CHECK(pic_acknowledge(l.p) == 0x38);
    CHECK(l.isr(pic::master_command) == 0x04);
    CHECK(l.isr(pic::slave_command) == 0x01);
    CHECK_FALSE(pic_has_interrupt(l.p));
    l.mask_and_ack(8);
    CHECK(l.isr(pic::master_command) == 0x00);
    CHECK(l.isr(pic::slave_command) == 0x00);
    l.unmask(8);
    pic_pulse_irq(l.p, 12);
    pic_pulse_irq(l.p, 12);
    CHECK_FALSE(pic_has_interrupt(l.p));
    l.unmask(12);
    CHECK(pic_acknowledge(l.p) == 0x3c);
}

TEST_CASE("8259A: bus line 2 is IRQ 9, never a request latched on the cascade input") {
    // Found by tests/fuzz/fuzz_board (corpus irq2-spurious-slave-vector): an edge latched on the
    // master's IR2 acknowledged through a slave with nothing pending, as IRQ 15's vector.
    linux_i8259 l;
    l.init(false);
    l.unmask(2);
    pic_pulse_irq(l.p, 2);
    CHECK_FALSE(pic_has_interrupt(l.p)); // IRQ 9 is still masked on the slave
    CHECK(l.irr(pic::master_command) == 0x00);
    CHECK(l.irr(pic::slave_command) == 0x02);
    l.unmask(9);
    REQUIRE(pic_has_interrupt(l.p));
    CHECK(pic_acknowledge(l.p) == 0x39);
    CHECK(l.isr(pic::master_command) == 0x04);
    CHECK(l.isr(pic::slave_command) == 0x02);
}

TEST_CASE("8259A: masked request waits for the unmask; fully nested priority") {
    linux_i8259 l;
    l.init(false);
    l.unmask(0);
    pic_pulse_irq(l.p, 4);
    CHECK_FALSE(pic_has_interrupt(l.p));
    CHECK(l.irr(pic::master_command) == 0x10);
    l.unmask(4);
    CHECK(pic_acknowledge(l.p) == 0x34);
    // IRQ4 in service does not hold back IRQ0, which has the higher priority.
    pic_pulse_irq(l.p, 0);
    REQUIRE(pic_has_interrupt(l.p));
    CHECK(pic_acknowledge(l.p) == 0x30);
    CHECK(l.isr(pic::master_command) == 0x11);
    // IRQ0 in service holds back IRQ4 until its EOI.
    pic_pulse_irq(l.p, 4);
    CHECK_FALSE(pic_has_interrupt(l.p));
    pic_write(l.p, pic::master_command, 0x20); // non-specific EOI: the highest, IRQ0
    CHECK(l.isr(pic::master_command) == 0x10);
    CHECK_FALSE(pic_has_interrupt(l.p)); // IRQ4 still in service
    pic_write(l.p, pic::master_command, 0x20);
    CHECK(l.isr(pic::master_command) == 0x00);
    REQUIRE(pic_has_interrupt(l.p));
    CHECK(pic_acknowledge(l.p) == 0x34);
    // Two requests at once: the lower IR first.
    pic_write(l.p, pic::master_command, 0x64);
    pic_pulse_irq(l.p, 4);
    pic_pulse_irq(l.p, 0);
    CHECK(pic_acknowledge(l.p) == 0x30);
}

TEST_CASE("8259A: auto-EOI leaves nothing in service") {
    linux_i8259 l;
    l.init(true);
    l.unmask(0);
    l.unmask(3);
    pic_pulse_irq(l.p, 3);
    CHECK(pic_acknowledge(l.p) == 0x33);
    CHECK(l.isr(pic::master_command) == 0x00);
    pic_pulse_irq(l.p, 3);
    CHECK(pic_has_interrupt(l.p)); // no EOI needed
    pic_pulse_irq(l.p, 0);
    CHECK(pic_acknowledge(l.p) == 0x30);
    CHECK(pic_acknowledge(l.p) == 0x33);
    CHECK_FALSE(pic_has_interrupt(l.p));
}

TEST_CASE("8259A: a request gone before INTA gives the IR7 vector, nothing in service") {
    linux_i8259 l;
    l.init(false);
    l.unmask(2);
    l.unmask(5);
    pic_pulse_irq(l.p, 5);
    REQUIRE(pic_has_interrupt(l.p));
    l.cached |= 1u << 5; // masked between INTR and INTA
    l.write_masks();
    CHECK(pic_acknowledge(l.p) == 0x37);
    CHECK(l.isr(pic::master_command) == 0x00);
    // The same at the slave (bus line 2 is IRQ 9): the cascade input is not latched, so with
    // the slave's request masked the master no longer sees one and gives its own IR7 vector.
    l.unmask(9);
    pic_pulse_irq(l.p, 2);
    REQUIRE(pic_has_interrupt(l.p));
    l.cached |= 1u << 9;
    l.write_masks();
    CHECK(pic_acknowledge(l.p) == 0x37);
    CHECK(l.isr(pic::master_command) == 0x00);
    CHECK(l.isr(pic::slave_command) == 0x00);
}

TEST_CASE("8259A: rotation, specific rotation, poll") {
    linux_i8259 l;
    l.init(false);
    l.unmask(1);
    l.unmask(6);
    pic_write(l.p, pic::master_command, 0xc5); // set priority: IR5 lowest, IR6 highest
    pic_pulse_irq(l.p, 1);
    pic_pulse_irq(l.p, 6);
    CHECK(pic_acknowledge(l.p) == 0x36);
    pic_write(l.p, pic::master_command, 0xe6); // rotate on specific EOI: IR6 lowest
    pic_pulse_irq(l.p, 6);
    CHECK(pic_acknowledge(l.p) == 0x31); // IR1 before IR6 now
    pic_write(l.p, pic::master_command, 0x20);
    pic_write(l.p, pic::master_command, 0x0c); // poll
    CHECK(pic_read(l.p, pic::master_command) == 0x86);
    CHECK(l.isr(pic::master_command) == 0x40);
    pic_write(l.p, pic::master_command, 0x0c);
    CHECK(pic_read(l.p, pic::master_command) == 0x00);
}

TEST_CASE("CMOS RTC: BCD 24-hour time from the Unix time, UIP clear, RAM reads back") {
    cmos_rtc c{};
    CHECK(cmos_handles(0x70));
    CHECK(cmos_handles(0x71));
    CHECK_FALSE(cmos_handles(0x72));
    const std::int64_t now = 1700000000; // 2023-11-14 22:13:20 UTC, a Tuesday
    auto reg = [&](std::uint8_t r, std::int64_t t) {
        cmos_write(c, cmos::index_port, static_cast<std::uint8_t>(0x80 | r)); // NMI off, as Linux
        return cmos_read(c, cmos::data_port, t);
    };
    CHECK((reg(cmos::reg_d, now) & 0x40) == 0); // mc146818_get_time: "RTC is accessible"
    CHECK(reg(cmos::reg_d, now) == 0x80);
    CHECK(reg(cmos::reg_a, now) == 0x26);
    CHECK(reg(cmos::seconds, now) == 0x20);
    CHECK(reg(cmos::minutes, now) == 0x13);
    CHECK(reg(cmos::hours, now) == 0x22);
    CHECK(reg(cmos::day_of_week, now) == 3);
    CHECK(reg(cmos::day_of_month, now) == 0x14);
    CHECK(reg(cmos::month, now) == 0x11);
    CHECK(reg(cmos::year, now) == 0x23);
    CHECK(reg(cmos::century, now) == 0x20);
    CHECK(reg(cmos::reg_b, now) == 0x02);
    CHECK(reg(cmos::reg_c, now) == 0x00);
    CHECK(reg(cmos::seconds, now + 1) == 0x21);
    // Leap day, a century that is not a leap year, the clamps.
    CHECK(reg(cmos::day_of_month, 951782400) == 0x29);
    CHECK(reg(cmos::month, 951782400) == 0x02);
    CHECK(reg(cmos::day_of_week, 4107542399) == 1); // 2100-02-28, a Sunday
    CHECK(reg(cmos::century, 4107542399) == 0x21);
    CHECK(reg(cmos::year, 4107542399) == 0x00);
    CHECK(reg(cmos::hours, 4107542399) == 0x23);
    CHECK(reg(cmos::year, -100) == 0x70);
    CHECK(reg(cmos::seconds, -100) == 0x00);
    CHECK(reg(cmos::day_of_week, -100) == 5); // 1970-01-01, a Thursday
    CHECK(reg(cmos::year, 1ll << 62) == 0x99);
    CHECK(reg(cmos::century, 1ll << 62) == 0x99);
    // RAM and alarm bytes read back; writes to the clock and to A, C, D change nothing.
    cmos_write(c, cmos::index_port, 0x40);
    cmos_write(c, cmos::data_port, 0x5a);
    CHECK(reg(0x40, now) == 0x5a);
    CHECK(reg(0x7f, now) == 0x00);
    cmos_write(c, cmos::index_port, 0x01);
    cmos_write(c, cmos::data_port, 0x45);
    CHECK(reg(0x01, now) == 0x45);
    for (std::uint8_t r : {cmos::seconds, cmos::hours, cmos::reg_a, cmos::reg_c, cmos::reg_d}) {
        const std::uint8_t before = reg(r, now);
        cmos_write(c, cmos::data_port, static_cast<std::uint8_t>(before ^ 0x81));
        CHECK(reg(r, now) == before);
    }
    // Register B: interrupt enables and SET read back, the data mode stays BCD 24-hour.
    cmos_write(c, cmos::index_port, cmos::reg_b);
    cmos_write(c, cmos::data_port, 0xf4);
    CHECK(reg(cmos::reg_b, now) == 0xf2);
    CHECK(cmos_read(c, cmos::index_port, now) == 0xff);
}

TEST_CASE("16550A THRE interrupt: serial8250_do_startup's tests, IIR clears, THR re-raises") {
    uart16550 u;
    CHECK_FALSE(uart_irq_line(u));
    uart_write(u, uart::iir_fcr, 0x07); // FIFOs on
    // The THRE test.
    uart_write(u, uart::ier, uart::ier_thri);
    const std::uint8_t iir1 = uart_read(u, uart::iir_fcr);
    uart_write(u, uart::ier, 0);
    uart_write(u, uart::ier, uart::ier_thri);
    const std::uint8_t iir = uart_read(u, uart::iir_fcr);
    uart_write(u, uart::ier, 0);
    CHECK(iir1 == 0xc2);
    CHECK(iir == 0xc2); // reasserted: no UART_BUG_THRE
    // The TXEN test: THRE reported after IER=THRI, LSR read.
    uart_write(u, uart::ier, uart::ier_thri);
    CHECK((uart_read(u, uart::lsr) & uart::lsr_temt) != 0);
    CHECK((uart_read(u, uart::iir_fcr) & uart::iir_no_interrupt) == 0);
    CHECK(uart_read(u, uart::iir_fcr) == 0xc1);      // the read cleared it
    uart_write(u, uart::ier, uart::ier_thri | 0x01); // still on: no new edge
    CHECK(uart_read(u, uart::iir_fcr) == 0xc1);
    // A transmitted byte empties THR again.
    CHECK(uart_write(u, uart::rbr_thr, 'x').transmitted);
    CHECK_FALSE(uart_irq_line(u)); // OUT2 clear: the PC's gate is closed
    uart_write(u, uart::mcr, uart::mcr_out2 | 0x03);
    CHECK(uart_irq_line(u));
    uart_write(u, uart::mcr, uart::mcr_out2 | uart::mcr_loop);
    CHECK_FALSE(uart_irq_line(u)); // loopback: OUT2 does not reach its pin
    uart_write(u, uart::mcr, uart::mcr_out2);
    CHECK(uart_irq_line(u));
    CHECK(uart_read(u, uart::iir_fcr) == 0xc2);
    CHECK_FALSE(uart_irq_line(u));
    // Pending but not enabled: neither IIR nor the line report it, and IIR keeps it.
    uart_write(u, uart::ier, 0);
    uart_write(u, uart::rbr_thr, 'y');
    CHECK_FALSE(uart_irq_line(u));
    CHECK(uart_read(u, uart::iir_fcr) == 0xc1);
    uart_write(u, uart::ier, uart::ier_thri);
    CHECK(uart_irq_line(u));
    // DLAB writes set the divisor, not THR or IER.
    uart_read(u, uart::iir_fcr);
    uart_write(u, uart::lcr, uart::lcr_dlab);
    uart_write(u, uart::rbr_thr, 1);
    uart_write(u, uart::ier, 0);
    uart_write(u, uart::lcr, 0x03);
    CHECK_FALSE(uart_irq_line(u));
    CHECK(uart_read(u, uart::ier) == uart::ier_thri);
}
