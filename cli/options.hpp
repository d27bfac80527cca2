// Command-line parsing for `exitscope run`. Pure: unit-tested on the host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace es::cli {

// Decimal or 0x-prefixed hexadecimal, no sign, no trailing characters, no overflow.
std::optional<std::uint64_t> parse_number(const std::string& s);

struct run_options {
    std::uint32_t mode = 0; // enum es_guest_mode
    std::uint64_t mem_bytes = 2ull << 20;
    std::uint64_t load = 0x1000;
    std::optional<std::uint64_t> entry; // defaults to `load`
    std::uint64_t max_exits = 0;        // 0: no limit
    std::string backend = "exitscope";
    std::string image;
};

// Parses the arguments after `run`; on failure returns nullopt and sets `error` to a message
// that says what to do.
std::optional<run_options> parse_run_options(const std::vector<std::string>& args,
                                             std::string& error);

} // namespace es::cli
