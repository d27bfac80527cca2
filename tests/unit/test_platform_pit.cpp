// The 8254 PIT as a Linux guest drives it: the i8253 clockevent (periodic mode 2, oneshot mode 4,
// shutdown), the TSC calibrations on channel 2 (arch/x86/kernel/tsc.c: pit_calibrate_tsc,
// quick_pit_calibrate), latches and the read-back command; and the TSC conversions.
#include <catch2/catch.hpp>

#include "board/pit8254.hpp"

using namespace es;

namespace {
constexpr std::uint64_t khz_2ghz = 2'000'000;
constexpr std::uint64_t hz_2ghz = khz_2ghz * 1000;
constexpr std::uint16_t linux_latch = 4773; // PIT_LATCH at HZ=250

std::uint16_t latched_read(pit8254& p, std::uint8_t channel, std::uint64_t now) {
    pit_write(p, pit::command, static_cast<std::uint8_t>(channel << 6), now); // latch command
    const std::uint16_t lo = pit_read(p, static_cast<std::uint16_t>(pit::channel0 + channel), now);
    const std::uint16_t hi = pit_read(p, static_cast<std::uint16_t>(pit::channel0 + channel), now);
    return static_cast<std::uint16_t>(lo | hi << 8);
}

void write_word(pit8254& p, std::uint16_t port, std::uint16_t v, std::uint64_t now) {
    pit_write(p, port, static_cast<std::uint8_t>(v), now);
    pit_write(p, port, static_cast<std::uint8_t>(v >> 8), now);
}
} // namespace

TEST_CASE("8254: conversions exact at 10 GHz, no overflow") {
    constexpr std::uint64_t hz10 = 10'000'000'000ull;
    CHECK(pit_tsc_for(65536, hz10) == 549254012); // ceil(65536 * 1e10 / 1193182)
    CHECK(pit_ticks_in(549254012, hz10) == 65536);
    CHECK(pit_ticks_in(549254011, hz10) == 65535);
    CHECK(pit_ticks_in(~0ull, hz10) == 2201032298735691ull); // floor((2^64-1) * 1193182 / 1e10)
    CHECK(pit_tsc_for(pit::input_hz * 86400 * 365, hz10) == hz10 * 86400 * 365);
    CHECK(pit_tsc_for(linux_latch, hz_2ghz) == 8000456);
    for (std::uint64_t t : {1ull, 4773ull, 65535ull, 1193181ull, 1193183ull, 123456789ull}) {
        CHECK(pit_ticks_in(pit_tsc_for(t, hz10), hz10) == t);
        CHECK(pit_ticks_in(pit_tsc_for(t, hz10) - 1, hz10) == t - 1);
    }
    CHECK(pit_ticks_in(12345, 0) == 0); // uninitialized: time stands still
    pit8254 p;
    pit_init(p, 10'000'000);
    pit_write(p, pit::command, 0x34, 1000);
    write_word(p, pit::channel0, 0, 1000); // 0 = 65536
    CHECK(pit_irq0_deadline(p) == 1000 + 549254012);
}

