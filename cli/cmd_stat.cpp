// `exitscope stat`: per-reason counts, cycles and moments; snapshots; histograms.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sys/ioctl.h>

#include "args.hpp"
#include "command_util.hpp"
#include "commands.hpp"
#include "device.hpp"
#include "format.hpp"
#include "input_file.hpp"
#include "observe.hpp"
#include "scope_args.hpp"
#include "stops.hpp"

namespace es::cli {

namespace {

struct stat_request {
    bool json = false, csv = false, all = false;
    std::optional<std::uint32_t> hist_reason;
    stats_scope scope; // --cpu here; --vm/--vcpu once the device is open (vm_words)
    vm_scope_words vm_words;
    std::string save, since; // empty: not given
};

// Parses and checks the words; nullopt with `status` set when the command should stop.
std::optional<stat_request> parse_stat(const words& args, int& status) {
    CLI::App app("Per exit reason: count, share, cycles, min, max, mean, standard deviation "
                 "(since load or reset).",
                 "exitscope stat");
    configure(app);
    stat_request q;
    std::string cpu, hist;
    app.add_flag("--json", q.json, "one JSON object");
    app.add_flag("--csv", q.csv, "CSV, every defined reason");
    app.add_flag("--all", q.all, "show reasons without exits too");
    const CLI::Option* cpu_opt = app.add_option("--cpu", cpu, "one CPU's counters")->type_name("N");
    add_vm_scope_options(app, q.vm_words);
    app.add_option("--hist", hist, "log2 histogram of one reason (number or name, e.g. CPUID)")
        ->type_name("REASON");
    app.add_option("--save", q.save, "keep a snapshot in this file")->type_name("FILE");
    app.add_option("--since", q.since, "show what happened after this snapshot")->type_name("FILE");
    if (const auto problem = parse_args(app, args)) {
        status = report_problem("stat", app, *problem);
        return std::nullopt;
    }
    status = status_usage;
    if (q.json && q.csv) {
        std::fprintf(stderr, "exitscope stat: choose one of --json and --csv\n");
        return std::nullopt;
    }
    if (app.count("--hist")) {
        q.hist_reason = reason_by_name(hist);
        if (!q.hist_reason) {
            std::fprintf(stderr,
                         "exitscope stat: --hist %s: give an exit reason number (0-%u) or name "
                         "such as CPUID (exitscope reasons lists them)\n",
                         hist.c_str(), static_cast<unsigned>(ES_NR_REASONS - 1));
            return std::nullopt;
        }
    }
    if (cpu_opt->count() && q.vm_words.given()) {
        std::fprintf(stderr, "exitscope stat: --cpu reads a host CPU, --vm and --vcpu a VM: "
                             "choose one\n");
        return std::nullopt;
    }
    if (!check_vm_scope_numbers("stat", q.vm_words))
        return std::nullopt;
    if (cpu_opt->count()) {
        const auto c = number_arg("stat", cpu_opt, cpu, 0, 0, 0xffffffffu);
        if (!c)
            return std::nullopt;
        q.scope.scope = ES_SCOPE_CPU;
        q.scope.cpu = static_cast<std::uint32_t>(*c);
    }
    return q;
}

// The snapshot of --since, checked: a regular file of bounded size, of the same scope.
std::optional<es_stats> load_snapshot(const stat_request& q, int& status) {
    status = status_error;
    input_error why{};
    const auto bytes =
        read_input_file(q.since, snapshot_max_bytes, "a snapshot may be (1 MiB)", why);
    if (!bytes) {
        std::fprintf(stderr, "exitscope stat: cannot read snapshot %s: %s\n", q.since.c_str(),
                     why.why.c_str());
        return std::nullopt;
    }
    std::string error;
    auto before = decode_snapshot(*bytes, error);
    if (!before)
        std::fprintf(stderr, "exitscope stat: %s: %s\n", q.since.c_str(), error.c_str());
    return before;
}

// The snapshot of --since must be of the scope asked for now (checked once --vm is resolved).
bool same_scope(const stat_request& q, const es_stats& before) {
    const stats_scope then{before.scope, before.cpu, before.vm_id, before.vcpu};
    if (scope_label(then) == scope_label(q.scope))
        return true;
    std::fprintf(stderr,
                 "exitscope stat: %s holds a snapshot of another scope (%s): use the same "
                 "--cpu, --vm and --vcpu as with --save\n",
                 q.since.c_str(), scope_label(then).c_str());
    return false;
}

// ES_IOC_STATS; a CPU the module refuses is explained with the CPU count.
bool read_scoped_stats(int fd, const stat_request& q, es_stats& s) {
    if (q.scope.scope != ES_SCOPE_CPU)
        return read_stats(fd, s, q.scope);
    s = es_stats{};
    s.size = sizeof s;
    s.scope = q.scope.scope;
    s.cpu = q.scope.cpu;
    if (ioctl(fd, ES_IOC_STATS, &s) == 0)
        return true;
    const int e = errno;
    es_info info{};
    info.size = sizeof info;
    std::optional<std::string> why;
    if (e == EINVAL && ioctl(fd, ES_IOC_INFO, &info) == 0)
        why = explain_cpu_error(q.scope.cpu, info.nr_cpus);
    report_failure("exitscope", "reading statistics", e, why ? *why : errno_advice(e));
    return false;
}

std::string delta_note(const std::string& since, const stats_delta& d) {
    std::string note = "Since the snapshot " + since + ", " + group_digits(d.stats.tsc) +
                       " TSC ticks ago.\n"
                       "  min and max are the current ones (since load): they cannot be "
                       "differenced.\n";
    if (d.went_backwards)
        note += "  warning: some counters are lower than in the snapshot (exitscope reset "
                "since?); they show as 0.\n";
    return note;
}

// A VM's scope shows each of its vCPUs too (not for --since: those are totals).
std::optional<std::vector<vcpu_figures>> read_vcpu_rows(int fd, const stat_request& q) {
    std::vector<vcpu_figures> rows;
    if (q.scope.scope != ES_SCOPE_VM || !q.since.empty() || q.scope.vm_vcpus < 2)
        return rows;
    for (std::uint32_t i = 0; i < q.scope.vm_vcpus; ++i) {
        stats_scope one = q.scope;
        one.scope = ES_SCOPE_VCPU;
        one.vcpu = i;
        vcpu_figures f{i, {}};
        if (!read_stats(fd, f.stats, one))
            return std::nullopt;
        rows.push_back(f);
    }
    return rows;
}

std::string render(const stat_request& q, const es_stats& s, const es_reasons& r,
                   const std::vector<vcpu_figures>& vcpus, const std::string& note) {
    // A CPU keeps counts and cycles only (the timing statistics are kept per VM).
    const bool cpu_scope = q.scope.scope == ES_SCOPE_CPU;
    const std::string label = scope_label(q.scope);
    if (q.hist_reason) {
        std::string out = format_histogram(s.reasons[*q.hist_reason], *q.hist_reason);
        if (cpu_scope)
            out += "  (one CPU's statistics have no histograms: drop --cpu)\n";
        else if (s.instrument < 2)
            out += "  (the module runs at instrument=" + std::to_string(s.instrument) +
                   ": histograms need 2 or more)\n";
        return out + note;
    }
    const auto rows = make_rows(s, r);
    if (q.json || q.csv) {
        if (!note.empty())
            std::fputs(note.c_str(), stderr);
        return q.json ? format_stat_json(rows, label.c_str(), s.paging, vcpus)
                      : format_stat_csv(rows);
    }
    std::string level_note;
    if (cpu_scope)
        level_note = "one CPU's statistics are counts and cycles: min/max/stddev are kept per VM "
                     "and globally (drop --cpu)\n";
    else if (s.instrument < 2)
        level_note = "min/max/stddev need instrument=2 or more (the module runs at " +
                     std::to_string(s.instrument) + ")\n";
    return format_stat_table(rows, q.all, label.c_str(),
                             paging_stat_line(s.paging) + level_note + format_vcpu_lines(vcpus) +
                                 note);
}

} // namespace

int cmd_stat(const words& args) {
    int status = 0;
    auto q = parse_stat(args, status);
    if (!q)
        return status;
    std::optional<es_stats> before;
    if (!q->since.empty() && !(before = load_snapshot(*q, status)))
        return status;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    if (q->vm_words.given()) {
        const auto scope = resolve_vm_scope("stat", dev.get(), q->vm_words, status);
        if (!scope)
            return status;
        q->scope = *scope;
    }
    if (before && !same_scope(*q, *before))
        return status_usage;
    es_stats s;
    if (!read_scoped_stats(dev.get(), *q, s))
        return status_error;
    const auto vcpus = read_vcpu_rows(dev.get(), *q);
    if (!vcpus)
        return status_error;
    if (!q->save.empty()) {
        if (!write_file(q->save, encode_snapshot(s))) {
            std::fprintf(stderr, "exitscope stat: cannot write snapshot %s: %s\n", q->save.c_str(),
                         std::strerror(errno));
            return status_error;
        }
        std::fprintf(stderr,
                     "exitscope: snapshot saved to %s (compare later with: exitscope stat "
                     "--since %s)\n",
                     q->save.c_str(), q->save.c_str());
    }
    std::string note;
    if (before) {
        const stats_delta d = diff_stats(s, *before);
        note = delta_note(q->since, d);
        s = d.stats;
    }
    es_reasons r{};
    r.size = sizeof r;
    r.paging = s.paging; // "enabled" for the kinds of VM in the figures
    if (checked_ioctl(dev.get(), ES_IOC_REASONS, &r, "reading the exit reasons") < 0)
        return status_error;
    std::string out = render(*q, s, r, *vcpus, note);
    if (before && !q->json && !q->csv)
        out = "Difference from the snapshot " + q->since + ":\n" + out;
    std::fputs(out.c_str(), stdout);
    return 0;
}

} // namespace es::cli
