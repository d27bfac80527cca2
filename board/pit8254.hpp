// The PC's Intel 8254 programmable interval timer: channel 0 drives IRQ0, channel 2 is gated by
// port 0x61 bit 0 and its OUT is read at port 0x61 bit 5, channel 1 (DRAM refresh once) only
// counts. Counts are computed from the host TSC the caller passes, never ticked: a guest that is
// not reading the PIT costs nothing between interrupts. Pure: unit-tested on the host.
#pragma once

#include <array>
#include <cstdint>

namespace es {

namespace pit {
inline constexpr std::uint16_t channel0 = 0x40;
inline constexpr std::uint16_t channel1 = 0x41;
inline constexpr std::uint16_t channel2 = 0x42;
inline constexpr std::uint16_t command = 0x43;
inline constexpr std::uint16_t port_b = 0x61; // PC "system control port B" (8255 PPI port B)

inline constexpr std::uint64_t input_hz = 1193182; // Linux PIT_TICK_RATE
inline constexpr std::uint64_t no_deadline = ~0ull;
// The shortest period of channel 0's interrupt in the periodic modes, in input clocks: 239, just
// over 200 us, as KVM's min_timer_period_us. A guest can program count 1 (838 ns); each interrupt
// costs the host an injection and often a sleep and wake-up, so the rate a guest can ask for is
// bounded (at most about 5,000 IRQ0 a second). The count it reads back is not changed.
inline constexpr std::uint64_t min_irq0_period = 239;
// The longest wait for channel 0's next edge, in input clocks: a count of 65536 (0 written), plus
// the clock mode 4 waits after terminal count.
inline constexpr std::uint64_t max_irq0_period = 65537;

// Control word (Intel 8254 data sheet, "Control Word Format").
inline constexpr std::uint8_t cw_bcd = 0x01;
inline constexpr std::uint8_t cw_readback = 0xc0;   // SC = 11
inline constexpr std::uint8_t rb_no_count = 0x20;   // read-back: do not latch the count
inline constexpr std::uint8_t rb_no_status = 0x10;  // read-back: do not latch the status
inline constexpr std::uint8_t status_out = 0x80;    // status byte: OUT pin
inline constexpr std::uint8_t status_null = 0x40;   // status byte: null count
inline constexpr std::uint8_t port_b_gate2 = 0x01;  // channel 2 GATE
inline constexpr std::uint8_t port_b_out2 = 0x20;   // channel 2 OUT (read only)
inline constexpr std::uint8_t port_b_stored = 0x0f; // speaker data, parity/IOCHK enables
} // namespace pit

// Access modes (control word bits 5-4; 0 is the counter latch command).
enum class pit_access : std::uint8_t { latch = 0, lsb = 1, msb = 2, word = 3 };

struct pit_channel {
    // Counting: `base_ticks` input clocks were counted before `base_tsc`; while running, those
    // since then are added. Re-based when counting stops or restarts.
    std::uint64_t base_tsc;
    std::uint64_t base_ticks;
    std::uint64_t next_edge; // tick (as above) of the next IRQ0 rising edge, when armed
    std::uint32_t reload;    // count as written, 1..65536 (0 written means 65536)
    std::uint16_t latched_count;
    std::uint8_t control; // bits 5-0 of the last control word: access, mode, BCD
    std::uint8_t latched_status;
    std::uint8_t write_lsb; // low byte of a word write, until its high byte comes
    bool loaded;            // a count was written since the control word: the counter runs
    bool null_count;        // a count is written but not yet counting (status bit 6)
    bool gate;              // channel 0 and 1 gates are tied high on a PC
    bool write_msb_next, read_msb_next;
    bool count_latched, status_latched;
    bool armed; // channel 0: next_edge will raise IRQ0
};

struct pit8254 {
    std::array<pit_channel, 3> ch;
    std::uint64_t tsc_hz; // host TSC frequency; 0 (never initialized) stops time
    std::uint8_t port_b;  // port 0x61 bits 3-0 as written
};

// Power-on: no channel counting, OUTs in their mode-0 state (low), channel 2's gate low.
void pit_init(pit8254& p, std::uint64_t tsc_khz);
bool pit_handles(std::uint16_t port); // 0x40-0x43 and 0x61
std::uint8_t pit_read(pit8254& p, std::uint16_t port, std::uint64_t now_tsc);
void pit_write(pit8254& p, std::uint16_t port, std::uint8_t value, std::uint64_t now_tsc);

// Host TSC at which channel 0's OUT next rises (the IRQ0 edge), or pit::no_deadline. An armed
// deadline lies at most pit_max_irq0_period_tsc past the TSC of the access or expiry that armed
// it, so never further than that past the latest TSC the PIT was given.
std::uint64_t pit_irq0_deadline(const pit8254& p);
// pit::max_irq0_period in TSC cycles.
std::uint64_t pit_max_irq0_period_tsc(const pit8254& p);
// An edge that would come after the TSC's range (a count loaded near 2^64) is clamped to
// pit::no_deadline - 1, the last value a caller's TSC can reach, and comes there.
// Call at or after the deadline. True: raise one IRQ0 edge. Modes 2 and 3 re-arm at the first
// period boundary after `now_tsc` (missed periods coalesce into this edge); modes 0 and 4 disarm
// until the guest writes a new count, as do modes 2 and 3 when the next edge is clamped at or
// before `now_tsc` (so a deadline returned after an expiry always lies after it). Before the
// deadline, or disarmed: false, nothing changes.
bool pit_expire(pit8254& p, std::uint64_t now_tsc);

// Conversions, 64-bit only (no 128-bit division in the kernel). Input clocks in `tsc_delta`,
// rounded down; TSC cycles for `ticks` input clocks, rounded up (so that the ticks counted at
// the returned TSC are at least `ticks`). Exact for tsc_hz from 2 MHz up to 10^10 (10 GHz): below
// that, the input clocks in a span near 2^64 TSC cycles would not fit in 64 bits.
std::uint64_t pit_ticks_in(std::uint64_t tsc_delta, std::uint64_t tsc_hz);
std::uint64_t pit_tsc_for(std::uint64_t ticks, std::uint64_t tsc_hz);

} // namespace es
