// The 16550A model (uart16550.hpp).
#include "uart16550.hpp"

namespace es {

namespace {

// In loopback mode the modem inputs reflect the outputs: RTS->CTS, DTR->DSR, OUT1->RI,
// OUT2->DCD (PC16550D "Modem Control Register", bit 4). Linux's 8250 probe relies on it to
// tell a UART from an empty port.
std::uint8_t loopback_msr(std::uint8_t mcr) {
    const std::uint8_t dtr = mcr & 0x01, rts = (mcr >> 1) & 1, out1 = (mcr >> 2) & 1,
                       out2 = (mcr >> 3) & 1;
    return static_cast<std::uint8_t>((rts << 4) | (dtr << 5) | (out1 << 6) | (out2 << 7));
}

bool thri_active(const uart16550& u) {
    return u.thri_pending && (u.ier & uart::ier_thri);
}

} // namespace

bool uart_irq_line(const uart16550& u) {
    // In loopback OUT2 is forced inactive at its pin ("Modem Control Register", bit 4), which
    // on a PC closes the IRQ gate as well.
    return (u.mcr & (uart::mcr_out2 | uart::mcr_loop)) == uart::mcr_out2 && thri_active(u);
}

std::uint8_t uart_read(uart16550& u, std::uint16_t offset) {
    const bool dlab = u.lcr & uart::lcr_dlab;
    switch (offset) {
    case uart::rbr_thr:
        return dlab ? u.dll : 0; // nothing is ever received
    case uart::ier:
        return dlab ? u.dlm : u.ier;
    case uart::iir_fcr: {
        const std::uint8_t fifo = u.fifo_enabled ? uart::iir_fifos_enabled : 0;
        if (!thri_active(u))
            return uart::iir_no_interrupt | fifo;
        // Reading IIR while it reports THRE is one of the two ways that interrupt is cleared.
        u.thri_pending = false;
        return uart::iir_thri | fifo;
    }
    case uart::lcr:
        return u.lcr;
    case uart::mcr:
        return u.mcr;
    case uart::lsr:
        // Every byte leaves at once: polling for THRE or TEMT ends on the first read.
        return uart::lsr_thre | uart::lsr_temt;
    case uart::msr:
        return (u.mcr & uart::mcr_loop) ? loopback_msr(u.mcr) : uart::msr_cts_dsr_dcd;
    case uart::scr:
        return u.scr;
    default:
        return 0xff;
    }
}

uart_write_result uart_write(uart16550& u, std::uint16_t offset, std::uint8_t value) {
    const bool dlab = u.lcr & uart::lcr_dlab;
    switch (offset) {
    case uart::rbr_thr:
        if (dlab) {
            u.dll = value;
            return {false, 0};
        }
        // Writing THR clears the THRE interrupt; the byte leaves at once and THR is empty again,
        // which raises it anew: the 8250 driver's transmit loop runs on that interrupt.
        u.thri_pending = true;
        // In loopback the byte goes back to the receiver, not to the line ("Modem Control
        // Register"); this model receives nothing, so it is dropped.
        if (u.mcr & uart::mcr_loop)
            return {false, 0};
        return {true, value};
    case uart::ier:
        if (dlab) {
            u.dlm = value;
            break;
        }
        // Enabling THRI while THR is empty raises the interrupt even if an IIR read cleared it
        // before: serial8250_do_startup's THRE test (IER=THRI, IIR, IER=0, IER=THRI, IIR) and its
        // TXEN test expect it, as does Windows (QEMU and Bochs do the same, on the 0->1 edge).
        if ((value & uart::ier_thri) && !(u.ier & uart::ier_thri))
            u.thri_pending = true;
        u.ier = value & uart::ier_writable;
        break;
    case uart::iir_fcr:
        u.fifo_enabled = value & uart::fcr_enable_fifo;
        break;
    case uart::lcr:
        u.lcr = value;
        break;
    case uart::mcr:
        u.mcr = value & uart::mcr_writable;
        break;
    case uart::scr:
        u.scr = value;
        break;
    default: // LSR and MSR are read-only
        break;
    }
    return {false, 0};
}

bool uart_handles(std::uint16_t port) {
    return port >= uart::com1_base && port < uart::com1_base + uart::port_count;
}

} // namespace es
