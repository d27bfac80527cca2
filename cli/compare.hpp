// `exitscope compare`: run one image under the Exitscope backend, then under KVM, print both
// consoles and summaries, and say whether both stopped the same way with identical consoles.
// Each run happens in a child process whose stdout/stderr are captured, so it behaves exactly as
// `exitscope run --backend X` would. The comparison and its text are pure (unit-tested).
#pragma once

#include <string>

#include "options.hpp"

namespace es::cli {

// What one backend's run produced.
struct backend_outcome {
    std::string backend;  // "exitscope" or "kvm"
    std::string console;  // the guest's port-0xE9 bytes (the run's standard output)
    std::string messages; // the run's standard error: the summary line, or error messages
    int status = 0;       // the run's exit status
};

// How the run stopped, comparable across backends: "halted", "exit code N", the stop table's kind
// for the status ("unhandled exit", "triple fault", ...: stops.cpp), "interrupted", "error",
// "usage error", "unknown stop".
std::string stop_kind(const backend_outcome& o);

// Where two consoles differ: "" when identical, else e.g.
// `differ at byte 6 (line 1): exitscope has "real mode!\n", kvm has "REAL mode!\n"`.
std::string console_difference(const backend_outcome& a, const backend_outcome& b);

struct comparison {
    bool same;
    std::string verdict; // one line, starting "compare: "
};
comparison compare_outcomes(const backend_outcome& a, const backend_outcome& b);

// One backend's labelled block: console then summary.
std::string format_outcome(const backend_outcome& o);

// Runs both backends (Exitscope first) and prints everything on stdout. Returns 0 when both
// stopped the same way with identical consoles, 1 otherwise, 130 when interrupted by a signal.
int compare_backends(const run_options& o);

} // namespace es::cli