TEST_CASE("8254: Linux's periodic mode 2 at HZ=250: one IRQ0 per period, missed ones coalesce") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    CHECK(pit_handles(0x40));
    CHECK(pit_handles(0x43));
    CHECK(pit_handles(0x61));
    CHECK_FALSE(pit_handles(0x44));
    CHECK_FALSE(pit_handles(0x60));
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    const std::uint64_t t0 = 5'000'000;
    pit_write(p, pit::command, 0x34, t0);            // pit_set_periodic
    CHECK(pit_irq0_deadline(p) == pit::no_deadline); // no count yet
    pit_write(p, pit::channel0, linux_latch & 0xff, t0);
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    pit_write(p, pit::channel0, linux_latch >> 8, t0);
    const std::uint64_t period = pit_tsc_for(linux_latch, hz_2ghz);
    REQUIRE(pit_irq0_deadline(p) == t0 + 8000456);
    CHECK_FALSE(pit_expire(p, t0 + 8000455)); // early: nothing
    CHECK(pit_expire(p, t0 + 8000456));
    CHECK(pit_irq0_deadline(p) == t0 + pit_tsc_for(2 * linux_latch, hz_2ghz));
    CHECK_FALSE(pit_expire(p, t0 + 8000456));
    CHECK(pit_expire(p, t0 + 2 * period + 100));
    CHECK(pit_irq0_deadline(p) == t0 + pit_tsc_for(3 * linux_latch, hz_2ghz));
    // Ten periods late: one edge, the next one at the following boundary.
    const std::uint64_t late = t0 + pit_tsc_for(12 * linux_latch + 1000, hz_2ghz);
    CHECK(pit_expire(p, late));
    CHECK_FALSE(pit_expire(p, late));
    CHECK(pit_irq0_deadline(p) == t0 + pit_tsc_for(13 * linux_latch, hz_2ghz));
    // The count read through a latch: LATCH down to 1 within each period.
    CHECK(latched_read(p, 0, t0) == linux_latch);
    CHECK(latched_read(p, 0, t0 + pit_tsc_for(1000, hz_2ghz)) == linux_latch - 1000);
    CHECK(latched_read(p, 0, t0 + pit_tsc_for(linux_latch + 3, hz_2ghz)) == linux_latch - 3);
    // A new control word stops the channel: no more IRQ0.
    pit_write(p, pit::command, 0x34, late);
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    CHECK_FALSE(pit_expire(p, late + 100 * period));
}

TEST_CASE("8254: one-shot modes: Linux's oneshot (mode 4), mode 0, shutdown") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    const std::uint64_t t0 = 1'000'000;
    pit_write(p, pit::command, 0x38, t0);   // pit_set_oneshot: mode 4
    write_word(p, pit::channel0, 1000, t0); // pit_next_event
    // The strobe's rising edge is one clock after terminal count.
    REQUIRE(pit_irq0_deadline(p) == t0 + pit_tsc_for(1001, hz_2ghz));
    CHECK(pit_expire(p, pit_irq0_deadline(p)));
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    CHECK_FALSE(pit_expire(p, t0 + 100 * hz_2ghz));
    const std::uint64_t t1 = t0 + hz_2ghz;
    write_word(p, pit::channel0, 500, t1); // the next event, no control word
    CHECK(pit_irq0_deadline(p) == t1 + pit_tsc_for(501, hz_2ghz));
    // Mode 0: OUT rises at terminal count, once.
    pit_write(p, pit::command, 0x30, t1);
    write_word(p, pit::channel0, 2000, t1);
    CHECK(pit_irq0_deadline(p) == t1 + pit_tsc_for(2000, hz_2ghz));
    CHECK(pit_expire(p, t1 + 10 * hz_2ghz));
    CHECK_FALSE(pit_expire(p, t1 + 20 * hz_2ghz));
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    // After terminal count mode 0 counts on from 0xffff.
    CHECK(latched_read(p, 0, t1 + pit_tsc_for(2010, hz_2ghz)) == 0xfff6);
    // Shutdown: 0x30, 0, 0 would count 65536 clocks; 6.x's final 0x30 stops the channel.
    pit_write(p, pit::command, 0x30, t1);
    write_word(p, pit::channel0, 0, t1);
    CHECK(pit_irq0_deadline(p) == t1 + pit_tsc_for(65536, hz_2ghz));
    pit_write(p, pit::command, 0x30, t1);
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    // Mode 0's first count byte stops the count until the second.
    write_word(p, pit::channel0, 100, t1);
    pit_write(p, pit::channel0, 50, t1);
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    pit_write(p, pit::channel0, 0, t1 + 7);
    CHECK(pit_irq0_deadline(p) == t1 + 7 + pit_tsc_for(50, hz_2ghz));
}

