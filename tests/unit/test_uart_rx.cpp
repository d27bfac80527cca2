// The 16550A's receive side (board/uart16550.hpp): FIFO order and depth, what the host's input
// may put in, overrun and OE, FCR's receiver clear, the IIR priorities of the received-data and
// transmitter-empty interrupts, and Linux's own register sequences (drivers/tty/serial/8250/
// 8250_port.c: size_fifo, serial8250_do_startup, serial8250_handle_irq, serial8250_rx_chars).
#include <catch2/catch.hpp>

#include <string>

#include "board/uart16550.hpp"

using namespace es;

namespace {

constexpr std::uint8_t fifo_on = uart::fcr_enable_fifo;
constexpr std::uint8_t iir_fifo = uart::iir_fifos_enabled;
// Linux's FCR for a 16550A: FIFO on, receive trigger at 8 bytes (UART_FCR_R_TRIG_10).
constexpr std::uint8_t linux_fcr = 0x81;
constexpr std::uint8_t mcr_dtr_rts = 0x03;

std::size_t receive(uart16550& u, const std::string& s) {
    return uart_receive(u, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

bool data_ready(uart16550& u) {
    return (uart_read(u, uart::lsr) & uart::lsr_dr) != 0;
}

// What a driver polling LSR.DR reads, until the receiver is empty.
std::string drain(uart16550& u) {
    std::string got;
    while (data_ready(u))
        got += static_cast<char>(uart_read(u, uart::rbr_thr));
    return got;
}

// serial8250_do_startup's register writes for COM1, then set_termios's FIFO setting: FIFOs
// cleared and off, the interrupt registers read, 8N1, DTR/RTS/OUT2, the THRE and TXEN tests,
// and the receive interrupts enabled.
void linux_startup(uart16550& u) {
    uart_write(u, uart::iir_fcr, fifo_on); // serial8250_clear_fifos
    uart_write(u, uart::iir_fcr, fifo_on | uart::fcr_clear_rcvr | 0x04);
    uart_write(u, uart::iir_fcr, 0);
    for (std::uint16_t r : {uart::lsr, uart::rbr_thr, uart::iir_fcr, uart::msr})
        uart_read(u, r);
    uart_write(u, uart::ier, uart::ier_thri); // the THRE test
    uart_read(u, uart::iir_fcr);
    uart_write(u, uart::ier, 0);
    uart_write(u, uart::ier, uart::ier_thri);
    uart_read(u, uart::iir_fcr);
    uart_write(u, uart::ier, 0);
    uart_write(u, uart::lcr, 0x03); // UART_LCR_WLEN8
    uart_write(u, uart::mcr, mcr_dtr_rts | uart::mcr_out2);
    uart_write(u, uart::ier, uart::ier_thri); // the TXEN test
    uart_read(u, uart::lsr);
    uart_read(u, uart::iir_fcr);
    uart_write(u, uart::ier, 0);
    for (std::uint16_t r : {uart::lsr, uart::rbr_thr, uart::iir_fcr, uart::msr})
        uart_read(u, r);
    uart_write(u, uart::iir_fcr, linux_fcr); // serial8250_do_set_termios
    uart_write(u, uart::ier, uart::ier_rlsi | uart::ier_rdi);
}

// One run of serial8250_interrupt for COM1: serial8250_handle_irq until IIR reports nothing.
// Each pass reads IIR, then LSR; while LSR has DR, RBR and LSR again (serial8250_rx_chars, at
// most 256 bytes); then MSR; with THRE and THRI, the transmit path, which here has nothing to
// send and turns THRI off (__stop_tx).
struct irq_run {
    std::string received;
    unsigned passes = 0;
    std::uint8_t lsr_flags = 0; // LSR error bits seen (Linux's lsr_saved_flags)
};

irq_run linux_8250_interrupt(uart16550& u) {
    irq_run r;
    for (;;) {
        const std::uint8_t iir = uart_read(u, uart::iir_fcr);
        if (iir & uart::iir_no_interrupt)
            return r;
        ++r.passes;
        REQUIRE(r.passes < 16); // a condition IIR keeps reporting would hang the guest
        std::uint8_t lsr = uart_read(u, uart::lsr);
        r.lsr_flags |= lsr & uart::lsr_oe;
        for (int max_count = 256; (lsr & uart::lsr_dr) && max_count > 0; --max_count) {
            r.received += static_cast<char>(uart_read(u, uart::rbr_thr));
            lsr = uart_read(u, uart::lsr);
            r.lsr_flags |= lsr & uart::lsr_oe;
        }
        uart_read(u, uart::msr);
        const std::uint8_t ier = uart_read(u, uart::ier);
        if ((lsr & uart::lsr_thre) && (ier & uart::ier_thri))
            uart_write(u, uart::ier, static_cast<std::uint8_t>(ier & ~uart::ier_thri));
    }
}

} // namespace

TEST_CASE("16550A receive: bytes come out of RBR in order, LSR.DR while any waits") {
    uart16550 u;
    uart_write(u, uart::iir_fcr, fifo_on);
    CHECK_FALSE(data_ready(u));
    REQUIRE(receive(u, "hello") == 5);
    CHECK(data_ready(u));
    CHECK(uart_read(u, uart::rbr_thr) == 'h');
    CHECK(uart_read(u, uart::rbr_thr) == 'e');
    // Input offered between reads joins the end of the FIFO.
    REQUIRE(receive(u, "!") == 1);
    CHECK(drain(u) == "llo!");
    CHECK_FALSE(data_ready(u));
    CHECK(uart_read(u, uart::rbr_thr) == 0); // nothing waiting: RBR reads 0
    // Nothing offered, or no byte pointer with nothing offered, is a no-op.
    CHECK(uart_receive(u, nullptr, 0) == 0);
    CHECK_FALSE(data_ready(u));
}

TEST_CASE("16550A receive: the FIFO takes 16 bytes, the host keeps the rest, none is lost") {
    uart16550 u;
    uart_write(u, uart::iir_fcr, fifo_on);
    REQUIRE(uart_rx_capacity(u) == uart::rx_fifo_depth);
    REQUIRE(uart::rx_fifo_depth == 16);
    const std::string input = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::size_t offered = receive(u, input);
    CHECK(offered == 16);
    CHECK(uart_rx_room(u) == 0);
    CHECK(receive(u, "more") == 0); // full: nothing taken, and no overrun
    CHECK((uart_read(u, uart::lsr) & uart::lsr_oe) == 0);
    // The caller offers the rest as the guest reads: each byte read makes room for one.
    std::string got;
    while (got.size() < input.size()) {
        got += static_cast<char>(uart_read(u, uart::rbr_thr));
        offered += receive(u, input.substr(offered));
        CHECK(u.rx_count <= uart::rx_fifo_depth);
    }
    CHECK(got == input);
    CHECK(offered == input.size());
    CHECK_FALSE(data_ready(u));
}

TEST_CASE("16550A receive: with the FIFO off the receiver holds one byte (RBR)") {
    uart16550 u;
    CHECK(uart_rx_capacity(u) == 1);
    CHECK(receive(u, "xy") == 1);
    CHECK(uart_rx_room(u) == 0);
    CHECK(uart_read(u, uart::rbr_thr) == 'x');
    CHECK(receive(u, "y") == 1);
    CHECK(drain(u) == "y");
    // IIR bits 7:6 say the FIFO is off.
    uart_write(u, uart::ier, uart::ier_rdi);
    receive(u, "z");
    CHECK(uart_read(u, uart::iir_fcr) == uart::iir_rdi);
}

TEST_CASE("16550A FCR: receiver clear, and switching the FIFO on or off, empty the receiver") {
    uart16550 u;
    uart_write(u, uart::iir_fcr, fifo_on);
    receive(u, "abc");
    uart_write(u, uart::iir_fcr, fifo_on); // FIFO stays on, no clear bit: kept
    CHECK(u.rx_count == 3);
    uart_write(u, uart::iir_fcr, fifo_on | uart::fcr_clear_rcvr);
    CHECK_FALSE(data_ready(u));
    CHECK(uart_rx_room(u) == uart::rx_fifo_depth); // the clear bit does not stay set
    receive(u, "def");
    uart_write(u, uart::iir_fcr, 0); // FIFO off: emptied, one byte deep from now on
    CHECK_FALSE(data_ready(u));
    CHECK(uart_rx_capacity(u) == 1);
    receive(u, "g");
    // Bits other than 0 count only with bit 0 set: a clear with the FIFO off does nothing.
    uart_write(u, uart::iir_fcr, uart::fcr_clear_rcvr);
    CHECK(uart_read(u, uart::rbr_thr) == 'g');
    receive(u, "h");
    uart_write(u, uart::iir_fcr, linux_fcr); // FIFO on: emptied again
    CHECK_FALSE(data_ready(u));
    // The trigger level bits do not change what is "available": one byte raises the interrupt.
    uart_write(u, uart::ier, uart::ier_rdi);
    receive(u, "i");
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rdi | iir_fifo));
}

