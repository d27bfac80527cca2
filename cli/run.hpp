// `exitscope run`: create a VM, load the image, run it to a stop, print console and summary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "exitscope/abi.h"
#include "options.hpp"

namespace es::cli {

// Returns the process exit status documented in the README.
int run_guest(const run_options& o);

// The image of `o`, read from a regular file no bigger than the guest's RAM; nullopt after
// printing why not ("TAG: cannot read image ...").
std::optional<std::string> read_image(const run_options& o, const char* tag);

// Exit statuses for stops other than "halted" (0) and "exit request" (the guest's code).
inline constexpr int status_usage = 2;
inline constexpr int status_error = 1;
inline constexpr int status_unhandled = 70;
inline constexpr int status_entry_failed = 71;
inline constexpr int status_triple_fault = 72;
inline constexpr int status_ept_violation = 73;
inline constexpr int status_exit_limit = 74;
inline constexpr int status_interrupted = 130;

// The one-line summary `run` prints on standard error, and the exit status for it.
struct stop_summary {
    std::string line;
    int status;
};
stop_summary summarize_stop(const es_run& r, std::uint64_t exits, std::uint64_t cycles,
                            bool interrupted);

} // namespace es::cli
