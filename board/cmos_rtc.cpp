// The CMOS/RTC model (cmos_rtc.hpp). Section names are those of the Motorola MC146818 data sheet.
#include "cmos_rtc.hpp"

namespace es {

namespace {

constexpr std::int64_t seconds_per_day = 86400;
constexpr std::int64_t last_second = 253402300799; // 9999-12-31 23:59:59: four BCD year digits

std::uint8_t bcd(unsigned v) {
    return static_cast<std::uint8_t>((v / 10 % 10) << 4 | v % 10);
}

// The clock as the registers show it. Each read takes the time anew; the update cycle is never in
// progress (register A's UIP stays 0), so Linux's wait for UIP clear ends at once, and its
// re-read of the seconds only differs if a second went by, when it simply reads again.
std::uint8_t clock_register(std::uint8_t reg, std::int64_t unix_seconds) {
    const rtc_time t = rtc_time_of(unix_seconds);
    switch (reg) {
    case cmos::seconds:
        return bcd(t.second);
    case cmos::minutes:
        return bcd(t.minute);
    case cmos::hours:
        return bcd(t.hour);
    case cmos::day_of_week:
        return bcd(t.weekday + 1);
    case cmos::day_of_month:
        return bcd(t.day);
    case cmos::month:
        return bcd(t.month);
    case cmos::year:
        return bcd(t.year % 100);
    default: // cmos::century
        return bcd(t.year / 100);
    }
}

bool is_clock_register(std::uint8_t reg) {
    switch (reg) {
    case cmos::seconds:
    case cmos::minutes:
    case cmos::hours:
    case cmos::day_of_week:
    case cmos::day_of_month:
    case cmos::month:
    case cmos::year:
    case cmos::century:
        return true;
    default:
        return false;
    }
}

} // namespace

rtc_time rtc_time_of(std::int64_t unix_seconds) {
    const std::int64_t s =
        unix_seconds < 0 ? 0 : (unix_seconds > last_second ? last_second : unix_seconds);
    const std::int64_t days = s / seconds_per_day, rest = s % seconds_per_day;
    rtc_time t{};
    t.second = static_cast<unsigned>(rest % 60);
    t.minute = static_cast<unsigned>(rest / 60 % 60);
    t.hour = static_cast<unsigned>(rest / 3600);
    t.weekday = static_cast<unsigned>((days + 4) % 7); // 1970-01-01 was a Thursday
    // Days to civil date in the proleptic Gregorian calendar, counted from 0000-03-01 so that the
    // leap day ends a year (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). Days are
    // not negative here, so no era needs a floor division.
    const std::int64_t z = days + 719468;
    const std::int64_t era = z / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    t.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    t.month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    t.year = static_cast<unsigned>(yoe + era * 400 + (t.month <= 2 ? 1 : 0));
    return t;
}

bool cmos_handles(std::uint16_t port) {
    return port == cmos::index_port || port == cmos::data_port;
}

std::uint8_t cmos_read(cmos_rtc& c, std::uint16_t port, std::int64_t unix_seconds) {
    if (port != cmos::data_port)
        return 0xff; // the index register is write-only on the PC
    const std::uint8_t reg = c.index & cmos::index_mask;
    if (is_clock_register(reg))
        return clock_register(reg, unix_seconds);
    switch (reg) {
    case cmos::reg_a:
        return cmos::reg_a_value;
    case cmos::reg_b:
        // SET and the interrupt enables read back; the data mode stays BCD and 24-hour, the
        // only one this model encodes (rtc_cmos refuses a 12-hour clock).
        return static_cast<std::uint8_t>((c.ram[reg] & ~(cmos::reg_b_dm | cmos::reg_b_24h)) |
                                         cmos::reg_b_24h);
    case cmos::reg_c: // no interrupt flags: nothing ever interrupts
        return 0;
    case cmos::reg_d:
        return cmos::reg_d_vrt;
    default:
        return c.ram[reg];
    }
}

void cmos_write(cmos_rtc& c, std::uint16_t port, std::uint8_t value) {
    if (port == cmos::index_port) {
        c.index = value & cmos::index_mask;
        return;
    }
    if (port != cmos::data_port)
        return;
    // Setting the clock (hwclock, rtc_cmos's set_time) is accepted and has no effect: the host's
    // time is the guest's. Registers A, C and D are fixed.
    const std::uint8_t reg = c.index & cmos::index_mask;
    if (!is_clock_register(reg) && reg != cmos::reg_a && reg != cmos::reg_c && reg != cmos::reg_d)
        c.ram[reg] = value;
}

} // namespace es