TEST_CASE("8254: lo/hi reads without a latch follow the count; lsb-only and msb-only access") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    const std::uint64_t t0 = 77;
    pit_write(p, pit::command, 0xb0, t0); // quick_pit_calibrate: channel 2, mode 0, word
    pit_write(p, pit::port_b, 0x01, t0);  // gate on, speaker off
    write_word(p, pit::channel2, 0xffff, t0);
    CHECK(pit_read(p, pit::channel2, t0) == 0xff);
    CHECK(pit_read(p, pit::channel2, t0) == 0xff); // pit_verify_msb(0xff)
    const std::uint64_t t1 = t0 + pit_tsc_for(300, hz_2ghz);
    CHECK(pit_read(p, pit::channel2, t1) == (0xffff - 300) % 256);
    CHECK(pit_read(p, pit::channel2, t1) == 0xfe); // the MSB fell after 256 clocks
    pit_write(p, pit::command, 0x90, t1);          // channel 2, lsb only
    pit_write(p, pit::channel2, 0x80, t1);
    CHECK(pit_read(p, pit::channel2, t1 + pit_tsc_for(0x10, hz_2ghz)) == 0x70);
    CHECK(pit_read(p, pit::channel2, t1 + pit_tsc_for(0x20, hz_2ghz)) == 0x60);
    pit_write(p, pit::command, 0xa0, t1); // msb only: 0x0200
    pit_write(p, pit::channel2, 0x02, t1);
    CHECK(pit_read(p, pit::channel2, t1 + pit_tsc_for(0x101, hz_2ghz)) == 0x00);
    CHECK(pit_read(p, pit::command, t1) == 0xff);
}

TEST_CASE("8254: channel 2 gated by port 0x61, OUT at bit 5 (pit_calibrate_tsc)") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    constexpr std::uint16_t cal_latch = 1193182 / 100; // 10 ms
    const std::uint64_t t0 = 123;
    CHECK(pit_read(p, pit::port_b, t0) == 0x00);
    pit_write(p, pit::command, 0xb0, t0);
    write_word(p, pit::channel2, cal_latch, t0); // gate still low: no counting
    const std::uint64_t t1 = t0 + hz_2ghz;
    CHECK((pit_read(p, pit::port_b, t1) & pit::port_b_out2) == 0);
    CHECK(latched_read(p, 2, t1) == cal_latch);
    pit_write(p, pit::port_b, (pit_read(p, pit::port_b, t1) & ~0x02) | 0x01, t1);
    CHECK(pit_read(p, pit::port_b, t1) == 0x01);
    const std::uint64_t tc = t1 + pit_tsc_for(cal_latch, hz_2ghz);
    CHECK((pit_read(p, pit::port_b, tc - 1) & pit::port_b_out2) == 0);
    CHECK(pit_read(p, pit::port_b, tc) == (0x01 | pit::port_b_out2));
    CHECK(pit_read(p, pit::port_b, tc + hz_2ghz) == (0x01 | pit::port_b_out2)); // stays high
    CHECK(pit_irq0_deadline(p) == pit::no_deadline); // channel 2 never raises IRQ0
    // Gate low suspends mode 0: the count holds. The control word sets OUT low at once.
    pit_write(p, pit::command, 0xb0, tc);
    CHECK(pit_read(p, pit::port_b, tc) == 0x01);
    write_word(p, pit::channel2, 1000, tc);
    pit_write(p, pit::port_b, 0x00, tc + pit_tsc_for(400, hz_2ghz));
    CHECK(latched_read(p, 2, tc + hz_2ghz) == 600);
    pit_write(p, pit::port_b, 0x01, tc + hz_2ghz);
    CHECK(latched_read(p, 2, tc + hz_2ghz + pit_tsc_for(100, hz_2ghz)) == 500);
}

