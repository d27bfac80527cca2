// libFuzzer target: the Linux guest's PC board (board/pc_board.hpp) under any stream of port
// reads and writes (1, 2 or 4 bytes, at the board's ports, at their edges and anywhere), host TSC
// steps (forward, backwards, huge, to the end of the TSC), timer expiries at the deadline the
// board names, IRQ edges on the PIC's lines, INTA cycles and host input to COM1. After every step:
// - COM1's receiver holds at most its capacity, and its IRQ line is up only with OUT2 set and
//   loopback off (uart16550.hpp: loopback closes the PC's IRQ gate), as the PIC's IR4 input sees;
// - an armed IRQ0 deadline is at most one period (pit::max_irq0_period_tsc) past the latest TSC
//   the board was given, and after a tick at or past it the deadline lies in the future;
// - an INTA while INTR is up delivers a real request: the vector is (ICW2 & 0xF8) | IR of the
//   chip that had it, that request leaves IRR and enters ISR (unless auto-EOI), and each chip's
//   ISR gains at most that one bit and loses none.
// ASan and UBSan catch any access out of bounds and any undefined arithmetic.
#include <cstddef>
#include <cstdint>

#include "board/pc_board.hpp"
#include "board/reset_ports.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {
using fuzz::input;
using fuzz::require;

std::int64_t wall_clock = 0;
std::int64_t fuzz_seconds() {
    return wall_clock;
}

// The board's ports and the ones just outside them.
constexpr std::uint16_t ports[] = {
    0x20,  0x21,  0xa0,  0xa1,  0x4d0, 0x4d1, 0x40,  0x41,  0x42,  0x43,  0x61,  0x70,  0x71,
    0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x64,  0xcf9, 0x1f,  0x22,  0x3f,
    0x44,  0x60,  0x62,  0x6f,  0x72,  0x9f,  0xa2,  0x3f7, 0x400, 0x4cf, 0x4d2, 0xcf8, 0xffff,
};

std::uint16_t pick_port(input& in) {
    const auto sel = static_cast<std::uint8_t>(in.take(1));
    if (sel < 0xe0)
        return ports[sel % (sizeof ports / sizeof ports[0])];
    return static_cast<std::uint16_t>(in.take(2));
}

unsigned pick_size(std::uint8_t op) {
    constexpr unsigned sizes[] = {1, 2, 4, 1};
    return sizes[(op >> 4) & 3];
}

std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
    return a > ~0ull - b ? ~0ull : a + b;
}

unsigned popcount8(std::uint8_t v) {
    unsigned n = 0;
    for (; v; v &= static_cast<std::uint8_t>(v - 1))
        ++n;
    return n;
}

struct world {
    es::pc_board b;
    std::uint64_t now = 0;
    std::uint64_t latest = 0; // the latest TSC the board was given
};

void saw(world& w) {
    if (w.now > w.latest)
        w.latest = w.now;
}

void check(const world& w) {
    const es::uart16550& u = w.b.com1;
    require(u.rx_count <= es::uart_rx_capacity(u) &&
            es::uart_rx_capacity(u) <= es::uart::rx_fifo_depth);
    require(u.rx_head < es::uart::rx_fifo_depth);
    const bool line = es::uart_irq_line(u);
    if (line)
        require((u.mcr & es::uart::mcr_out2) && !(u.mcr & es::uart::mcr_loop));
    // The board drives IR4 from COM1 after every access (nothing else drives it here).
    const std::uint8_t ir4 = 1u << es::board::irq_com1;
    require(((w.b.pic.chip[0].levels & ir4) != 0) == line);

    const std::uint64_t d = es::board_next_deadline(w.b);
    if (w.b.pit.tsc_hz == 0)
        require(d == es::pit::no_deadline);
    if (d != es::pit::no_deadline)
        require(d <= sat_add(w.latest, es::pit_max_irq0_period_tsc(w.b.pit)));
}

