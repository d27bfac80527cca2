// Text and JSON rendering for the CLI. Pure functions over plain data: unit-tested on the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exitscope/abi.h"

namespace es::cli {

struct reason_row {
    std::uint32_t reason;
    bool defined;
    bool enabled;
    std::uint64_t count;
    std::uint64_t cycles;
};

// Rows for every reason number in the ABI's arrays, from a stats and a reasons reply.
std::vector<reason_row> make_rows(const es_stats& stats, const es_reasons& reasons);

// `exitscope stat`: number, name, count, cycles, average, share; sorted by count (then number);
// zero-count rows only with `all`.
std::string format_stat_table(const std::vector<reason_row>& rows, bool all, const char* scope);
// `exitscope stat --json`: every defined reason, in number order.
std::string format_stat_json(const std::vector<reason_row>& rows, const char* scope);

std::string format_reasons_table(const es_reasons& reasons);
std::string format_reasons_json(const es_reasons& reasons);

std::string format_info_text(const es_info& info);
std::string format_info_json(const es_info& info);

// "12,345" style grouping for big counters.
std::string group_digits(std::uint64_t v);
std::string json_escape(const std::string& s);

} // namespace es::cli
