// The subcommands of `exitscope`: each parses its own words (after the command name) with CLI11
// and returns the process exit status documented in the README.
#pragma once

#include <string>
#include <vector>

namespace es::cli {

using words = std::vector<std::string>;

int cmd_run(const words& args);
int cmd_compare(const words& args);
int cmd_stat(const words& args);
int cmd_trace(const words& args);
int cmd_watch(const words& args);
int cmd_record(const words& args);
int cmd_plot(const words& args);
int cmd_reset(const words& args);
int cmd_reasons(const words& args);
int cmd_info(const words& args);
int cmd_vms(const words& args);

// The top-level usage text (`exitscope --help`), printed after top-level usage errors too.
extern const char usage[];

} // namespace es::cli