TEST_CASE("16550A overrun: only in loopback; OE until an LSR read, the FIFO kept") {
    uart16550 u;
    uart_write(u, uart::iir_fcr, fifo_on);
    uart_write(u, uart::mcr, uart::mcr_loop);
    CHECK(receive(u, "host") == 0); // the serial input is disconnected in loopback
    CHECK(uart_rx_room(u) == 0);
    for (int i = 0; i < 20; ++i)
        CHECK_FALSE(uart_write(u, uart::rbr_thr, static_cast<std::uint8_t>('A' + i)).transmitted);
    const std::uint8_t lsr = uart_read(u, uart::lsr);
    CHECK((lsr & uart::lsr_dr) != 0);
    CHECK((lsr & uart::lsr_oe) != 0);
    CHECK((uart_read(u, uart::lsr) & uart::lsr_oe) == 0); // cleared by the read
    // The first 16 stayed; the bytes that arrived with the FIFO full were lost.
    CHECK(drain(u) == "ABCDEFGHIJKLMNOP");

    // FIFO off: the byte arriving overwrites the one unread.
    uart_write(u, uart::iir_fcr, 0);
    uart_write(u, uart::rbr_thr, 'x');
    uart_write(u, uart::rbr_thr, 'y');
    CHECK((uart_read(u, uart::lsr) & (uart::lsr_dr | uart::lsr_oe)) ==
          (uart::lsr_dr | uart::lsr_oe));
    CHECK(uart_read(u, uart::rbr_thr) == 'y');

    // Out of loopback the host's input is taken again.
    uart_write(u, uart::mcr, 0);
    CHECK(receive(u, "k") == 1);
    CHECK(drain(u) == "k");
}

