// The PC board a Linux guest gets: an 8259A pair, an 8254 PIT, a CMOS clock and COM1 (the models
// beside this file), the ISA lines that join them, and the routing of port I/O to them. One
// struct, held by the VM; the Exitscope module (vmx/) and the KVM backend (cli/) both call these
// functions. Pure: no VMX, no kernel, unit-tested on the host.
//
// The KVM backend keeps KVM's in-kernel PIC and PIT: their ports never reach user space, so the
// routing below sees only COM1, the CMOS clock and the reset ports there.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cmos_rtc.hpp"
#include "pic8259.hpp"
#include "pit8254.hpp"
#include "uart16550.hpp"

namespace es {

namespace board {
// The ISA interrupt lines of the board's devices (the PC/AT assignment).
inline constexpr unsigned irq_timer = 0; // PIT channel 0
inline constexpr unsigned irq_com1 = 4;
// What a port of no device reads: the ISA bus floats high.
inline constexpr std::uint8_t open_bus = 0xff;
} // namespace board

struct pc_board {
    uart16550 com1;
    pic_pair pic;
    pit8254 pit;
    cmos_rtc rtc;
    // The host's wall clock (Unix seconds, UTC), read only when the guest reads the CMOS clock.
    std::int64_t (*unix_seconds)();
};

// Power-on state; the PIT counts from the host TSC, `tsc_khz` ticks a millisecond.
void board_reset(pc_board& b, std::uint64_t tsc_khz, std::int64_t (*unix_seconds)());

// A port access that starts at `port` belongs to the board (its devices, the keyboard
// controller's command port and the chipset's reset control): the other ports are the caller's.
bool board_claims(std::uint16_t port);

// IN of `size` bytes (1, 2 or 4) at `port`, at host TSC `now_tsc`. Each byte of a wider access
// comes from the next port, as on the ISA bus; a port of no device reads board::open_bus.
std::uint32_t board_in(pc_board& b, std::uint16_t port, unsigned size, std::uint64_t now_tsc);

// What an OUT did beyond the devices' state: the bytes COM1 transmitted, in order, and whether
// the guest asked for a machine reset.
struct board_out_result {
    std::uint8_t transmitted[4];
    unsigned nr_transmitted;
    bool reset;
};
board_out_result board_out(pc_board& b, std::uint16_t port, unsigned size, std::uint32_t value,
                           std::uint64_t now_tsc);

// Bytes from the host's side of COM1's line (the user's input): as many as COM1's receiver has
// room for go in, in order, and IRQ4 follows (the received-data interrupt). Returns that count;
// the caller keeps the rest and offers them again after the guest has read some (uart_receive).
std::size_t board_receive(pc_board& b, const std::uint8_t* bytes, std::size_t n);

// Time passes to `now_tsc`: when PIT channel 0's output has risen since, an edge on IRQ0.
void board_tick(pc_board& b, std::uint64_t now_tsc);
// Host TSC of the next IRQ0 edge, or pit::no_deadline.
std::uint64_t board_next_deadline(const pc_board& b);
// The PIC's INTR line, and its INTA cycle (the vector to deliver).
bool board_has_interrupt(const pc_board& b);
std::uint8_t board_acknowledge(pc_board& b);

} // namespace es