// One INTA cycle while INTR is up, with what it must have done.
void acknowledge(world& w) {
    const es::pic8259 m = w.b.pic.chip[0], s = w.b.pic.chip[1];
    const bool pending = es::board_has_interrupt(w.b);
    const std::uint8_t v = es::board_acknowledge(w.b);
    const es::pic8259 &m2 = w.b.pic.chip[0], &s2 = w.b.pic.chip[1];
    // ISR only gains at an INTA, one bit a chip at most.
    require((m2.isr & m.isr) == m.isr && (s2.isr & s.isr) == s.isr);
    const auto gained_m = static_cast<std::uint8_t>(m2.isr & ~m.isr);
    const auto gained_s = static_cast<std::uint8_t>(s2.isr & ~s.isr);
    require(popcount8(gained_m) <= 1 && popcount8(gained_s) <= 1);
    if (!pending)
        return; // a spurious INTA: the IR7 vector of a chip, nothing asserted about it here
    const unsigned ir = v & 7;
    const auto bit = static_cast<std::uint8_t>(1u << ir);
    // Took request `ir` from `c` (before) to `c2` (after): IRR loses it, ISR gains exactly it
    // unless the chip is in auto-EOI mode, when ISR gains nothing.
    auto took = [&](const es::pic8259& c, const es::pic8259& c2, std::uint8_t gained) {
        const bool aeoi = c.icw4 & es::pic::icw4_aeoi;
        return (v & 0xf8) == (c.icw2 & 0xf8) && (c.irr & bit) && !(c2.irr & bit) &&
               gained == (aeoi ? 0 : bit);
    };
    const auto cascade = static_cast<std::uint8_t>(1u << es::pic::cascade_irq);
    const bool from_master =
        ir != es::pic::cascade_irq && took(m, m2, gained_m) && !gained_s && s2.irr == s.irr;
    // The master's IR2 enters ISR, unless in auto-EOI or already there (special fully nested
    // mode lets the slave interrupt its own service routine).
    const bool master_keeps = (m.icw4 & es::pic::icw4_aeoi) || (m.isr & cascade);
    const bool from_slave = took(s, s2, gained_s) && gained_m == (master_keeps ? 0 : cascade) &&
                            (m2.irr | cascade) == (m.irr | cascade);
    require(from_master || from_slave);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in{data, size};
    world w;
    // 0 (never initialized: time stands still), or 2 MHz to 10 GHz: the range the conversions
    // are exact in (pit8254.hpp).
    const std::uint64_t raw = in.take(4);
    const std::uint64_t khz = raw & 1 ? 0 : 2'000 + (raw >> 1) % (10'000'000 - 2'000 + 1);
    wall_clock = static_cast<std::int64_t>(in.take(8));
    es::board_reset(w.b, khz, fuzz_seconds);
    w.now = in.take(8);
    w.latest = w.now;
    check(w);
    while (!in.empty()) {
        const auto op = static_cast<std::uint8_t>(in.take(1));
        switch (op & 0x0f) {
        case 0:
        case 1:
        case 2: { // IN
            const std::uint16_t port = pick_port(in);
            const unsigned bytes = pick_size(op);
            const std::uint32_t v = es::board_in(w.b, port, bytes, w.now);
            saw(w);
            if (bytes < 4)
                require(v >> (8 * bytes) == 0);
            if (bytes == 1 && !es::board_claims(port))
                require(v == es::board::open_bus);
            break;
        }
        case 3:
        case 4:
        case 5: { // OUT
            const std::uint16_t port = pick_port(in);
            const unsigned bytes = pick_size(op);
            const auto v = static_cast<std::uint32_t>(in.take(bytes));
            const es::board_out_result r = es::board_out(w.b, port, bytes, v, w.now);
            saw(w);
            require(r.nr_transmitted <= bytes);
            if (bytes == 1 && !es::board_claims(port))
                require(r.nr_transmitted == 0 && !r.reset);
            break;
        }
        case 6: // time passes: up to 64 K cycles
            w.now += in.take(2);
            break;
        case 7: // up to 4 G cycles
            w.now += in.take(4);
            break;
        case 8: // backwards (another CPU's TSC, a little behind)
            w.now -= in.take(op & 0x10 ? 4 : 2);
            break;
        case 9: // anywhere, the end of the TSC included
            w.now = op & 0x10 ? ~0ull - in.take(4) : in.take(8);
            break;
        case 10:   // the timer expires: a tick at the deadline the board named
        case 11: { // or at the TSC as it is
            const std::uint64_t d = es::board_next_deadline(w.b);
            if ((op & 0x0f) == 10 && d != es::pit::no_deadline)
                w.now = d;
            const bool due = d != es::pit::no_deadline && w.now >= d;
            es::board_tick(w.b, w.now);
            saw(w);
            const std::uint64_t next = es::board_next_deadline(w.b);
            // Never a deadline that has passed: the caller would spin on it.
            require(next == es::pit::no_deadline || next > w.now);
            // The edge reached the PIC (nothing else drives IR0 here, so it is low between).
            if (due)
                require(w.b.pic.chip[0].irr & 1u);
            break;
        }
        case 12: { // an edge on an ISA line (IR4 is COM1's, driven only by the board)
            const unsigned irq = static_cast<unsigned>(in.take(1)) % 20;
            if (irq != es::board::irq_com1)
                es::pic_pulse_irq(w.b.pic, irq);
            break;
        }
        case 13: // INTA
            acknowledge(w);
            break;
        case 14: { // host input to COM1
            const std::size_t want = op >> 4;
            const std::size_t n = want < in.size - in.at ? want : in.size - in.at;
            const std::size_t room = es::uart_rx_room(w.b.com1);
            const std::size_t taken = es::board_receive(w.b, in.data + in.at, n);
            require(taken == (n < room ? n : room));
            in.at += n;
            break;
        }
        default: // the wall clock moves, anywhere
            wall_clock = static_cast<std::int64_t>(in.take(8));
            break;
        }
        check(w);
    }
    return 0;
}
