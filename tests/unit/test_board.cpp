// The PC board's routing (board/pc_board.hpp): which ports it claims, wide accesses byte by
// byte, COM1's transmitted and received bytes and IRQ4, the reset ports, IRQ0 from the PIT's
// deadline.
#include <catch2/catch.hpp>

#include "board/pc_board.hpp"
#include "board/reset_ports.hpp"

using namespace es;

namespace {

constexpr std::uint64_t tsc_khz = 1000000;     // 1 GHz: 1 ms is 10^6 TSC ticks
constexpr std::int64_t fixed_time = 951782400; // 2000-02-29 00:00:00 UTC

std::int64_t clock_2000() {
    return fixed_time;
}

pc_board fresh_board() {
    pc_board b{};
    board_reset(b, tsc_khz, clock_2000);
    return b;
}

// Linux's init_8259A: ICW1-ICW4 on both chips, vectors 0x30/0x38, then everything unmasked.
void program_pics(pc_board& b) {
    const std::uint8_t seq[][2] = {{0x20, 0x11}, {0x21, 0x30}, {0x21, 0x04}, {0x21, 0x01},
                                   {0xa0, 0x11}, {0xa1, 0x38}, {0xa1, 0x02}, {0xa1, 0x01},
                                   {0x21, 0x00}, {0xa1, 0x00}};
    for (const auto& w : seq)
        board_out(b, w[0], 1, w[1], 0);
}

} // namespace

TEST_CASE("board: claims its devices' ports and the reset ports, nothing else") {
    for (std::uint16_t p : {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x43, 0x61, 0x70, 0x71,
                            0x3f8, 0x3ff, 0x64, 0xcf9})
        CHECK(board_claims(p));
    for (std::uint16_t p : {0xe9, 0xf4, 0x80, 0x3f7, 0x400, 0x2f8, 0x60, 0xcf8, 0x1f0})
        CHECK_FALSE(board_claims(p));
}

TEST_CASE("board: COM1 transmits through THR, each byte of a wide OUT to the next port") {
    pc_board b = fresh_board();
    board_out_result r = board_out(b, uart::com1_base, 1, 'A', 0);
    REQUIRE(r.nr_transmitted == 1);
    CHECK(r.transmitted[0] == 'A');
    CHECK_FALSE(r.reset);
    // A 16-bit OUT at 0x3F8: 'B' to THR, then 0x00 to IER (nothing transmitted).
    r = board_out(b, uart::com1_base, 2, 0x0042, 0);
    REQUIRE(r.nr_transmitted == 1);
    CHECK(r.transmitted[0] == 'B');
    // A 16-bit IN at LSR reads LSR and MSR.
    const std::uint32_t v = board_in(b, uart::com1_base + uart::lsr, 2, 0);
    CHECK((v & 0xff) == (uart::lsr_thre | uart::lsr_temt));
    CHECK((v >> 8) == uart::msr_cts_dsr_dcd);
}

TEST_CASE("board: COM1's THRE interrupt reaches the PIC on IRQ4 only with OUT2") {
    pc_board b = fresh_board();
    program_pics(b);
    board_out(b, uart::com1_base + uart::ier, 1, uart::ier_thri, 0);
    CHECK_FALSE(board_has_interrupt(b)); // OUT2 off: the line is gated
    board_out(b, uart::com1_base + uart::mcr, 1, uart::mcr_out2, 0);
    board_out(b, uart::com1_base, 1, 'x', 0); // THR empties again at once: THRE pending
    REQUIRE(board_has_interrupt(b));
    CHECK(board_acknowledge(b) == 0x30 + board::irq_com1);
}