TEST_CASE("16550A: Linux's size_fifo counts 16 bytes in loopback, the port stays a 16550A") {
    uart16550 u;
    // size_fifo: LCR 0, FIFOs on and cleared, loopback, divisor 1, 8N1, 256 bytes out, then
    // RBR read while LSR.DR (at most 256); then FCR, MCR, divisor and LCR restored.
    uart_write(u, uart::lcr, 0);
    const std::uint8_t old_fcr = uart_read(u, uart::iir_fcr);
    uart_write(u, uart::iir_fcr, fifo_on | uart::fcr_clear_rcvr | 0x04);
    uart_write(u, uart::mcr, uart::mcr_loop);
    uart_write(u, uart::lcr, uart::lcr_dlab);
    uart_write(u, uart::rbr_thr, 0x01);
    uart_write(u, uart::ier, 0x00);
    uart_write(u, uart::lcr, 0x03);
    for (int i = 0; i < 256; ++i)
        uart_write(u, uart::rbr_thr, static_cast<std::uint8_t>(i));
    int count = 0;
    while (data_ready(u) && count < 256) {
        CHECK(uart_read(u, uart::rbr_thr) == count);
        ++count;
    }
    CHECK(count == 16); // not 64: no PORT_U6_16550A
    uart_write(u, uart::iir_fcr, old_fcr);
    uart_write(u, uart::mcr, 0);
    CHECK_FALSE(uart_irq_line(u));
    CHECK(receive(u, "a") == 1);
}

TEST_CASE("16550A IIR: line status above received data above THRE; what clears each") {
    uart16550 u;
    uart_write(u, uart::iir_fcr, fifo_on);
    uart_write(u, uart::ier, uart::ier_rlsi | uart::ier_rdi | uart::ier_thri); // THRE raised
    uart_write(u, uart::mcr, uart::mcr_loop);
    for (int i = 0; i < 17; ++i)
        uart_write(u, uart::rbr_thr, 'x'); // 16 received, the 17th overruns
    CHECK_FALSE(uart_irq_line(u));         // loopback closes the PC's IRQ gate...
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rlsi | iir_fifo)); // ...IIR still reports
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rlsi | iir_fifo)); // not cleared by IIR
    uart_read(u, uart::lsr);
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rdi | iir_fifo)); // LSR cleared OE
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rdi | iir_fifo)); // not cleared by IIR
    CHECK(drain(u).size() == 16);
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_thri | iir_fifo)); // RBR empty: THRE next
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_no_interrupt | iir_fifo)); // IIR cleared it
    // Disabled conditions are not reported, but LSR still shows them.
    uart_write(u, uart::ier, 0);
    uart_write(u, uart::rbr_thr, 'y');
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_no_interrupt | iir_fifo));
    CHECK(data_ready(u));
}

