// How a run ends, for every backend: the stop record a backend fills, and the one table that
// gives each stop (enum es_stop, include/exitscope/abi.h) its summary text and exit status.
#pragma once

#include <cstdint>
#include <string>

namespace es::cli {

// Process exit statuses (README: "Exit status"). A halted guest ends with 0, an exit request
// with the guest's code (low 8 bits); the table below gives every other stop its own.
inline constexpr int status_error = 1;
inline constexpr int status_usage = 2;
inline constexpr int status_unhandled = 70;
inline constexpr int status_entry_failed = 71;
inline constexpr int status_triple_fault = 72;
inline constexpr int status_ept_violation = 73;
inline constexpr int status_exit_limit = 74;
inline constexpr int status_reset = 75; // a Linux guest reset the machine (reboot, panic=N)
inline constexpr int status_rip_wrap = 76;
inline constexpr int status_interrupted = 130;

// How a run stopped, in Exitscope's terms, whichever backend ran it.
struct stop_record {
    std::uint32_t stop = 0;      // enum es_stop; 0 while the guest runs
    bool interrupted = false;    // SIGINT/SIGTERM ended the run first (`stop` is then 0)
    std::uint64_t exit_code = 0; // ES_STOP_EXIT_REQUEST
    std::uint64_t gpa = 0;       // ES_STOP_EPT_VIOLATION
    std::uint64_t rip = 0;
    // The backend's own words for the stop, where the summary names it: the exit reason and
    // qualification, a VM-instruction error, KVM's exit name.
    std::string detail;
};

// One row of the stop table.
struct stop_entry {
    std::uint32_t stop; // enum es_stop
    // The exit status; status_from_guest: the guest's exit code; status_none: the run goes on
    // (ES_STOP_CONSOLE_FULL: the console is drained and the guest resumed, never summarized).
    int status;
    // How `compare` names the stop (stop_kind); nullptr where it reads the summary instead.
    const char* kind;
    // The guest died of it: the Exitscope backend shows its last exits after the summary.
    bool guest_died;
    // The summary's text between "TAG: " and ": COUNTS".
    std::string (*describe)(const stop_record& r);
};
inline constexpr int status_from_guest = -1;
inline constexpr int status_none = -2;

// The row for `stop`; a value the table does not know reads as an unhandled exit.
const stop_entry& find_stop(std::uint32_t stop);
// Every row, in es_stop order (for tests and the README's table).
const stop_entry* stop_table_begin();
const stop_entry* stop_table_end();

// The row whose status is `status` (not status_from_guest/status_none), or nullptr.
const stop_entry* find_stop_by_status(int status);

// The one-line summary `run` prints on standard error, and the exit status for it.
struct stop_summary {
    std::string line;
    int status;
};
// "TAG: TEXT: COUNTS": `counts` is the backend's tally ("5 exits, 1234 cycles in the
// hypervisor"; "3 exits seen by user space (KVM counted: ...)").
stop_summary summarize_stop(const stop_record& r, const char* tag, const std::string& counts);

} // namespace es::cli
