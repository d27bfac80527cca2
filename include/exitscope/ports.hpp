// The guest's I/O ports of the guest conventions (README "Guest conventions").
#pragma once

#include <cstdint>

namespace es::ports {

// Each byte written here goes to the CLI's standard output.
inline constexpr std::uint16_t console = 0xe9;
// A write here ends the run with the value as the guest's exit code.
inline constexpr std::uint16_t exit_request = 0xf4;

} // namespace es::ports
