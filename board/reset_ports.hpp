// The two ways a PC's software resets the machine, which Linux tries in turn on reboot and after
// a panic with panic=N (arch/x86/kernel/reboot.c): the keyboard controller's pulse-reset command
// and the chipset's reset control register. A Linux guest's reset ends its run. Pure.
#pragma once

#include <cstdint>

namespace es::board {

inline constexpr std::uint16_t i8042_command = 0x64;
inline constexpr std::uint8_t i8042_pulse_reset = 0xfe; // pulse output line 0 (CPU reset)
inline constexpr std::uint16_t reset_control = 0xcf9;
inline constexpr std::uint8_t reset_control_reset_cpu = 0x04;

constexpr bool is_reset_request(std::uint16_t port, std::uint8_t value) {
    if (port == i8042_command)
        return value == i8042_pulse_reset;
    if (port == reset_control)
        return (value & reset_control_reset_cpu) != 0;
    return false;
}

} // namespace es::board