TEST_CASE("8254: read-back command latches status and count") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    pit_write(p, pit::command, 0x30, 0);
    pit_write(p, pit::command, 0xe2, 0);                               // status of channel 0
    CHECK(pit_read(p, pit::channel0, 0) == (pit::status_null | 0x30)); // OUT low, no count yet
    pit_write(p, pit::command, 0x34, 10);
    write_word(p, pit::channel0, linux_latch, 10);
    pit_write(p, pit::command, 0xc2, 10 + pit_tsc_for(73, hz_2ghz)); // status and count
    CHECK(pit_read(p, pit::channel0, 10) == (pit::status_out | 0x34));
    const std::uint64_t later = 10 + pit_tsc_for(2000, hz_2ghz);
    CHECK(pit_read(p, pit::channel0, later) == ((linux_latch - 73) & 0xff));
    CHECK(pit_read(p, pit::channel0, later) == ((linux_latch - 73) >> 8));
    pit_write(p, pit::command, 0xd2, later);                             // count only
    pit_write(p, pit::command, 0xd2, later + pit_tsc_for(500, hz_2ghz)); // ignored: still latched
    CHECK(pit_read(p, pit::channel0, later) == ((linux_latch - 2000) & 0xff));
    CHECK(pit_read(p, pit::channel0, later) == ((linux_latch - 2000) >> 8));
}

TEST_CASE("8254: channel 2 in mode 2: gate low holds OUT high, its rise restarts the count") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    const std::uint64_t t0 = 1000;
    pit_write(p, pit::port_b, 0x01, t0);
    pit_write(p, pit::command, 0xb4, t0); // channel 2, word, mode 2
    write_word(p, pit::channel2, 1000, t0);
    CHECK(latched_read(p, 2, t0 + pit_tsc_for(300, hz_2ghz)) == 700);
    // OUT is low for the one clock at count 1.
    CHECK((pit_read(p, pit::port_b, t0 + pit_tsc_for(999, hz_2ghz)) & pit::port_b_out2) == 0);
    CHECK((pit_read(p, pit::port_b, t0 + pit_tsc_for(1000, hz_2ghz)) & pit::port_b_out2) != 0);
    const std::uint64_t off = t0 + pit_tsc_for(1999, hz_2ghz);
    pit_write(p, pit::port_b, 0x00, off);
    CHECK((pit_read(p, pit::port_b, off) & pit::port_b_out2) != 0);
    CHECK(latched_read(p, 2, off + hz_2ghz) == 1);
    pit_write(p, pit::port_b, 0x01, off + hz_2ghz);
    CHECK(latched_read(p, 2, off + hz_2ghz) == 1000);
    CHECK(latched_read(p, 2, off + hz_2ghz + pit_tsc_for(10, hz_2ghz)) == 990);
}

TEST_CASE("8254: mode 3 square wave: periodic IRQ0, count down by two, OUT high half the time") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    const std::uint64_t t0 = 50;
    pit_write(p, pit::command, 0x36, t0); // the BIOS's 18.2 Hz setting, with count 1000
    write_word(p, pit::channel0, 1000, t0);
    CHECK(pit_irq0_deadline(p) == t0 + pit_tsc_for(1000, hz_2ghz));
    CHECK(latched_read(p, 0, t0 + pit_tsc_for(100, hz_2ghz)) == 800);
    auto status = [&](std::uint64_t ticks) {
        pit_write(p, pit::command, 0xe2, t0 + pit_tsc_for(ticks, hz_2ghz));
        return pit_read(p, pit::channel0, 0);
    };
    CHECK(status(499) == (pit::status_out | 0x36));
    CHECK(status(500) == 0x36);
    CHECK(status(1000) == (pit::status_out | 0x36));
    CHECK(pit_expire(p, t0 + pit_tsc_for(2500, hz_2ghz)));
    CHECK(pit_irq0_deadline(p) == t0 + pit_tsc_for(3000, hz_2ghz));
}

