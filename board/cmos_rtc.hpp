// The PC's CMOS RAM and real-time clock (Motorola MC146818 compatible) at ports 0x70/0x71, as
// Linux's mach_get_cmos_time / mc146818_get_time and the rtc_cmos driver see it: the time comes
// from the host on every read, in BCD and 24-hour mode, never mid-update; the other bytes are
// plain RAM. No alarm, periodic or update interrupts. Pure: unit-tested on the host.
#pragma once

#include <array>
#include <cstdint>

namespace es {

namespace cmos {
inline constexpr std::uint16_t index_port = 0x70; // bit 7 gates NMI on a PC: ignored here
inline constexpr std::uint16_t data_port = 0x71;
inline constexpr std::uint8_t index_mask = 0x7f;

// Register numbers ("Address Map" of the MC146818 data sheet; 0x32 is the PC's century byte,
// which ACPI's FADT names when there is one).
inline constexpr std::uint8_t seconds = 0x00;
inline constexpr std::uint8_t minutes = 0x02;
inline constexpr std::uint8_t hours = 0x04;
inline constexpr std::uint8_t day_of_week = 0x06; // 1 = Sunday
inline constexpr std::uint8_t day_of_month = 0x07;
inline constexpr std::uint8_t month = 0x08;
inline constexpr std::uint8_t year = 0x09;
inline constexpr std::uint8_t reg_a = 0x0a;
inline constexpr std::uint8_t reg_b = 0x0b;
inline constexpr std::uint8_t reg_c = 0x0c;
inline constexpr std::uint8_t reg_d = 0x0d;
inline constexpr std::uint8_t century = 0x32;

// Register A: 32.768 kHz time base (DV = 010), 1024 Hz rate (RS = 0110), UIP (bit 7) clear:
// the power-on value Linux's rtc_cmos also writes.
inline constexpr std::uint8_t reg_a_value = 0x26;
inline constexpr std::uint8_t reg_b_dm = 0x04;  // binary data mode: never, the model is BCD
inline constexpr std::uint8_t reg_b_24h = 0x02; // always 24-hour
inline constexpr std::uint8_t reg_d_vrt = 0x80; // valid RAM and time: the battery is good
} // namespace cmos

// All-zero is a valid power-on state: index 0, RAM clear, register B 24-hour BCD.
struct cmos_rtc {
    std::array<std::uint8_t, 128> ram;
    std::uint8_t index;
};

bool cmos_handles(std::uint16_t port);
// `unix_seconds` is the host's time now (UTC); clamped to 1970..9999.
std::uint8_t cmos_read(cmos_rtc& c, std::uint16_t port, std::int64_t unix_seconds);
void cmos_write(cmos_rtc& c, std::uint16_t port, std::uint8_t value);

// The broken-down UTC time the clock registers show (for tests and callers that log it).
struct rtc_time {
    unsigned year, month, day, hour, minute, second, weekday; // weekday 0 = Sunday
};
rtc_time rtc_time_of(std::int64_t unix_seconds);

} // namespace es
