// What several subcommands share: reading the module's statistics and flight recorder, writing
// files, timers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exitscope/abi.h"

namespace es::cli {

// ES_IOC_STATS; prints why on failure.
bool read_stats(int fd, es_stats& s, std::uint32_t scope = ES_SCOPE_GLOBAL, std::uint32_t cpu = 0);

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
