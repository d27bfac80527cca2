// Bytes user space gives a Linux guest's COM1 on their way in: a ring that the input ioctl
// fills while the VM may be running on another CPU, and that the run loop drains into the
// UART's receive FIFO before each entry (one writer at a time: the C glue serialises writers;
// one reader: the thread running the VM). `head` is published by the writer and `tail` by the
// reader, each with release order, so neither ever sees a slot the other is still using.
#pragma once

#include <cstddef>
#include <cstdint>

#include "exitscope/abi.h"
#include "pc_board.hpp"

namespace es {

struct serial_input {
    std::uint8_t bytes[ES_INPUT_RING_BYTES];
    std::uint32_t head; // bytes ever written (wraps), the writer's
    std::uint32_t tail; // bytes ever read (wraps), the reader's
};
static_assert((ES_INPUT_RING_BYTES & (ES_INPUT_RING_BYTES - 1)) == 0, "a power of two");

// The writer: copies up to `n` bytes in, returns how many fitted.
std::size_t serial_input_push(serial_input& in, const std::uint8_t* bytes, std::size_t n);

// Bytes wait here until the guest listens: its received-data interrupt enabled (IER bit 0), as
// Linux's 8250 driver keeps it while the port is open. Bytes that came earlier would land in a
// FIFO the driver clears when it opens the port, and be lost; a guest that polls LSR without
// that interrupt gets no input.
bool serial_input_listening(const pc_board& b);

// The reader: bytes waiting, and whether the board's UART could take one of them now.
std::uint32_t serial_input_waiting(const serial_input& in);
bool serial_input_deliverable(const serial_input& in, const pc_board& b);

// The reader: while the guest listens, moves what the UART's receive FIFO has room for into it
// (board_receive raises the received-data interrupt).
void serial_input_drain(serial_input& in, pc_board& b);

// The reader's view of `head`, for a sleep that must end when it changes.
std::uint32_t serial_input_head(const serial_input& in);

} // namespace es
