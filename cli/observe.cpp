// Pure helpers behind stat/trace/watch/record/plot.
#include "observe.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

#include "format.hpp"
#include "json_out.hpp"

namespace es::cli {

namespace {

std::string upper(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::uint64_t sub_clamped(std::uint64_t a, std::uint64_t b, bool& backwards) {
    if (a < b) {
        backwards = true;
        return 0;
    }
    return a - b;
}

} // namespace

// ---- statistics -------------------------------------------------------------------------------

double sumsq_value(const es_reason_stats& s) {
    return std::ldexp(static_cast<double>(s.sumsq_hi), 64) + static_cast<double>(s.sumsq_lo);
}

moments reason_moments(const es_reason_stats& s) {
    moments m;
    if (!s.count)
        return m;
    const double n = static_cast<double>(s.count);
    m.mean = static_cast<double>(s.cycles) / n;
    const double var = sumsq_value(s) / n - m.mean * m.mean;
    m.stddev = var > 0 ? std::sqrt(var) : 0;
    return m;
}

// ---- snapshots --------------------------------------------------------------------------------

stats_delta diff_stats(const es_stats& now, const es_stats& before) {
    stats_delta d{now, false};
    bool& back = d.went_backwards;
    d.stats.tsc = sub_clamped(now.tsc, before.tsc, back);
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
        const es_reason_stats& a = now.reasons[r];
        const es_reason_stats& b = before.reasons[r];
        es_reason_stats& o = d.stats.reasons[r];
        o.count = sub_clamped(a.count, b.count, back);
        o.cycles = sub_clamped(a.cycles, b.cycles, back);
        // min and max stay the current ones: they cannot be differenced.
        if (a.sumsq_hi < b.sumsq_hi || (a.sumsq_hi == b.sumsq_hi && a.sumsq_lo < b.sumsq_lo)) {
            back = true;
            o.sumsq_hi = o.sumsq_lo = 0;
        } else {
            o.sumsq_lo = a.sumsq_lo - b.sumsq_lo;
            o.sumsq_hi = a.sumsq_hi - b.sumsq_hi - (a.sumsq_lo < b.sumsq_lo ? 1 : 0);
        }
        for (unsigned i = 0; i < ES_HIST_BUCKETS; ++i)
            o.hist[i] = sub_clamped(a.hist[i], b.hist[i], back);
    }
    return d;
}

namespace {
constexpr char snapshot_magic[8] = {'E', 'S', 'S', 'N', 'A', 'P', '\r', '\n'};
constexpr std::size_t snapshot_header = 16;
} // namespace

std::string encode_snapshot(const es_stats& s) {
    std::string out(snapshot_header + sizeof s, '\0');
    const std::uint32_t version = snapshot_version;
    const std::uint32_t size = sizeof s;
    std::memcpy(out.data(), snapshot_magic, 8);
    std::memcpy(out.data() + 8, &version, 4);
    std::memcpy(out.data() + 12, &size, 4);
    std::memcpy(out.data() + snapshot_header, &s, sizeof s);
    return out;
}

std::optional<es_stats> decode_snapshot(const std::string& bytes, std::string& error) {
    if (bytes.size() < snapshot_header || std::memcmp(bytes.data(), snapshot_magic, 8) != 0) {
        error = "not an exitscope snapshot (take one with: exitscope stat --save FILE)";
        return std::nullopt;
    }
    std::uint32_t version, size;
    std::memcpy(&version, bytes.data() + 8, 4);
    std::memcpy(&size, bytes.data() + 12, 4);
    if (version != snapshot_version) {
        error = "snapshot format version " + std::to_string(version) + ", this CLI reads " +
                std::to_string(snapshot_version) + ": take the snapshot again with this CLI";
        return std::nullopt;
    }
    if (size != sizeof(es_stats) || bytes.size() != snapshot_header + size) {
        error = "snapshot holds " + std::to_string(bytes.size() - snapshot_header) +
                " bytes of statistics, this CLI expects " + std::to_string(sizeof(es_stats)) +
                ": the file is truncated or from another CLI version; take it again";
        return std::nullopt;
    }
    es_stats s;
    std::memcpy(&s, bytes.data() + snapshot_header, sizeof s);
    return s;
}

// ---- histogram --------------------------------------------------------------------------------

std::string bucket_range(unsigned b) {
    if (b == 0)
        return "0-1";
    const unsigned long long lo = 1ull << b;
    if (b + 1 >= ES_HIST_BUCKETS)
        return std::to_string(lo) + "+";
    return std::to_string(lo) + "-" + std::to_string((lo << 1) - 1);
}

std::string format_histogram(const es_reason_stats& s, std::uint32_t reason, unsigned width) {
    std::string out = fmt::format("Handling cycles of {} ({}): {} exits, log2 buckets\n",
                                  reason_key(reason), reason, group_digits(s.count));
    int first = -1, last = -1;
    std::uint64_t biggest = 0;
    for (unsigned i = 0; i < ES_HIST_BUCKETS; ++i)
        if (s.hist[i]) {
            if (first < 0)
                first = static_cast<int>(i);
            last = static_cast<int>(i);
            biggest = std::max(biggest, s.hist[i]);
        }
    if (first < 0) {
        out += "  (no timed exits: histograms need instrument=2 or more, the default is 3)\n";
        return out;
    }
    out += fmt::format("  {:>25} {:>12}\n", "cycles", "count");
    for (int i = first; i <= last; ++i) {
        const std::uint64_t c = s.hist[i];
        std::size_t bar =
            biggest ? static_cast<std::size_t>((c * width + biggest / 2) / biggest) : 0;
        if (c && !bar)
            bar = 1;
        out += fmt::format("  {:>25} {:>12} |", bucket_range(static_cast<unsigned>(i)),
                           group_digits(c));
        out += std::string(bar, '#');
        out += '\n';
    }
    const moments m = reason_moments(s);
    out += fmt::format("  min {}, max {}, mean {:.1f}, stddev {:.1f} cycles\n",
                       group_digits(s.min_cycles), group_digits(s.max_cycles), m.mean, m.stddev);
    return out;
}

// ---- flight recorder --------------------------------------------------------------------------

std::string format_trace_table(const std::vector<es_trace_entry>& entries) {
    std::string out =
        fmt::format("{:>14} {:>4} {:>5} {:>4}  {:<24} {:>18} {:>18} {:>10}\n", "time(+tsc)", "cpu",
                    "vm", "vcpu", "reason", "qualification", "rip", "cycles");
    if (entries.empty())
        return out + "  (no exits recorded: the flight recorder needs instrument=3, the default)\n";
    const std::uint64_t t0 = entries.front().tsc;
    for (const auto& e : entries)
        out += fmt::format("{:>14} {:>4} {:>5} {:>4}  {:<24} {} {} {:>10}\n",
                           static_cast<long long>(e.tsc - t0), e.cpu, e.vm, e.vcpu,
                           reason_label(e.reason), alt_hex(e.qualification, 18), alt_hex(e.rip, 18),
                           e.cycles ? group_digits(e.cycles) : "-");
    return out;
}

std::string format_trace_json(const std::vector<es_trace_entry>& entries, bool outliers,
                              std::uint64_t outlier_cycles) {
    const std::uint64_t t0 = entries.empty() ? 0 : entries.front().tsc;
    json list = json::array();
    for (const auto& e : entries)
        list.push_back({{"tsc", e.tsc},
                        {"rel", static_cast<long long>(e.tsc - t0)},
                        {"cpu", e.cpu},
                        {"vm", e.vm},
                        {"vcpu", e.vcpu},
                        {"reason", e.reason & 0xffff},
                        {"name", reason_key(e.reason & 0xffff)},
                        {"entry_failure", (e.reason & 0x80000000u) != 0},
                        {"qualification", e.qualification},
                        {"rip", e.rip},
                        {"cycles", e.cycles}});
    return to_json_text({{"ring", outliers ? "outliers" : "last"},
                         {"outlier_cycles", outlier_cycles},
                         {"entries", std::move(list)}});
}

std::string format_trace_csv(const std::vector<es_trace_entry>& entries) {
    std::string out = "tsc,rel_tsc,cpu,vm,vcpu,reason,name,qualification,rip,cycles\n";
    const std::uint64_t t0 = entries.empty() ? 0 : entries.front().tsc;
    for (const auto& e : entries)
        out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", e.tsc,
                           static_cast<long long>(e.tsc - t0), e.cpu, e.vm, e.vcpu,
                           e.reason & 0xffff, reason_label(e.reason), alt_hex(e.qualification, 0),
                           alt_hex(e.rip, 0), e.cycles);
    return out;
}

