// The local APIC timer (local_apic.hpp): SDM Volume 3, "APIC Timer" and "TSC-Deadline Mode",
// 325462-080US. The count is computed from the TSC the caller passes, never ticked.
//
// Simplification: a new divide configuration applies from the next initial-count write; the
// count already running keeps its divider (Linux writes the divider first, then the count).
#include "lapic_parts.hpp"

namespace es {

namespace {

namespace apic = sdm::apic;

std::uint32_t& timer_lvt(local_apic& l) {
    return l.lvt[static_cast<unsigned>(lvt_entry::timer)];
}

apic::timer_mode mode_of(std::uint32_t lvt) {
    return static_cast<apic::timer_mode>((lvt & apic::lvt::timer_mode) >>
                                         apic::lvt::timer_mode_shift);
}

apic::timer_mode mode_of(const local_apic& l) {
    return mode_of(l.lvt[static_cast<unsigned>(lvt_entry::timer)]);
}

// Input clocks in `tsc_delta`, rounded down: whole milliseconds, then the rest, so that nothing
// overflows for tsc_khz up to lapic::max_tsc_khz and bus_khz <= tsc_khz.
std::uint64_t bus_clocks_in(const local_apic& l, std::uint64_t tsc_delta) {
    if (!l.tsc_khz)
        return 0;
    return tsc_delta / l.tsc_khz * l.bus_khz + tsc_delta % l.tsc_khz * l.bus_khz / l.tsc_khz;
}

// TSC ticks for one period of the current count, rounded up; 0 when time stands still. The
// product fits: at most 2^32 * 128 clocks times at most 10^7 kHz is below 2^63.
std::uint64_t period_tsc(const local_apic& l) {
    if (!l.bus_khz || !l.tsc_khz)
        return 0;
    const std::uint64_t clocks = std::uint64_t{l.timer_initial} << l.timer_shift;
    return (clocks * l.tsc_khz + l.bus_khz - 1) / l.bus_khz;
}

// The period the host arms: a periodic timer's at least lapic::min_period_us.
std::uint64_t armed_period(const local_apic& l) {
    const std::uint64_t p = period_tsc(l);
    const std::uint64_t floor = l.tsc_khz * lapic::min_period_us / 1000;
    return mode_of(l) == apic::timer_mode::periodic && p && p < floor ? floor : p;
}

void disarm(local_apic& l) {
    l.timer_deadline = lapic::no_deadline;
}

// A deadline past the TSC's range is clamped to its last value, as board/pit8254 does.
void arm_after(local_apic& l, std::uint64_t from, std::uint64_t delta) {
    if (!delta) {
        disarm(l);
        return;
    }
    l.timer_deadline =
        from > lapic::no_deadline - 1 - delta ? lapic::no_deadline - 1 : from + delta;
}

} // namespace

namespace lapic_parts {

void timer_write_lvt(local_apic& l, std::uint32_t value, std::uint64_t now) {
    (void)now;
    const bool changed = mode_of(value) != mode_of(l);
    timer_lvt(l) = value;
    // A mode change stops the timer: the count and IA32_TSC_DEADLINE start from 0 again (as KVM
    // does; the SDM leaves the counter's state after a switch unspecified).
    if (changed) {
        l.timer_initial = 0;
        l.tsc_deadline = 0;
        disarm(l);
    }
}

void timer_write_initial(local_apic& l, std::uint32_t value, std::uint64_t now) {
    // "TSC-Deadline Mode": writes to the initial-count register are ignored.
    if (mode_of(l) == apic::timer_mode::tsc_deadline)
        return;
    l.timer_initial = value;
    l.timer_start = now;
    l.timer_shift = static_cast<std::uint8_t>(apic::timer_divide_shift(l.timer_divide));
    // A count of 0 stops the timer.
    arm_after(l, now, armed_period(l));
}

void timer_write_divide(local_apic& l, std::uint32_t value, std::uint64_t now) {
    (void)now;
    l.timer_divide = value;
}

void timer_write_tsc_deadline(local_apic& l, std::uint64_t value) {
    // Outside TSC-deadline mode writes are ignored; in it, 0 disarms the timer.
    if (mode_of(l) != apic::timer_mode::tsc_deadline)
        return;
    l.tsc_deadline = value;
    l.timer_deadline = value ? value : lapic::no_deadline;
}

std::uint64_t timer_read_tsc_deadline(const local_apic& l) {
    return mode_of(l) == apic::timer_mode::tsc_deadline ? l.tsc_deadline : 0;
}

std::uint32_t timer_current_count(const local_apic& l, std::uint64_t now) {
    if (mode_of(l) == apic::timer_mode::tsc_deadline || !l.timer_initial)
        return 0;
    const std::uint64_t counted =
        now > l.timer_start ? bus_clocks_in(l, now - l.timer_start) >> l.timer_shift : 0;
    if (mode_of(l) == apic::timer_mode::periodic)
        return static_cast<std::uint32_t>(l.timer_initial - counted % l.timer_initial);
    return counted >= l.timer_initial ? 0 : static_cast<std::uint32_t>(l.timer_initial - counted);
}

} // namespace lapic_parts

std::uint64_t lapic_next_deadline(const local_apic& l) {
    return l.timer_deadline;
}

bool lapic_expire(local_apic& l, std::uint64_t now_tsc) {
    if (l.timer_deadline == lapic::no_deadline || now_tsc < l.timer_deadline)
        return false;
    switch (mode_of(l)) {
    case apic::timer_mode::periodic: {
        // The first period boundary after now, counted from the start; past the TSC's range,
        // or at or before now after the clamp, the timer stops.
        const std::uint64_t p = armed_period(l);
        const std::uint64_t n = (now_tsc - l.timer_start) / p + 1;
        if (n > (lapic::no_deadline - 1 - l.timer_start) / p)
            disarm(l);
        else
            l.timer_deadline = l.timer_start + n * p;
        break;
    }
    case apic::timer_mode::tsc_deadline:
        l.tsc_deadline = 0; // the MSR reads 0 once the deadline passed
        disarm(l);
        break;
    default:
        disarm(l);
        break;
    }
    const std::uint32_t lvt = l.lvt[static_cast<unsigned>(lvt_entry::timer)];
    if (lvt & apic::lvt::masked)
        return false;
    return lapic_accept(l, static_cast<std::uint8_t>(lvt & apic::lvt::vector));
}

} // namespace es