TEST_CASE("board: COM1 takes the host's input as room allows, received data raises IRQ4") {
    pc_board b = fresh_board();
    program_pics(b);
    board_out(b, uart::com1_base + uart::iir_fcr, 1, uart::fcr_enable_fifo, 0);
    board_out(b, uart::com1_base + uart::mcr, 1, uart::mcr_out2, 0);
    const std::uint8_t input[20] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
                                    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'};
    // Received-data interrupt off: the bytes wait, nothing is requested.
    CHECK(board_receive(b, input, 4) == 4);
    CHECK_FALSE(board_has_interrupt(b));
    board_out(b, uart::com1_base + uart::ier, 1, uart::ier_rdi, 0); // on: the line rises
    REQUIRE(board_has_interrupt(b));
    CHECK(board_acknowledge(b) == 0x30 + board::irq_com1);
    board_out(b, 0x20, 1, 0x20, 0); // non-specific EOI
    // The rest goes in as far as the FIFO reaches; the caller keeps the last 4.
    CHECK(board_receive(b, input + 4, 16) == 12);
    CHECK(board_receive(b, input + 16, 4) == 0);
    for (std::uint8_t expected : input) {
        if (expected == 'g') { // the FIFO is empty: the line dropped, the last 4 go in
            CHECK(board_in(b, uart::com1_base + uart::lsr, 1, 0) ==
                  (uart::lsr_thre | uart::lsr_temt));
            CHECK(board_receive(b, input + 16, 4) == 4);
            REQUIRE(board_has_interrupt(b)); // a new edge on IRQ4
            CHECK(board_acknowledge(b) == 0x30 + board::irq_com1);
            board_out(b, 0x20, 1, 0x20, 0);
        }
        CHECK(board_in(b, uart::com1_base + uart::iir_fcr, 1, 0) ==
              (uart::iir_rdi | uart::iir_fifos_enabled));
        CHECK(board_in(b, uart::com1_base, 1, 0) == expected);
    }
    CHECK(board_in(b, uart::com1_base + uart::iir_fcr, 1, 0) ==
          (uart::iir_no_interrupt | uart::iir_fifos_enabled));
    CHECK_FALSE(board_has_interrupt(b));
}

TEST_CASE("board: the reset ports ask for a reset, other values on them do not") {
    pc_board b = fresh_board();
    CHECK(board_out(b, board::i8042_command, 1, board::i8042_pulse_reset, 0).reset);
    CHECK_FALSE(board_out(b, board::i8042_command, 1, 0xad, 0).reset);
    CHECK(board_out(b, board::reset_control, 1, 0x06, 0).reset);
    CHECK_FALSE(board_out(b, board::reset_control, 1, 0x02, 0).reset);
    CHECK(board_in(b, board::i8042_command, 1, 0) == board::open_bus);
}

TEST_CASE("board: the CMOS clock reads the board's wall clock") {
    pc_board b = fresh_board();
    board_out(b, 0x70, 1, 0x09, 0); // year
    CHECK(board_in(b, 0x71, 1, 0) == 0x00);
    board_out(b, 0x70, 1, 0x08, 0); // month, BCD
    CHECK(board_in(b, 0x71, 1, 0) == 0x02);
    board_out(b, 0x70, 1, 0x07, 0); // day of the month
    CHECK(board_in(b, 0x71, 1, 0) == 0x29);
}

TEST_CASE("board: PIT channel 0 raises IRQ0 at its deadline, then re-arms (mode 2)") {
    pc_board b = fresh_board();
    program_pics(b);
    CHECK(board_next_deadline(b) == pit::no_deadline);
    board_out(b, pit::command, 1, 0x34, 0);  // channel 0, lobyte/hibyte, mode 2
    board_out(b, pit::channel0, 1, 0x9c, 0); // 1193 input ticks: about 1 ms
    board_out(b, pit::channel0, 1, 0x04, 0);
    const std::uint64_t deadline = board_next_deadline(b);
    REQUIRE(deadline != pit::no_deadline);
    board_tick(b, deadline - 1);
    CHECK_FALSE(board_has_interrupt(b));
    board_tick(b, deadline);
    REQUIRE(board_has_interrupt(b));
    CHECK(board_acknowledge(b) == 0x30 + board::irq_timer);
    CHECK(board_next_deadline(b) > deadline);
}