TEST_CASE("8254: a periodic count below the floor interrupts every 200 us, reads count as set") {
    pit8254 p;
    pit_init(p, khz_2ghz);
    const std::uint64_t t0 = 1'000'000;
    for (std::uint8_t control : {0x34, 0x36}) { // mode 2, then mode 3
        pit_write(p, pit::command, control, t0);
        write_word(p, pit::channel0, 1, t0); // 838 ns asked for
        std::uint64_t last = t0;
        for (int i = 0; i < 5; ++i) {
            const std::uint64_t deadline = pit_irq0_deadline(p);
            REQUIRE(deadline != pit::no_deadline);
            CHECK(deadline - last >= pit_tsc_for(pit::min_irq0_period, hz_2ghz) - 1);
            CHECK(deadline - last <= pit_tsc_for(pit::min_irq0_period + 1, hz_2ghz));
            CHECK_FALSE(pit_expire(p, deadline - 2000)); // a microsecond early: nothing
            CHECK(pit_expire(p, deadline));
            last = deadline;
        }
    }
    // A count at the floor or above keeps its own period.
    pit_write(p, pit::command, 0x34, t0);
    write_word(p, pit::channel0, 1000, t0);
    CHECK(pit_irq0_deadline(p) == t0 + pit_tsc_for(1000, hz_2ghz));
    // One-shot mode 4 with count 1 is not periodic: one edge, then disarmed.
    pit_write(p, pit::command, 0x38, t0);
    write_word(p, pit::channel0, 1, t0);
    CHECK(pit_irq0_deadline(p) == t0 + pit_tsc_for(2, hz_2ghz));
}

TEST_CASE("8254: an edge past the TSC's range is clamped to its last value and comes there") {
    // Found by tests/fuzz/fuzz_board (corpus deadline-clamped-near-2-64): the deadline saturated
    // at 2^64 - 2 but never expired there, so a caller at that TSC would re-enter the guest with
    // a deadline already passed on every exit, forever.
    pit8254 p;
    pit_init(p, khz_2ghz);
    const std::uint64_t late = pit::no_deadline - 1000;
    pit_write(p, pit::command, 0x34, late); // mode 2, the next edge 1000 clocks after 2^64
    write_word(p, pit::channel0, 1000, late);
    REQUIRE(pit_irq0_deadline(p) == pit::no_deadline - 1);
    CHECK_FALSE(pit_expire(p, pit::no_deadline - 2));
    CHECK(pit_expire(p, pit::no_deadline - 1));
    // The following edge has no TSC to come at: disarmed, not due on every tick.
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    CHECK_FALSE(pit_expire(p, pit::no_deadline));
    // A new count (the TSC having started over) arms again.
    write_word(p, pit::channel0, 1000, 5000);
    CHECK(pit_irq0_deadline(p) == 5000 + pit_tsc_for(1000, hz_2ghz));
    // One-shot mode 0, clamped the same way: one edge at the clamp, then disarmed as always.
    pit_write(p, pit::command, 0x30, late);
    write_word(p, pit::channel0, 1000, late);
    REQUIRE(pit_irq0_deadline(p) == pit::no_deadline - 1);
    CHECK(pit_expire(p, pit::no_deadline - 1));
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    // Loaded at the TSC's very last value: clamped too, not wrapped to a small deadline.
    pit_write(p, pit::command, 0x34, pit::no_deadline);
    write_word(p, pit::channel0, 1000, pit::no_deadline);
    CHECK(pit_irq0_deadline(p) == pit::no_deadline - 1);
    CHECK(pit_expire(p, pit::no_deadline));
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
    // An edge that fits just before the end is not clamped.
    const std::uint64_t fits = pit::no_deadline - 1 - pit_tsc_for(1000, hz_2ghz);
    pit_write(p, pit::command, 0x34, fits);
    write_word(p, pit::channel0, 1000, fits);
    CHECK(pit_irq0_deadline(p) == pit::no_deadline - 1);
    CHECK(pit_expire(p, pit::no_deadline - 1));
    CHECK(pit_irq0_deadline(p) == pit::no_deadline);
}
