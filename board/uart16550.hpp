// A 16550A UART as Linux's 8250 driver and early console see it: what the guest transmits is
// handed out byte by byte, the transmitter is always empty, and the registers the driver's probe
// writes read back. The one interrupt is the transmitter-empty one (nothing is ever received).
// Pure: unit-tested on the host.
#pragma once

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

inline constexpr std::uint8_t lcr_dlab = 0x80;
inline constexpr std::uint8_t ier_writable = 0x0f;
inline constexpr std::uint8_t ier_thri = 0x02; // transmitter holding register empty interrupt
inline constexpr std::uint8_t mcr_writable = 0x1f;
inline constexpr std::uint8_t mcr_out2 = 0x08; // on a PC, enables the UART's IRQ line
inline constexpr std::uint8_t mcr_loop = 0x10;
inline constexpr std::uint8_t iir_no_interrupt = 0x01;
inline constexpr std::uint8_t iir_thri = 0x02;
inline constexpr std::uint8_t iir_fifos_enabled = 0xc0;
inline constexpr std::uint8_t fcr_enable_fifo = 0x01;
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
};

// What a write did: a byte to the console, or nothing visible.
struct uart_write_result {
    bool transmitted;
    std::uint8_t byte;
};

// COM1's ports, 0x3F8-0x3FF.
bool uart_handles(std::uint16_t port);

// `offset` is the port minus the base, 0..7. Reads change state: an IIR read that reports the
// THRE interrupt clears it.
std::uint8_t uart_read(uart16550& u, std::uint16_t offset);
uart_write_result uart_write(uart16550& u, std::uint16_t offset, std::uint8_t value);

// The UART's IRQ (COM1: IRQ4) as the PIC sees it: an enabled interrupt pending, passed on only
// while MCR OUT2 is set (the PC's gate on the UART's interrupt output) and not in loopback.
bool uart_irq_line(const uart16550& u);

} // namespace es
