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

bool in_loopback(const uart16550& u) {
    return u.mcr & uart::mcr_loop;
}

bool thri_active(const uart16550& u) {
    return u.thri_pending && (u.ier & uart::ier_thri);
}

// The highest-priority enabled interrupt condition, as IIR bits 3:0 report it ("Interrupt
// Identification Register" table): line status, then received data, then THR empty. Reading
// IIR clears only the THRE one; the receiver's are cleared by reading LSR and RBR.
std::uint8_t interrupt_id(const uart16550& u) {
    if ((u.ier & uart::ier_rlsi) && u.overrun)
        return uart::iir_rlsi;
    if ((u.ier & uart::ier_rdi) && u.rx_count != 0)
        return uart::iir_rdi;
    if (thri_active(u))
        return uart::iir_thri;
    return uart::iir_no_interrupt;
}

void clear_receiver(uart16550& u) {
    u.rx_head = 0;
    u.rx_count = 0;
}

void push_byte(uart16550& u, std::uint8_t byte) {
    u.rx_fifo[(u.rx_head + u.rx_count) % uart::rx_fifo_depth] = byte;
    ++u.rx_count;
}

std::uint8_t pop_byte(uart16550& u) {
    if (u.rx_count == 0)
        return 0; // no byte waiting: this model's RBR reads 0
    const std::uint8_t byte = u.rx_fifo[u.rx_head];
    u.rx_head = static_cast<std::uint8_t>((u.rx_head + 1) % uart::rx_fifo_depth);
    --u.rx_count;
    return byte;
}

// A byte the transmitter loops back to the receiver arrives whether or not there is room.
// Full, it overruns ("Line Status Register", bit 1): with the FIFO on, the new byte is lost and
// the FIFO kept; without it, the new byte overwrites RBR's.
void loop_back(uart16550& u, std::uint8_t byte) {
    if (u.rx_count < uart_rx_capacity(u)) {
        push_byte(u, byte);
        return;
    }
    u.overrun = true;
    if (!u.fifo_enabled)
        u.rx_fifo[u.rx_head] = byte;
}

} // namespace

std::size_t uart_rx_capacity(const uart16550& u) {
    return u.fifo_enabled ? uart::rx_fifo_depth : 1;
}

std::size_t uart_rx_room(const uart16550& u) {
    // The serial input is disconnected from the receiver in loopback.
    return in_loopback(u) ? 0 : uart_rx_capacity(u) - u.rx_count;
}

std::size_t uart_receive(uart16550& u, const std::uint8_t* bytes, std::size_t n) {
    const std::size_t room = uart_rx_room(u);
    const std::size_t taken = n < room ? n : room;
    for (std::size_t i = 0; i < taken; ++i)
        push_byte(u, bytes[i]);
    return taken;
}

bool uart_irq_line(const uart16550& u) {
    // In loopback OUT2 is forced inactive at its pin ("Modem Control Register", bit 4), which
    // on a PC closes the IRQ gate as well.
    return (u.mcr & (uart::mcr_out2 | uart::mcr_loop)) == uart::mcr_out2 &&
           interrupt_id(u) != uart::iir_no_interrupt;
}

std::uint8_t uart_read(uart16550& u, std::uint16_t offset) {
    const bool dlab = u.lcr & uart::lcr_dlab;
    switch (offset) {
    case uart::rbr_thr:
        return dlab ? u.dll : pop_byte(u);
    case uart::ier:
        return dlab ? u.dlm : u.ier;
    case uart::iir_fcr: {
        const std::uint8_t fifo = u.fifo_enabled ? uart::iir_fifos_enabled : 0;
        const std::uint8_t id = interrupt_id(u);
        // Reading IIR while it reports THRE is one of the two ways that interrupt is cleared.
        if (id == uart::iir_thri)
            u.thri_pending = false;
        return id | fifo;
    }
    case uart::lcr:
        return u.lcr;
    case uart::mcr:
        return u.mcr;
    case uart::lsr: {
        // Every byte leaves at once: polling for THRE or TEMT ends on the first read. Reading
        // LSR clears OE, and with it the line status interrupt.
        const std::uint8_t v = uart::lsr_thre | uart::lsr_temt |
                               (u.rx_count != 0 ? uart::lsr_dr : 0) |
                               (u.overrun ? uart::lsr_oe : 0);
        u.overrun = false;
        return v;
    }
    case uart::msr:
        return in_loopback(u) ? loopback_msr(u.mcr) : uart::msr_cts_dsr_dcd;
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
        // Register").
        if (in_loopback(u)) {
            loop_back(u, value);
            return {false, 0};
        }
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
    case uart::iir_fcr: {
        // Switching the FIFO on or off empties it ("FIFO Control Register", bit 0); the other
        // bits count only with bit 0 set, bit 1 then empties the receiver (it self-clears).
        // The transmitter holds nothing, so bit 2 has nothing to clear; the trigger level
        // (bits 7:6) is not modelled (uart16550.hpp).
        const bool enable = value & uart::fcr_enable_fifo;
        if (enable != u.fifo_enabled || (enable && (value & uart::fcr_clear_rcvr)))
            clear_receiver(u);
        u.fifo_enabled = enable;
        break;
    }
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