// ---- watch ------------------------------------------------------------------------------------

std::vector<rate_row> compute_rates(const es_stats& now, const es_stats& before, double seconds,
                                    const std::string& filter) {
    std::vector<rate_row> rows;
    const std::string want = upper(filter);
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
        const es_reason_stats& a = now.reasons[r];
        if (!a.count)
            continue;
        if (!want.empty() && std::string(reason_key(r)).find(want) == std::string::npos)
            continue;
        bool ignored = false;
        const std::uint64_t delta = sub_clamped(a.count, before.reasons[r].count, ignored);
        const std::uint64_t cycles = sub_clamped(a.cycles, before.reasons[r].cycles, ignored);
        rows.push_back(
            {r, a.count, delta, cycles, seconds > 0 ? static_cast<double>(delta) / seconds : 0.0});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const rate_row& a, const rate_row& b) {
        if (a.per_second != b.per_second)
            return a.per_second > b.per_second;
        return a.total > b.total;
    });
    return rows;
}

std::string format_watch(const std::vector<rate_row>& rows, double seconds, unsigned refresh) {
    std::string out = fmt::format("Exit rates over the last {:.2f} s (refresh {}; Ctrl-C quits)\n",
                                  seconds, refresh);
    out += fmt::format("{:>4}  {:<24} {:>14} {:>7} {:>12} {:>12}\n", "nr", "reason", "total",
                       "%total", "rate/s", "avg cycles");
    std::uint64_t total = 0, delta = 0;
    for (const auto& r : rows) {
        total += r.total;
        delta += r.delta;
    }
    for (const auto& r : rows) {
        const double share = total ? 100.0 * static_cast<double>(r.total) / total : 0;
        out += fmt::format("{:>4}  {:<24} {:>14} {:>6.1f}% {:>12.1f} {:>12}\n", r.reason,
                           reason_key(r.reason), group_digits(r.total), share, r.per_second,
                           r.delta ? group_digits(r.cycles / r.delta) : "-");
    }
    if (rows.empty())
        out += "      (no exits yet, or none matches the filter)\n";
    out += fmt::format("{:>4}  {:<24} {:>14} {:>7} {:>12.1f}\n", "", "total", group_digits(total),
                       "", seconds > 0 ? static_cast<double>(delta) / seconds : 0.0);
    return out;
}

} // namespace es::cli
