// A 16550A UART as Linux's 8250 driver and early console see it. Transmit: what the guest writes
// to THR is handed out byte by byte and the transmitter is always empty. Receive: the host offers
// bytes (uart_receive), which wait in a 16-byte FIFO (1 byte with the FIFO off) until the guest
// reads RBR; the host keeps what does not fit, so nothing it offers is lost. Interrupts: receiver
// line status (overrun), received data available, transmitter empty, by that priority. The
// registers the driver's probe writes read back. Pure: unit-tested on the host.
//
// Modelled as a real 16550A does it (National Semiconductor PC16550D data sheet): FIFO order,
// overrun (only in loopback, see below), LSR.OE cleared by reading LSR, FCR's FIFO enable and
// receiver clear, the IIR priorities and what clears each. Simplified, and why that is enough:
// - The receive trigger level (FCR bits 7:6) is not modelled: any byte waiting is "received data
//   available", as with trigger level 1. A real 16550A below its trigger level reports a
//   character timeout (IIR 0x0C) four character times later instead; Linux reads the FIFO the
//   same way for both (serial8250_handle_irq drains RBR while LSR.DR is set), and without a
//   line clock there is no character time to wait for.
// - Loopback (MCR bit 4) is modelled: a THR byte goes to the receiver, not to the line, and the
//   host's input is not taken meanwhile (the data sheet disconnects the serial input). That is
//   the one way to overrun the receiver: Linux's size_fifo writes 256 bytes in loopback and
//   counts how many it reads back, which tells a 16550A (16) from a U6 16550A (64).
// - No parity, framing or break errors (LSR bits 2-4 and 7 read 0), no modem status interrupt.
#pragma once

#include <cstddef>
#include <cstdint>

namespace es {

// Register offsets from the base port and the bits this model gives meaning to (National
// Semiconductor PC16550D data sheet, "Register Descriptions"; Linux
// include/uapi/linux/serial_reg.h).
namespace uart {
inline constexpr std::uint16_t com1_base = 0x3f8;
inline constexpr std::uint16_t port_count = 8;

inline constexpr std::uint16_t rbr_thr = 0; // receive buffer / transmit holding; DLL with DLAB
inline constexpr std::uint16_t ier = 1;     // interrupt enable; DLM with DLAB
inline constexpr std::uint16_t iir_fcr = 2; // interrupt identification (read) / FIFO control
inline constexpr std::uint16_t lcr = 3;
inline constexpr std::uint16_t mcr = 4;
inline constexpr std::uint16_t lsr = 5;
inline constexpr std::uint16_t msr = 6;
inline constexpr std::uint16_t scr = 7;

// The receiver FIFO of a 16550A; with the FIFO off the receiver holds one byte (RBR), as a 16450.
inline constexpr std::size_t rx_fifo_depth = 16;

inline constexpr std::uint8_t lcr_dlab = 0x80;
inline constexpr std::uint8_t ier_writable = 0x0f;
inline constexpr std::uint8_t ier_rdi = 0x01;  // received data available interrupt (ERBFI)
inline constexpr std::uint8_t ier_thri = 0x02; // transmitter holding register empty interrupt
inline constexpr std::uint8_t ier_rlsi = 0x04; // receiver line status interrupt (ELSI)
inline constexpr std::uint8_t mcr_writable = 0x1f;
inline constexpr std::uint8_t mcr_out2 = 0x08; // on a PC, enables the UART's IRQ line
inline constexpr std::uint8_t mcr_loop = 0x10;
// IIR bits 3:0, highest priority first, and bits 7:6 with the FIFOs on.
inline constexpr std::uint8_t iir_no_interrupt = 0x01;
inline constexpr std::uint8_t iir_rlsi = 0x06; // receiver line status: overrun
inline constexpr std::uint8_t iir_rdi = 0x04;  // received data available
inline constexpr std::uint8_t iir_thri = 0x02;
inline constexpr std::uint8_t iir_fifos_enabled = 0xc0;
inline constexpr std::uint8_t fcr_enable_fifo = 0x01;
inline constexpr std::uint8_t fcr_clear_rcvr = 0x02;
inline constexpr std::uint8_t lsr_dr = 0x01;   // data ready: the receiver holds a byte
inline constexpr std::uint8_t lsr_oe = 0x02;   // overrun error
inline constexpr std::uint8_t lsr_thre = 0x20; // transmit holding register empty
inline constexpr std::uint8_t lsr_temt = 0x40; // transmitter empty
// Modem status with no modem: CTS, DSR and DCD asserted so a driver waiting for flow control
// sends at once. In loopback the inputs follow MCR instead (the driver's probe checks that).
inline constexpr std::uint8_t msr_cts_dsr_dcd = 0xb0;
} // namespace uart

struct uart16550 {
    std::uint8_t ier = 0, lcr = 0, mcr = 0, scr = 0, dll = 0x0c, dlm = 0;
    bool fifo_enabled = false;
    // The THRE interrupt condition ("Interrupt Identification Register": set when THR empties,
    // cleared by reading IIR while it is the source, or by writing THR).
    bool thri_pending = false;
    // The receiver: rx_count bytes, the oldest at rx_fifo[rx_head], in a ring of rx_fifo_depth.
    // rx_count never exceeds uart_rx_capacity (16, or 1 with the FIFO off).
    std::uint8_t rx_fifo[uart::rx_fifo_depth] = {};
    std::uint8_t rx_head = 0, rx_count = 0;
    // LSR.OE: a byte arrived while the receiver was full (and was lost); cleared by an LSR read.
    bool overrun = false;
};

// What a write did: a byte to the console, or nothing visible.
struct uart_write_result {
    bool transmitted;
    std::uint8_t byte;
};

// COM1's ports, 0x3F8-0x3FF.
bool uart_handles(std::uint16_t port);

// `offset` is the port minus the base, 0..7. Reads change state: an IIR read that reports the
// THRE interrupt clears it, an RBR read takes the oldest received byte (0 when there is none),
// an LSR read clears OE.
std::uint8_t uart_read(uart16550& u, std::uint16_t offset);
uart_write_result uart_write(uart16550& u, std::uint16_t offset, std::uint8_t value);

// Bytes from the host's side of the line: as many of `bytes[0..n)` as the receiver has room for
// now go in, in order, and their count is returned; the caller keeps the rest and offers them
// again later (after the guest has read RBR). None is taken in loopback. The model never drops
// a byte it took: only the guest discards received bytes (an FCR receiver clear, or switching
// the FIFO on or off, as on the real chip).
std::size_t uart_receive(uart16550& u, const std::uint8_t* bytes, std::size_t n);
// How many bytes uart_receive would take now.
std::size_t uart_rx_room(const uart16550& u);
// The receiver's size: rx_fifo_depth with the FIFO on, else 1.
std::size_t uart_rx_capacity(const uart16550& u);

// The UART's IRQ (COM1: IRQ4) as the PIC sees it: an enabled interrupt pending, passed on only
// while MCR OUT2 is set (the PC's gate on the UART's interrupt output) and not in loopback.
bool uart_irq_line(const uart16550& u);

} // namespace es
