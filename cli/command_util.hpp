// What several subcommands share: reading the module's statistics and flight recorder, writing
// files, timers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exitscope/abi.h"
#include "vm_scope.hpp"

namespace es::cli {

// ES_IOC_STATS of `scope`; prints why on failure (errno kept). With `vm_gone`, a VM scope whose
// VM has ended sets it instead of printing (watch and record end there).
bool read_stats(int fd, es_stats& s, const stats_scope& scope = {}, bool* vm_gone = nullptr);

// ES_IOC_TRACE: the last `capacity` entries of a ring (of `vm`, 0: all VMs), oldest first.
bool read_trace(int fd, std::uint32_t vm, bool outliers, std::uint32_t capacity,
                std::vector<es_trace_entry>& entries, std::uint64_t& threshold);

// After a run that ended with the guest dying: the VM's last `n` exits from the flight recorder,
// under a heading, on standard error.
void print_last_exits(int dev_fd, std::uint32_t vm_id, unsigned n);

bool write_file(const std::string& path, const std::string& data);

double monotonic_seconds();
// Sleeps until `deadline` (CLOCK_MONOTONIC seconds); returns early when a signal arrives.
void sleep_until(double deadline);

// The file `name` in a PATH directory, executable; empty when there is none.
std::string find_in_path(const std::string& name);

} // namespace es::cli
