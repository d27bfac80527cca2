// Command-line parsing with CLI11, in the house style: each subcommand builds a CLI::App, and
// every problem becomes a message that says what to do (exit status 2) instead of CLI11's text.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace es::cli {

// What stopped a command line from parsing.
struct arg_problem {
    enum class kind {
        help,        // --help or -h: print app.help() on stdout, exit status 0
        needs_value, // `arg` is an option given without its value
        unexpected,  // `arg` is the first argument nothing takes
        other,       // `arg` is CLI11's own message
    } what;
    std::string arg;
};

// Sets the options every subcommand shares: -h/--help, the last value of a repeated option wins,
// unknown arguments are collected (so the message can name the first one) rather than thrown.
void configure(CLI::App& app);

// Parses `args` (the words after the subcommand). nullopt: everything was taken.
std::optional<arg_problem> parse_args(CLI::App& app, const std::vector<std::string>& args);

// The observe commands' messages: "exitscope CMD: --cpu needs a value (see exitscope --help)"
// and the like on stderr, or the help on stdout. Returns the exit status (0 or 2).
int report_problem(const char* cmd, const CLI::App& app, const arg_problem& p);

// A numeric option: absent gives `def`; present must be decimal or 0x-hex in [lo, hi], else
// "exitscope CMD: FLAG VALUE: give a number from LO to HI" and nullopt.
std::optional<std::uint64_t> number_arg(const char* cmd, const CLI::Option* opt,
                                        const std::string& value, std::uint64_t def,
                                        std::uint64_t lo, std::uint64_t hi);

} // namespace es::cli
