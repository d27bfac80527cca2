// Port routing and interrupt lines of the PC board (pc_board.hpp).
#include "pc_board.hpp"

#include "reset_ports.hpp"

namespace es {

namespace {

// COM1's IRQ line follows its interrupt conditions after every access and every byte received
// (an IIR read may clear the transmitter-empty one, an IER write may raise it, received data
// raises it and reading RBR empty lowers it).
void update_com1_line(pc_board& b) {
    pic_set_irq(b.pic, board::irq_com1, uart_irq_line(b.com1));
}

std::uint8_t read_port(pc_board& b, std::uint16_t port, std::uint64_t now_tsc) {
    if (uart_handles(port)) {
        const std::uint8_t v =
            uart_read(b.com1, static_cast<std::uint16_t>(port - uart::com1_base));
        update_com1_line(b);
        return v;
    }
    if (pic_handles(port))
        return pic_read(b.pic, port);
    if (pit_handles(port))
        return pit_read(b.pit, port, now_tsc);
    if (cmos_handles(port))
        return cmos_read(b.rtc, port, b.unix_seconds ? b.unix_seconds() : 0);
    return board::open_bus; // the keyboard controller's ports among others: no device
}

void write_port(pc_board& b, std::uint16_t port, std::uint8_t v, std::uint64_t now_tsc,
                board_out_result& r) {
    if (uart_handles(port)) {
        const uart_write_result w =
            uart_write(b.com1, static_cast<std::uint16_t>(port - uart::com1_base), v);
        update_com1_line(b);
        if (w.transmitted)
            r.transmitted[r.nr_transmitted++] = w.byte;
    } else if (pic_handles(port)) {
        pic_write(b.pic, port, v);
    } else if (pit_handles(port)) {
        pit_write(b.pit, port, v, now_tsc);
    } else if (cmos_handles(port)) {
        cmos_write(b.rtc, port, v);
    } else if (board::is_reset_request(port, v)) {
        r.reset = true;
    }
}

// At most 4 bytes an access: IN and OUT move 1, 2 or 4.
unsigned access_bytes(unsigned size) {
    return size < 4 ? size : 4;
}

} // namespace

void board_reset(pc_board& b, std::uint64_t tsc_khz, std::int64_t (*unix_seconds)()) {
    b = pc_board{};
    pit_init(b.pit, tsc_khz);
    b.unix_seconds = unix_seconds;
}

bool board_claims(std::uint16_t port) {
    return uart_handles(port) || pic_handles(port) || pit_handles(port) || cmos_handles(port) ||
           port == board::i8042_command || port == board::reset_control;
}

std::uint32_t board_in(pc_board& b, std::uint16_t port, unsigned size, std::uint64_t now_tsc) {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < access_bytes(size); ++i)
        v |= std::uint32_t{read_port(b, static_cast<std::uint16_t>(port + i), now_tsc)} << (8 * i);
    return v;
}

board_out_result board_out(pc_board& b, std::uint16_t port, unsigned size, std::uint32_t value,
                           std::uint64_t now_tsc) {
    board_out_result r{};
    for (unsigned i = 0; i < access_bytes(size); ++i)
        write_port(b, static_cast<std::uint16_t>(port + i),
                   static_cast<std::uint8_t>(value >> (8 * i)), now_tsc, r);
    return r;
}

std::size_t board_receive(pc_board& b, const std::uint8_t* bytes, std::size_t n) {
    const std::size_t taken = uart_receive(b.com1, bytes, n);
    update_com1_line(b);
    return taken;
}

void board_tick(pc_board& b, std::uint64_t now_tsc) {
    if (now_tsc >= pit_irq0_deadline(b.pit) && pit_expire(b.pit, now_tsc))
        pic_pulse_irq(b.pic, board::irq_timer); // channel 0's output rises: an edge on IRQ0
}

std::uint64_t board_next_deadline(const pc_board& b) {
    return pit_irq0_deadline(b.pit);
}

bool board_has_interrupt(const pc_board& b) {
    return pic_has_interrupt(b.pic);
}

std::uint8_t board_acknowledge(pc_board& b) {
    return pic_acknowledge(b.pic);
}

} // namespace es
