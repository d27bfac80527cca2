// The guest conventions (README "Guest conventions", CONTRACT.md): where a flat image goes and
// the I/O ports it talks through.
#pragma once

#include <cstdint>

namespace es {

// Where an image is loaded and entered unless told otherwise (`run --load`, `--entry`), and the
// entry point of a VM whose start state was never set.
inline constexpr std::uint64_t default_image_gpa = 0x1000;

namespace ports {

// Each byte written here goes to the CLI's standard output.
inline constexpr std::uint16_t console = 0xe9;
// A write here ends the run with the value as the guest's exit code.
inline constexpr std::uint16_t exit_request = 0xf4;

} // namespace ports

} // namespace es