TEST_CASE("16550A: the DR and THRE interrupts together on one line, served in either order") {
    uart16550 u;
    uart_write(u, uart::iir_fcr, fifo_on);
    uart_write(u, uart::mcr, uart::mcr_out2);
    uart_write(u, uart::ier, uart::ier_rdi | uart::ier_thri); // THR empty: THRE pending
    CHECK(uart_irq_line(u));
    receive(u, "ab");
    // Received data is reported first, and reporting it leaves THRE pending.
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rdi | iir_fifo));
    CHECK(uart_read(u, uart::rbr_thr) == 'a');
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rdi | iir_fifo)); // 'b' still waits
    CHECK(uart_read(u, uart::rbr_thr) == 'b');
    CHECK(uart_irq_line(u)); // THRE holds the line up
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_thri | iir_fifo));
    CHECK_FALSE(uart_irq_line(u)); // both served: the line drops

    // THRE served first (IIR read), then data arrives: the line rises again for it alone.
    uart_write(u, uart::rbr_thr, 'z'); // transmitted; THR empty again: THRE
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_thri | iir_fifo));
    CHECK_FALSE(uart_irq_line(u));
    receive(u, "c");
    CHECK(uart_irq_line(u));
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_rdi | iir_fifo));
    CHECK(uart_read(u, uart::rbr_thr) == 'c');
    CHECK_FALSE(uart_irq_line(u));
    // Data waiting with ERBFI off: no interrupt, the driver can still poll LSR.DR.
    uart_write(u, uart::ier, uart::ier_thri);
    uart_read(u, uart::iir_fcr);
    receive(u, "d");
    CHECK_FALSE(uart_irq_line(u));
    CHECK(drain(u) == "d");
}

TEST_CASE("16550A: DLAB maps offset 0 to the divisor latch, the receiver is left alone") {
    uart16550 u;
    receive(u, "q");
    uart_write(u, uart::lcr, uart::lcr_dlab);
    CHECK(uart_read(u, uart::rbr_thr) == u.dll);
    uart_write(u, uart::lcr, 0x03);
    CHECK(drain(u) == "q");
}

TEST_CASE("16550A: Linux's startup, then its interrupt handler reads what the host typed") {
    uart16550 u;
    receive(u, "early"); // typed before the driver opened the port: its FIFO clear drops it
    linux_startup(u);
    CHECK_FALSE(data_ready(u));
    CHECK_FALSE(uart_irq_line(u));
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_no_interrupt | iir_fifo));

    REQUIRE(receive(u, "ls\n") == 3);
    CHECK(uart_irq_line(u));
    irq_run r = linux_8250_interrupt(u);
    CHECK(r.received == "ls\n");
    CHECK(r.passes == 1);
    CHECK(r.lsr_flags == 0);
    CHECK_FALSE(uart_irq_line(u));

    // A long line: the host offers it all each time, the FIFO takes 16 a time, the handler
    // empties it, and every byte arrives once, in order.
    const std::string line = "cpuid -l 0x4ffffffe -s 48 && cat /proc/interrupts\n";
    std::size_t sent = 0;
    std::string got;
    while (sent < line.size()) {
        sent += receive(u, line.substr(sent));
        REQUIRE(uart_irq_line(u));
        r = linux_8250_interrupt(u);
        got += r.received;
        CHECK(r.lsr_flags == 0);
        CHECK_FALSE(uart_irq_line(u));
    }
    CHECK(got == line);

    // The transmit path meanwhile: the tty layer enables THRI to send an echo, the handler
    // finds THRE with nothing left and turns it off; received data first, in the same run.
    uart_write(u, uart::ier, uart::ier_rlsi | uart::ier_rdi | uart::ier_thri);
    receive(u, "x");
    r = linux_8250_interrupt(u);
    CHECK(r.received == "x");
    CHECK((uart_read(u, uart::ier) & uart::ier_thri) == 0);
    CHECK_FALSE(uart_irq_line(u));
}
