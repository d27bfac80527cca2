// libFuzzer target: the 16550A (board/uart16550.hpp) under any sequence of port reads and writes
// and host input. Beside it runs a plain queue of the bytes its receiver must hold: what the
// host's input put in (exactly as many as there was room for), what loopback sent, less what the
// guest's RBR reads and FCR clears took. After every step: the receiver holds that queue, within
// its capacity; LSR.DR iff it holds data, LSR.OE iff a byte was lost since the last LSR read; IIR
// reports an enabled condition or none; the IRQ line is up iff IIR has one, OUT2 is set and
// loopback is off. ASan and UBSan catch any access out of bounds.
#include <cstddef>
#include <cstdint>
#include <deque>

#include "board/uart16550.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {
using fuzz::require;
namespace uart = es::uart;

struct expected_receiver {
    std::deque<std::uint8_t> bytes;
    bool overrun = false;
};

std::size_t capacity(bool fifo) {
    return fifo ? uart::rx_fifo_depth : 1;
}

// A byte arriving regardless of room (loopback): full, it is lost with the FIFO on and replaces
// the unread one with it off.
void arrive(expected_receiver& e, bool fifo, std::uint8_t byte) {
    if (e.bytes.size() < capacity(fifo)) {
        e.bytes.push_back(byte);
        return;
    }
    e.overrun = true;
    if (!fifo)
        e.bytes.back() = byte;
}

void check(const es::uart16550& u, const expected_receiver& e) {
    const bool loop = u.mcr & uart::mcr_loop;
    require(u.rx_count <= es::uart_rx_capacity(u) &&
            es::uart_rx_capacity(u) <= uart::rx_fifo_depth);
    require(u.rx_head < uart::rx_fifo_depth);
    require(e.bytes.size() == u.rx_count);
    require(es::uart_rx_room(u) == (loop ? 0 : es::uart_rx_capacity(u) - u.rx_count));
    // LSR and IIR as the guest would read them now (on copies: reading changes state).
    es::uart16550 c = u;
    const std::uint8_t lsr = es::uart_read(c, uart::lsr);
    require(((lsr & uart::lsr_dr) != 0) == !e.bytes.empty());
    require(((lsr & uart::lsr_oe) != 0) == e.overrun);
    require((lsr & (uart::lsr_thre | uart::lsr_temt)) == (uart::lsr_thre | uart::lsr_temt));
    c = u;
    const std::uint8_t iir = es::uart_read(c, uart::iir_fcr);
    require((iir & uart::iir_fifos_enabled) == (u.fifo_enabled ? uart::iir_fifos_enabled : 0));
    const std::uint8_t id = iir & 0x0f;
    require(id == uart::iir_no_interrupt || id == uart::iir_rlsi || id == uart::iir_rdi ||
            id == uart::iir_thri);
    if (id == uart::iir_rlsi)
        require((u.ier & uart::ier_rlsi) && e.overrun);
    if (id == uart::iir_rdi)
        require((u.ier & uart::ier_rdi) && !e.bytes.empty());
    if (id == uart::iir_thri)
        require((u.ier & uart::ier_thri) && u.thri_pending);
    const bool gate_open = (u.mcr & uart::mcr_out2) && !loop;
    require(es::uart_irq_line(u) == (gate_open && id != uart::iir_no_interrupt));
}

} // namespace

// Each step is an opcode byte: bits 7:6 pick read, write (next byte the value) or host input
// (bits 4:0 bytes from the input), bits 2:0 the register offset.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    es::uart16550 u;
    expected_receiver e;
    std::size_t i = 0;
    while (i < size) {
        const std::uint8_t op = data[i++];
        const auto offset = static_cast<std::uint16_t>(op & 7);
        const bool dlab = u.lcr & uart::lcr_dlab;
        switch (op >> 6) {
        case 0:
        case 1: { // read
            const std::uint8_t v = es::uart_read(u, offset);
            if (offset == uart::rbr_thr && !dlab) {
                require(v == (e.bytes.empty() ? 0 : e.bytes.front()));
                if (!e.bytes.empty())
                    e.bytes.pop_front();
            }
            if (offset == uart::lsr)
                e.overrun = false;
            break;
        }
        case 2: { // write
            const std::uint8_t v = i < size ? data[i++] : 0;
            const bool fifo = u.fifo_enabled, loop = u.mcr & uart::mcr_loop;
            const es::uart_write_result w = es::uart_write(u, offset, v);
            if (offset == uart::rbr_thr && !dlab) {
                require(w.transmitted == !loop);
                if (loop)
                    arrive(e, fifo, v);
            } else {
                require(!w.transmitted);
            }
            if (offset == uart::iir_fcr) {
                const bool enable = v & uart::fcr_enable_fifo;
                if (enable != fifo || (enable && (v & uart::fcr_clear_rcvr)))
                    e.bytes.clear();
            }
            break;
        }
        default: { // host input
            const std::size_t want = op & 0x1f;
            const std::size_t n = want < size - i ? want : size - i;
            const std::size_t room = es::uart_rx_room(u);
            const std::size_t taken = es::uart_receive(u, data + i, n);
            require(taken == (n < room ? n : room));
            for (std::size_t k = 0; k < taken; ++k)
                e.bytes.push_back(data[i + k]);
            i += n;
            break;
        }
        }
        check(u, e);
    }
    return 0;
}
