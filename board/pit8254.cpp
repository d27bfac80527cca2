// The 8254 model (pit8254.hpp). Section names are those of the Intel 8254 data sheet.
//
// Simplifications, none visible to Linux: a count starts at the write that completes it, not one
// input clock later; a new count written in modes 2 and 3 restarts the period at once instead of
// at the end of the current one (Linux always writes the control word first, and KVM and QEMU do
// the same); BCD counting counts in binary; modes 1 and 5 wait for a gate trigger that never
// comes (channel 0's gate is tied high, and Linux does not use them on channel 2).
#include "pit8254.hpp"

namespace es {

namespace {

constexpr std::uint32_t max_count = 65536; // a count of 0 ("Counter Operation")

unsigned mode_of(const pit_channel& c) {
    const unsigned m = (c.control >> 1) & 7;
    return m >= 6 ? m - 4 : m; // modes 6 and 7 are modes 2 and 3 ("Control Word Format")
}

pit_access access_of(const pit_channel& c) {
    const auto a = static_cast<pit_access>((c.control >> 4) & 3);
    // Never programmed (power-on): behave as the word access Linux always uses.
    return a == pit_access::latch ? pit_access::word : a;
}

bool periodic(unsigned mode) {
    return mode == 2 || mode == 3;
}

// Modes 1 and 5 count only after a gate trigger, which this model never sees.
bool running(const pit_channel& c) {
    const unsigned m = mode_of(c);
    return c.loaded && c.gate && m != 1 && m != 5;
}

// Input clocks counted since the count was loaded.
std::uint64_t elapsed(const pit_channel& c, std::uint64_t now, std::uint64_t tsc_hz) {
    if (!running(c) || now <= c.base_tsc)
        return c.base_ticks;
    return c.base_ticks + pit_ticks_in(now - c.base_tsc, tsc_hz);
}

void rebase(pit_channel& c, std::uint64_t now, std::uint64_t tsc_hz) {
    c.base_ticks = elapsed(c, now, tsc_hz);
    if (now > c.base_tsc || !running(c))
        c.base_tsc = now;
}

// The next rising edge of OUT after `ticks` ("Mode Definitions"): mode 0 at terminal count, mode
// 4 one clock after its strobe, modes 2 and 3 at every reload. Not armed: modes 1 and 5.
void arm(pit_channel& c, std::uint64_t ticks) {
    const unsigned m = mode_of(c);
    c.armed = true;
    if (periodic(m) && c.reload < pit::min_irq0_period)
        c.next_edge = ticks + pit::min_irq0_period; // the floor (pit::min_irq0_period)
    else if (periodic(m))
        c.next_edge = (ticks / c.reload + 1) * c.reload;
    else if (m == 0)
        c.next_edge = c.reload;
    else if (m == 4)
        c.next_edge = std::uint64_t{c.reload} + 1;
    else
        c.armed = false;
}

void load(pit_channel& c, std::uint32_t count, std::uint64_t now) {
    c.reload = count ? count : max_count;
    c.loaded = true;
    c.null_count = false;
    c.base_ticks = 0;
    c.base_tsc = now;
    arm(c, 0);
}

std::uint16_t current_count(const pit_channel& c, std::uint64_t now, std::uint64_t tsc_hz) {
    const std::uint64_t t = elapsed(c, now, tsc_hz);
    const std::uint64_t n = c.reload ? c.reload : max_count;
    switch (mode_of(c)) {
    case 2:
        return static_cast<std::uint16_t>(n - t % n); // n down to 1, then reloaded
    case 3:
        // Decrements by two, reloading twice a period ("Mode 3"); odd counts approximated.
        return static_cast<std::uint16_t>(n - (2 * t) % n);
    default:
        // Modes 0 and 4 go on past terminal count, wrapping from 0 to 0xffff.
        return static_cast<std::uint16_t>(n - t);
    }
}

bool output(const pit_channel& c, std::uint64_t now, std::uint64_t tsc_hz) {
    const std::uint64_t t = elapsed(c, now, tsc_hz);
    const std::uint64_t n = c.reload ? c.reload : max_count;
    switch (mode_of(c)) {
    case 0: // low from the control word until terminal count, then high
        return c.loaded && t >= n;
    case 2: // low for the one clock at count 1; gate low forces it high
        return !c.loaded || !c.gate || t % n != n - 1;
    case 3: // high for the first half of the period (the longer one for odd counts)
        return !c.loaded || !c.gate || t % n < (n + 1) / 2;
    case 4: // low for the one clock after terminal count
        return !c.loaded || t != n;
    default:
        return true;
    }
}

void latch_count(pit_channel& c, std::uint64_t now, std::uint64_t tsc_hz) {
    // A second latch before the first is read is ignored ("Counter Latch Command").
    if (c.count_latched)
        return;
    c.latched_count = current_count(c, now, tsc_hz);
    c.count_latched = true;
}

void latch_status(pit_channel& c, std::uint64_t now, std::uint64_t tsc_hz) {
    if (c.status_latched)
        return;
    c.latched_status = static_cast<std::uint8_t>((output(c, now, tsc_hz) ? pit::status_out : 0) |
                                                 (c.null_count ? pit::status_null : 0) | c.control);
    c.status_latched = true;
}

void write_control(pit8254& p, std::uint8_t value, std::uint64_t now) {
    const unsigned sc = value >> 6;
    if (value >= pit::cw_readback) {
        // Read-back command: bits 3-1 pick channels 2-0; COUNT and STATUS bits are active low.
        for (unsigned i = 0; i < p.ch.size(); ++i) {
            if (!(value & (2u << i)))
                continue;
            if (!(value & pit::rb_no_status))
                latch_status(p.ch[i], now, p.tsc_hz);
            if (!(value & pit::rb_no_count))
                latch_count(p.ch[i], now, p.tsc_hz);
        }
        return;
    }
    pit_channel& c = p.ch[sc];
    if (((value >> 4) & 3) == static_cast<unsigned>(pit_access::latch)) {
        latch_count(c, now, p.tsc_hz);
        return;
    }
    // A control word resets the channel's control logic and stops it until a count is written
    // ("Write Operations"): Linux's 0x30 after its shutdown's 0,0 count relies on that.
    rebase(c, now, p.tsc_hz);
    c.control = value & 0x3f;
    c.loaded = false;
    c.armed = false;
    c.null_count = true;
    c.write_msb_next = c.read_msb_next = false;
    c.count_latched = c.status_latched = false;
}

void write_count(pit_channel& c, std::uint8_t value, std::uint64_t now, std::uint64_t tsc_hz) {
    switch (access_of(c)) {
    case pit_access::lsb:
        load(c, value, now);
        return;
    case pit_access::msb:
        load(c, std::uint32_t{value} << 8, now);
        return;
    default:
        break;
    }
    if (!c.write_msb_next) {
        c.write_lsb = value;
        c.write_msb_next = true;
        c.null_count = true;
        // Mode 0: the first byte stops the count and sets OUT low ("Mode 0").
        if (mode_of(c) == 0) {
            rebase(c, now, tsc_hz);
            c.loaded = false;
            c.armed = false;
        }
        return;
    }
    c.write_msb_next = false;
    load(c, c.write_lsb | (std::uint32_t{value} << 8), now);
}

std::uint8_t read_count(pit_channel& c, std::uint64_t now, std::uint64_t tsc_hz) {
    if (c.status_latched) { // status first when both are latched ("Read-Back Command")
        c.status_latched = false;
        return c.latched_status;
    }
    const std::uint16_t v = c.count_latched ? c.latched_count : current_count(c, now, tsc_hz);
    bool msb = false;
    switch (access_of(c)) {
    case pit_access::msb:
        msb = true;
        break;
    case pit_access::word:
        msb = c.read_msb_next;
        c.read_msb_next = !c.read_msb_next;
        break;
    default:
        break;
    }
    // A latched count is held until read in full.
    if (access_of(c) != pit_access::word || msb)
        c.count_latched = false;
    return static_cast<std::uint8_t>(msb ? v >> 8 : v);
}

void set_gate2(pit8254& p, bool gate, std::uint64_t now) {
    pit_channel& c = p.ch[2];
    if (c.gate == gate)
        return;
    rebase(c, now, p.tsc_hz);
    c.gate = gate;
    // Low suspends counting; a rising edge restarts modes 2 and 3 from the count ("GATE").
    if (gate && periodic(mode_of(c))) {
        c.base_ticks = 0;
        if (c.loaded)
            arm(c, 0);
    }
}

} // namespace

std::uint64_t pit_ticks_in(std::uint64_t tsc_delta, std::uint64_t tsc_hz) {
    if (!tsc_hz)
        return 0;
    // Whole seconds, then the remainder: (tsc_hz - 1) * input_hz < 1.2e16 for tsc_hz <= 1e10.
    return tsc_delta / tsc_hz * pit::input_hz + tsc_delta % tsc_hz * pit::input_hz / tsc_hz;
}

std::uint64_t pit_tsc_for(std::uint64_t ticks, std::uint64_t tsc_hz) {
    // Round up, so that pit_ticks_in() of the result is at least `ticks`.
    const std::uint64_t rest = ticks % pit::input_hz * tsc_hz;
    return ticks / pit::input_hz * tsc_hz + (rest + pit::input_hz - 1) / pit::input_hz;
}

void pit_init(pit8254& p, std::uint64_t tsc_khz) {
    p = pit8254{};
    p.tsc_hz = tsc_khz * 1000;
    p.ch[0].gate = p.ch[1].gate = true;
}

bool pit_handles(std::uint16_t port) {
    return (port >= pit::channel0 && port <= pit::command) || port == pit::port_b;
}

std::uint8_t pit_read(pit8254& p, std::uint16_t port, std::uint64_t now_tsc) {
    if (port >= pit::channel0 && port <= pit::channel2)
        return read_count(p.ch[port - pit::channel0], now_tsc, p.tsc_hz);
    if (port == pit::port_b) // what pit_calibrate_tsc and quick_pit_calibrate poll
        return static_cast<std::uint8_t>(
            p.port_b | (output(p.ch[2], now_tsc, p.tsc_hz) ? pit::port_b_out2 : 0));
    return 0xff; // the control word register is write-only
}

void pit_write(pit8254& p, std::uint16_t port, std::uint8_t value, std::uint64_t now_tsc) {
    if (port >= pit::channel0 && port <= pit::channel2) {
        write_count(p.ch[port - pit::channel0], value, now_tsc, p.tsc_hz);
    } else if (port == pit::command) {
        write_control(p, value, now_tsc);
    } else if (port == pit::port_b) {
        p.port_b = value & pit::port_b_stored;
        set_gate2(p, value & pit::port_b_gate2, now_tsc);
    }
}

std::uint64_t pit_irq0_deadline(const pit8254& p) {
    const pit_channel& c = p.ch[0];
    if (!c.armed || !running(c) || !p.tsc_hz)
        return pit::no_deadline;
    const std::uint64_t ahead = c.next_edge > c.base_ticks ? c.next_edge - c.base_ticks : 0;
    // An edge past the TSC's last value comes at that value (pit_expire raises it there).
    const std::uint64_t room =
        c.base_tsc < pit::no_deadline - 1 ? pit::no_deadline - 1 - c.base_tsc : 0;
    if (ahead > pit_ticks_in(room, p.tsc_hz))
        return pit::no_deadline - 1;
    return c.base_tsc + pit_tsc_for(ahead, p.tsc_hz);
}

std::uint64_t pit_max_irq0_period_tsc(const pit8254& p) {
    return pit_tsc_for(pit::max_irq0_period, p.tsc_hz);
}

bool pit_expire(pit8254& p, std::uint64_t now_tsc) {
    pit_channel& c = p.ch[0];
    if (!c.armed || !running(c))
        return false;
    const std::uint64_t t = elapsed(c, now_tsc, p.tsc_hz);
    // At or past the deadline means the edge is due, also when the deadline is the clamped one.
    if (t < c.next_edge && now_tsc < pit_irq0_deadline(p))
        return false;
    if (periodic(mode_of(c)))
        arm(c, t);
    else
        c.armed = false;
    // A next edge that is clamped too has no later TSC to come at: rather than an edge on every
    // tick from here on, none, until the guest writes a new count.
    if (c.armed && pit_irq0_deadline(p) <= now_tsc)
        c.armed = false;
    return true;
}

} // namespace es
