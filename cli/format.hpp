// Text and JSON rendering of stat, reasons and info. Pure functions over plain data: unit-tested on
// the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exitscope/abi.h"
#include "text.hpp"
#include "vm_scope.hpp"

namespace es::cli {

struct reason_row {
    std::uint32_t reason;
    bool defined;
    bool enabled;
    std::uint64_t count;
    std::uint64_t cycles;
    std::uint64_t min = 0; // min/max/mean/stddev/hist need instrument level 2 or more
    std::uint64_t max = 0;
    double mean = 0;
    double stddev = 0;
    std::vector<std::uint64_t> hist = {};
};

// Rows for every reason number in the ABI's arrays, from a stats and a reasons reply.
std::vector<reason_row> make_rows(const es_stats& stats, const es_reasons& reasons);

// `exitscope stat`: number, name, count, share, cycles, min, max, mean, standard deviation;
// sorted by count (then number); zero-count rows only with `all`. `note` goes below the table.
std::string format_stat_table(const std::vector<reason_row>& rows, bool all, const char* scope,
                              const std::string& note = "");
// `exitscope stat --json`: every defined reason, in number order, with min/max/mean/stddev and
// the log2 histogram; "paging" is paging_words(paging), null for 0; "vcpus" (vcpu_rows_json)
// last, only when `vcpus` has rows (a VM's scope).
std::string format_stat_json(const std::vector<reason_row>& rows, const char* scope,
                             std::uint32_t paging = 0, const std::vector<vcpu_figures>& vcpus = {});
// `exitscope stat --csv`: a header, then every defined reason in number order.
std::string format_stat_csv(const std::vector<reason_row>& rows);

// A VM's second-level translation in the words of `run --paging`: "ept" or "shadow".
const char* paging_name(bool shadow);
// es_stats.paging (ES_STATS_PAGING_*): "ept", "shadow", "ept+shadow" (VMs of both kinds are in
// the figures), "" for 0 (no VM ran, CPU scope, or a module older than the field).
std::string paging_words(std::uint32_t paging);
// The line `stat` prints under its table for es_stats.paging ("" for 0).
std::string paging_stat_line(std::uint32_t paging);

// The paging a VM can get on this CPU, from `info`: EPT where EPT VMs can run
// (runs_ept_guests); shadow paging where its controls fit the CPU. `preferred` is run's default.
struct paging_offer {
    bool ept = false, shadow = false;
    const char* preferred() const { return ept ? "ept" : shadow ? "shadow" : nullptr; }
};
paging_offer paging_offered(const es_info& info);

std::string format_reasons_table(const es_reasons& reasons);
std::string format_reasons_json(const es_reasons& reasons);

// What the module does before VM entry for the host's CPU-bug mitigations (es_info's
// entry_mitigations): "VERW, L1D flush (after host code ran)", or "nothing (...)".
std::string entry_mitigations_text(const es_info& info);
std::string format_info_text(const es_info& info);
std::string format_info_json(const es_info& info);

} // namespace es::cli
