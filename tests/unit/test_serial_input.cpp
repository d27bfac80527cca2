// The serial-input ring (board/serial_input.hpp): what ES_VM_INPUT pushes reaches COM1's FIFO
// in order as the FIFO makes room, across the ring's wrap, and nothing is lost or duplicated.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "board/serial_input.hpp"

using namespace es;

namespace {

std::int64_t epoch() {
    return 0;
}

// Everything COM1's receiver holds, read out through RBR while LSR.DR is set.
std::string read_com1(pc_board& b) {
    std::string out;
    while (board_in(b, uart::com1_base + uart::lsr, 1, 0) & uart::lsr_dr)
        out += static_cast<char>(board_in(b, uart::com1_base, 1, 0));
    return out;
}

// A board whose COM1 is as Linux's 8250 driver leaves an open port: FIFO and received-data
// interrupt on.
pc_board listening_board() {
    pc_board b{};
    board_reset(b, 1000000, epoch);
    board_out(b, uart::com1_base + uart::iir_fcr, 1, uart::fcr_enable_fifo, 0);
    board_out(b, uart::com1_base + uart::ier, 1, uart::ier_rdi, 0);
    return b;
}

} // namespace

TEST_CASE("serial input: the ring takes what fits, the board gets it as its FIFO has room") {
    auto in = std::make_unique<serial_input>();
    pc_board b = listening_board();
    CHECK_FALSE(serial_input_deliverable(*in, b));

    std::string sent;
    for (unsigned i = 0; i < ES_INPUT_RING_BYTES + 100; ++i)
        sent += static_cast<char>('a' + i % 26);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(sent.data());
    CHECK(serial_input_push(*in, bytes, sent.size()) == ES_INPUT_RING_BYTES); // full
    CHECK(serial_input_push(*in, bytes, 1) == 0);
    CHECK(serial_input_waiting(*in) == ES_INPUT_RING_BYTES);
    CHECK(serial_input_deliverable(*in, b));

    // The guest reads 16 at a time; the writer tops up as room appears, across the wrap.
    std::string received;
    std::size_t offered = ES_INPUT_RING_BYTES;
    while (received.size() < sent.size()) {
        serial_input_drain(*in, b);
        CHECK_FALSE((serial_input_deliverable(*in, b) && uart_rx_room(b.com1) == 0));
        const std::string got = read_com1(b);
        REQUIRE_FALSE(got.empty());
        CHECK(got.size() <= uart::rx_fifo_depth);
        received += got;
        offered += serial_input_push(*in, bytes + offered, sent.size() - offered);
    }
    CHECK(received == sent);
    CHECK(serial_input_waiting(*in) == 0);
    CHECK(serial_input_head(*in) == sent.size());
    CHECK_FALSE(serial_input_deliverable(*in, b));
}

TEST_CASE("serial input: bytes wait in the ring while the guest's FIFO is full") {
    auto in = std::make_unique<serial_input>();
    pc_board b = listening_board();
    const std::uint8_t bytes[20] = {};
    CHECK(serial_input_push(*in, bytes, 20) == 20);
    serial_input_drain(*in, b);
    CHECK(serial_input_waiting(*in) == 4);
    CHECK_FALSE(serial_input_deliverable(*in, b)); // no room: a halted guest may sleep
    serial_input_drain(*in, b);
    CHECK(serial_input_waiting(*in) == 4);
    CHECK(read_com1(b).size() == 16);
    CHECK(serial_input_deliverable(*in, b));
}

TEST_CASE("serial input: nothing reaches a UART whose received-data interrupt is off") {
    auto in = std::make_unique<serial_input>();
    pc_board b{};
    board_reset(b, 1000000, epoch);
    const std::uint8_t bytes[3] = {'a', 'b', 'c'};
    CHECK(serial_input_push(*in, bytes, 3) == 3);
    CHECK_FALSE(serial_input_listening(b));
    CHECK_FALSE(serial_input_deliverable(*in, b)); // a halted guest may sleep
    serial_input_drain(*in, b);
    CHECK(serial_input_waiting(*in) == 3);
    CHECK(read_com1(b).empty());
    board_out(b, uart::com1_base + uart::ier, 1, uart::ier_rdi, 0); // the driver opens the port
    CHECK(serial_input_deliverable(*in, b));
    // With the FIFO off the receiver holds one byte: one per drain.
    std::string got;
    for (int i = 0; i < 3; ++i) {
        serial_input_drain(*in, b);
        got += read_com1(b);
    }
    CHECK(got == "abc");
}
