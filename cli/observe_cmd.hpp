// The observation commands: stat, trace, watch, record, plot (device access, timers, processes).
// Their pure parts live in observe.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace es::cli {

int cmd_stat(const std::vector<std::string>& args);
int cmd_trace(const std::vector<std::string>& args);
int cmd_watch(const std::vector<std::string>& args);
int cmd_record(const std::vector<std::string>& args);
int cmd_plot(const std::vector<std::string>& args);

// After a run that ended with the guest dying: the VM's last `n` exits from the flight recorder,
// under a heading, on standard error. Quiet about nothing: says so when the recorder is off.
void print_last_exits(int dev_fd, std::uint32_t vm_id, unsigned n);

// The file `name` in a PATH directory, executable; empty when there is none.
std::string find_in_path(const std::string& name);

} // namespace es::cli
