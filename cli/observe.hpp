// Observation helpers for stat/trace/watch/record/plot. Pure functions over plain data, so every
// piece is unit-tested on the host (tests/unit/test_cli_observe.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exitscope/abi.h"
#include "reason_names.hpp"

namespace es::cli {

// ---- statistics -------------------------------------------------------------------------------

// Mean and standard deviation of one reason's handling cycles, in double math:
// var = sumsq/n - mean^2, clamped at 0 (rounding can make it slightly negative).
struct moments {
    double mean = 0;
    double stddev = 0;
};
moments reason_moments(const es_reason_stats& s);

// The 128-bit sum of squares as a double.
double sumsq_value(const es_reason_stats& s);

// ---- snapshots --------------------------------------------------------------------------------

// `now - before`: counts, cycles, sums of squares and histograms subtract; min and max are the
// current ones (they cannot be differenced); tsc becomes the interval. `went_backwards` is set
// (and the field clamped to 0) when a counter is smaller now than in the snapshot: the statistics
// were reset in between.
struct stats_delta {
    es_stats stats;
    bool went_backwards = false;
};
stats_delta diff_stats(const es_stats& now, const es_stats& before);

// The snapshot file of `stat --save`: 8-byte magic "ESSNAP\r\n", u32 format version, u32
// sizeof(es_stats), then the raw es_stats. decode checks all of it.
inline constexpr std::uint32_t snapshot_version = 1;
std::string encode_snapshot(const es_stats& s);
std::optional<es_stats> decode_snapshot(const std::string& bytes, std::string& error);

// ---- histogram --------------------------------------------------------------------------------

// "128-255" for bucket 7; bucket 0 is "0-1"; the last bucket is "2^39+" style open-ended.
std::string bucket_range(unsigned bucket);
// The log2 histogram of one reason: one line per bucket from the first to the last non-empty
// one, range, count and a bar of '#' scaled so the biggest bucket gets `width` characters.
std::string format_histogram(const es_reason_stats& s, std::uint32_t reason, unsigned width = 50);

// ---- flight recorder --------------------------------------------------------------------------

// Oldest first, as ES_IOC_TRACE returns them. Relative time is the TSC delta from the first.
std::string format_trace_table(const std::vector<es_trace_entry>& entries);
std::string format_trace_json(const std::vector<es_trace_entry>& entries, bool outliers,
                              std::uint64_t outlier_cycles);
std::string format_trace_csv(const std::vector<es_trace_entry>& entries);

// ---- watch ------------------------------------------------------------------------------------

struct rate_row {
    std::uint32_t reason;
    std::uint64_t total;  // cumulative count now
    std::uint64_t delta;  // exits in the interval
    std::uint64_t cycles; // handling cycles in the interval
    double per_second;
};
// Rows for every reason with a non-zero total whose name contains `filter` (case-insensitive;
// empty: all), sorted by rate, then total, then number.
std::vector<rate_row> compute_rates(const es_stats& now, const es_stats& before, double seconds,
                                    const std::string& filter);
std::string format_watch(const std::vector<rate_row>& rows, double seconds, unsigned refresh);

// ---- record / plot ----------------------------------------------------------------------------

// The CSV of `record`: header, then one row per non-zero reason per sample, cumulative values.
inline constexpr const char* record_csv_header = "time_ms,reason,name,count,cycles\n";
std::string format_record_rows(std::uint64_t time_ms, const es_stats& s);

// A parsed record CSV: the sample times and, per reason seen, its cumulative count at each
// sample (0 before the reason first appears).
struct series {
    std::uint32_t reason;
    std::string name;
    std::vector<std::uint64_t> counts; // one per time
};
struct record_data {
    std::vector<std::uint64_t> times_ms;
    std::vector<series> reasons; // by total count, biggest first
};
std::optional<record_data> parse_record_csv(const std::string& text, std::string& error);

// A gnuplot script (data inline) drawing two panels into `png`: the cumulative exits per reason
// over time and the per-interval rate (exits per second).
std::string make_gnuplot_script(const record_data& d, const std::string& png,
                                const std::string& title);

} // namespace es::cli
