// `exitscope stat|trace|watch|record|plot`.
#include "observe_cmd.hpp"

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "device.hpp"
#include "format.hpp"
#include "observe.hpp"
#include "options.hpp"
#include "run.hpp"

namespace es::cli {

namespace {

// Flags without a value, flags with one, positional arguments; "--" ends the options and the
// rest is kept (for `record -- run options IMAGE`).
struct parsed_args {
    std::set<std::string> flags;
    std::map<std::string, std::string> values;
    std::vector<std::string> positional;
    std::vector<std::string> rest;
    bool dashdash = false;

    bool has(const char* f) const { return flags.count(f) != 0; }
    const std::string* value(const char* f) const {
        const auto it = values.find(f);
        return it == values.end() ? nullptr : &it->second;
    }
};

std::optional<parsed_args> parse_args(const char* cmd, const std::vector<std::string>& args,
                                      std::initializer_list<const char*> flags,
                                      std::initializer_list<const char*> with_value,
                                      std::size_t max_positional = 0, bool allow_rest = false) {
    auto in = [](std::initializer_list<const char*> l, const std::string& a) {
        for (const char* x : l)
            if (a == x)
                return true;
        return false;
    };
    parsed_args p;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--" && allow_rest) {
            p.dashdash = true;
            p.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (in(flags, a)) {
            p.flags.insert(a);
        } else if (in(with_value, a)) {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "exitscope %s: %s needs a value (see exitscope --help)\n", cmd,
                             a.c_str());
                return std::nullopt;
            }
            p.values[a] = args[++i];
        } else if ((a.empty() || a[0] != '-' || a == "-") && p.positional.size() < max_positional) {
            p.positional.push_back(a);
        } else {
            std::fprintf(stderr,
                         "exitscope %s: unexpected or incomplete argument '%s' (see exitscope "
                         "--help)\n",
                         cmd, a.c_str());
            return std::nullopt;
        }
    }
    return p;
}

// A numeric option: absent gives `def`; present must be a number in [lo, hi].
std::optional<std::uint64_t> number_opt(const char* cmd, const parsed_args& p, const char* flag,
                                        std::uint64_t def, std::uint64_t lo, std::uint64_t hi) {
    const std::string* v = p.value(flag);
    if (!v)
        return def;
    const auto n = parse_number(*v);
    if (!n || *n < lo || *n > hi) {
        std::fprintf(stderr, "exitscope %s: %s %s: give a number from %llu to %llu\n", cmd, flag,
                     v->c_str(), static_cast<unsigned long long>(lo),
                     static_cast<unsigned long long>(hi));
        return std::nullopt;
    }
    return n;
}

bool read_stats(int fd, es_stats& s, std::uint32_t scope = ES_SCOPE_GLOBAL, std::uint32_t cpu = 0) {
    s = es_stats{};
    s.size = sizeof s;
    s.scope = scope;
    s.cpu = cpu;
    return checked_ioctl(fd, ES_IOC_STATS, &s, "reading statistics") == 0;
}

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

bool write_file(const std::string& path, const std::string& data) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f)
        return false;
    const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
    return std::fclose(f) == 0 && ok;
}

double monotonic_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Sleeps until `deadline` (CLOCK_MONOTONIC seconds); returns early when a signal arrives.
void sleep_until(double deadline) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(deadline);
    ts.tv_nsec = static_cast<long>((deadline - static_cast<double>(ts.tv_sec)) * 1e9);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

volatile std::sig_atomic_t stop_requested = 0;
void on_stop_signal(int) {
    stop_requested = 1;
}
} // namespace

std::string find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t s = 0;
    for (;;) {
        const std::size_t c = dirs.find(':', s);
        std::string dir = dirs.substr(s, c == std::string::npos ? std::string::npos : c - s);
        if (dir.empty())
            dir = ".";
        std::string f = dir;
        f += '/';
        f += name;
        struct stat st {};
        if (stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(f.c_str(), X_OK) == 0)
            return f;
        if (c == std::string::npos)
            return "";
        s = c + 1;
    }
}

// ---- stat -------------------------------------------------------------------------------------

int cmd_stat(const std::vector<std::string>& args) {
    const auto p = parse_args("stat", args, {"--json", "--csv", "--all"},
                              {"--cpu", "--hist", "--save", "--since"});
    if (!p)
        return status_usage;
    if (p->has("--json") && p->has("--csv")) {
        std::fprintf(stderr, "exitscope stat: choose one of --json and --csv\n");
        return status_usage;
    }
    std::optional<std::uint32_t> hist_reason;
    if (const std::string* h = p->value("--hist")) {
        hist_reason = reason_by_name(*h);
        if (!hist_reason) {
            std::fprintf(stderr,
                         "exitscope stat: --hist %s: give an exit reason number (0-%u) or name "
                         "such as CPUID (exitscope reasons lists them)\n",
                         h->c_str(), static_cast<unsigned>(ES_NR_REASONS - 1));
            return status_usage;
        }
    }
    std::uint32_t scope = ES_SCOPE_GLOBAL, cpu = 0;
    std::string scope_name = "global";
    if (p->value("--cpu")) {
        const auto c = number_opt("stat", *p, "--cpu", 0, 0, 0xffffffffu);
        if (!c)
            return status_usage;
        scope = ES_SCOPE_CPU;
        cpu = static_cast<std::uint32_t>(*c);
        scope_name = "cpu" + std::to_string(cpu);
    }
    std::optional<es_stats> before;
    if (const std::string* f = p->value("--since")) {
        std::string bytes, error;
        if (!read_file(*f, bytes)) {
            std::fprintf(stderr, "exitscope stat: cannot read snapshot %s: %s\n", f->c_str(),
                         std::strerror(errno));
            return status_error;
        }
        before = decode_snapshot(bytes, error);
        if (!before) {
            std::fprintf(stderr, "exitscope stat: %s: %s\n", f->c_str(), error.c_str());
            return status_error;
        }
        if (before->scope != scope || (scope == ES_SCOPE_CPU && before->cpu != cpu)) {
            std::fprintf(stderr,
                         "exitscope stat: %s holds a snapshot of another scope (%s): use the "
                         "same --cpu as with --save\n",
                         f->c_str(),
                         before->scope == ES_SCOPE_CPU
                             ? ("cpu" + std::to_string(before->cpu)).c_str()
                             : "global");
            return status_usage;
        }
    }

    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    es_stats s;
    if (!read_stats(dev.get(), s, scope, cpu))
        return status_error;
    if (const std::string* f = p->value("--save")) {
        if (!write_file(*f, encode_snapshot(s))) {
            std::fprintf(stderr, "exitscope stat: cannot write snapshot %s: %s\n", f->c_str(),
                         std::strerror(errno));
            return status_error;
        }
        std::fprintf(stderr,
                     "exitscope: snapshot saved to %s (compare later with: exitscope stat "
                     "--since %s)\n",
                     f->c_str(), f->c_str());
    }
    std::string note;
    if (before) {
        const stats_delta d = diff_stats(s, *before);
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "Since the snapshot %s, %s TSC ticks ago.\n"
                      "  min and max are the current ones (since load): they cannot be "
                      "differenced.\n",
                      p->value("--since")->c_str(), group_digits(d.stats.tsc).c_str());
        note = buf;
        if (d.went_backwards)
            note += "  warning: some counters are lower than in the snapshot (exitscope reset "
                    "since?); they show as 0.\n";
        s = d.stats;
    }
    es_reasons r{};
    r.size = sizeof r;
    if (checked_ioctl(dev.get(), ES_IOC_REASONS, &r, "reading the exit reasons") < 0)
        return status_error;

    std::string out;
    if (hist_reason) {
        out = format_histogram(s.reasons[*hist_reason], *hist_reason);
        if (s.instrument < 2)
            out += "  (the module runs at instrument=" + std::to_string(s.instrument) +
                   ": histograms need 2 or more)\n";
        out += note;
    } else {
        const auto rows = make_rows(s, r);
        if (p->has("--json"))
            out = format_stat_json(rows, scope_name.c_str());
        else if (p->has("--csv"))
            out = format_stat_csv(rows);
        else
            out = format_stat_table(rows, p->has("--all"), scope_name.c_str(),
                                    (s.instrument < 2 ? "min/max/stddev need instrument=2 or "
                                                        "more (the module runs at " +
                                                            std::to_string(s.instrument) + ")\n"
                                                      : std::string()) +
                                        note);
        if ((p->has("--json") || p->has("--csv")) && !note.empty())
            std::fputs(note.c_str(), stderr);
    }
    if (before && !p->has("--json") && !p->has("--csv"))
        out = "Difference from the snapshot " + *p->value("--since") + ":\n" + out;
    std::fputs(out.c_str(), stdout);
    return 0;
}

// ---- trace ------------------------------------------------------------------------------------

namespace {

bool read_trace(int fd, std::uint32_t vm, bool outliers, std::uint32_t capacity,
                std::vector<es_trace_entry>& entries, std::uint64_t& threshold) {
    entries.assign(capacity, es_trace_entry{});
    es_trace t{};
    t.size = sizeof t;
    t.flags = outliers ? ES_TRACE_OUTLIER_RING : 0;
    t.vm = vm;
    t.entries = reinterpret_cast<std::uintptr_t>(entries.data());
    t.capacity = capacity;
    if (checked_ioctl(fd, ES_IOC_TRACE, &t, "reading the flight recorder") < 0)
        return false;
    entries.resize(std::min(t.count, capacity));
    threshold = t.outlier_cycles;
    return true;
}

} // namespace

int cmd_trace(const std::vector<std::string>& args) {
    const auto p = parse_args("trace", args, {"--outliers", "--json", "--csv"}, {"--vm", "--last"});
    if (!p)
        return status_usage;
    if (p->has("--json") && p->has("--csv")) {
        std::fprintf(stderr, "exitscope trace: choose one of --json and --csv\n");
        return status_usage;
    }
    const auto vm = number_opt("trace", *p, "--vm", 0, 0, 0xffffffffu);
    const std::uint64_t all = std::uint64_t{ES_MAX_INFO_CPUS} * ES_TRACE_RING;
    const auto last = number_opt("trace", *p, "--last", all, 1, all);
    if (!vm || !last)
        return status_usage;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    std::vector<es_trace_entry> entries;
    std::uint64_t threshold = 0;
    const bool outliers = p->has("--outliers");
    if (!read_trace(dev.get(), static_cast<std::uint32_t>(*vm), outliers,
                    static_cast<std::uint32_t>(*last), entries, threshold))
        return status_error;
    std::string out;
    if (p->has("--json"))
        out = format_trace_json(entries, outliers, threshold);
    else if (p->has("--csv"))
        out = format_trace_csv(entries);
    else {
        out =
            std::string("Flight recorder: ") +
            (outliers ? "outliers (handling took more than " + group_digits(threshold) + " cycles)"
                      : std::string("the last exits")) +
            (*vm ? ", VM " + std::to_string(*vm) : std::string()) + ", " +
            std::to_string(entries.size()) + " exit(s), oldest first\n";
        out += format_trace_table(entries);
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}

void print_last_exits(int dev_fd, std::uint32_t vm_id, unsigned n) {
    std::vector<es_trace_entry> entries;
    std::uint64_t threshold = 0;
    if (!read_trace(dev_fd, vm_id, false, n, entries, threshold))
        return;
    std::fprintf(stderr, "\nLast %zu exits of VM %u (flight recorder, oldest first):\n",
                 entries.size(), vm_id);
    std::fputs(format_trace_table(entries).c_str(), stderr);
}

// ---- watch ------------------------------------------------------------------------------------

int cmd_watch(const std::vector<std::string>& args) {
    const auto p = parse_args("watch", args, {"--batch"}, {"--interval", "--filter", "--count"});
    if (!p)
        return status_usage;
    const auto interval = number_opt("watch", *p, "--interval", 1000, 10, 3600000);
    const auto count = number_opt("watch", *p, "--count", 0, 1, 1000000000);
    if (!interval || !count)
        return status_usage;
    const std::string filter = p->value("--filter") ? *p->value("--filter") : "";
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    const bool redraw = !p->has("--batch") && isatty(STDOUT_FILENO);
    install_interrupt_handler(on_stop_signal);
    es_stats before, now;
    if (!read_stats(dev.get(), before))
        return status_error;
    double t_before = monotonic_seconds();
    double deadline = t_before;
    for (unsigned refresh = 1; !*count || refresh <= *count; ++refresh) {
        deadline += static_cast<double>(*interval) / 1000.0;
        sleep_until(deadline);
        if (stop_requested)
            break;
        if (!read_stats(dev.get(), now))
            return status_error;
        const double t_now = monotonic_seconds();
        const double seconds = t_now - t_before;
        const std::string block =
            format_watch(compute_rates(now, before, seconds, filter), seconds, refresh);
        if (redraw)
            std::fputs("\033[H\033[2J", stdout);
        else if (refresh > 1)
            std::fputs("\n", stdout);
        std::fputs(block.c_str(), stdout);
        std::fflush(stdout);
        before = now;
        t_before = t_now;
    }
    return 0;
}

// ---- record -----------------------------------------------------------------------------------

int cmd_record(const std::vector<std::string>& args) {
    const auto p = parse_args("record", args, {}, {"--interval", "-o", "--duration"}, 0, true);
    if (!p)
        return status_usage;
    const auto interval = number_opt("record", *p, "--interval", 100, 1, 3600000);
    const auto duration = number_opt("record", *p, "--duration", 0, 1, ~0ull / 2);
    if (!interval || !duration)
        return status_usage;
    const std::string* out_path = p->value("-o");
    if (!out_path) {
        std::fprintf(stderr, "exitscope record: give -o FILE.csv (or -o - for standard output)\n");
        return status_usage;
    }
    std::optional<run_options> run;
    if (p->dashdash) {
        std::string error;
        run = parse_run_options(p->rest, error);
        if (!run) {
            std::fprintf(stderr, "exitscope record: after --: %s\n", error.c_str());
            return status_usage;
        }
        if (run->backend != "exitscope") {
            std::fprintf(stderr,
                         "exitscope record: samples Exitscope's counters: drop --backend\n");
            return status_usage;
        }
    }
    const bool to_stdout = *out_path == "-";
    std::FILE* out = to_stdout ? stdout : std::fopen(out_path->c_str(), "w");
    if (!out) {
        std::fprintf(stderr, "exitscope record: cannot write %s: %s\n", out_path->c_str(),
                     std::strerror(errno));
        return status_error;
    }
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    es_stats s;
    if (!read_stats(dev.get(), s))
        return status_error;

    install_interrupt_handler(on_stop_signal);
    const double t0 = monotonic_seconds();
    std::fputs(record_csv_header, out);
    std::fputs(format_record_rows(0, s).c_str(), out);
    std::fflush(out);

    pid_t child = -1;
    if (run) {
        std::fflush(stderr);
        child = fork();
        if (child < 0) {
            std::fprintf(stderr, "exitscope record: fork failed: %s\n", std::strerror(errno));
            return status_error;
        }
        if (child == 0) {
            // The guest's console must not mix with the CSV on standard output.
            if (to_stdout)
                dup2(STDERR_FILENO, STDOUT_FILENO);
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            const int st = run_guest(*run);
            std::fflush(nullptr);
            std::_Exit(st);
        }
    }
    int status = 0;
    double deadline = t0;
    for (;;) {
        deadline += static_cast<double>(*interval) / 1000.0;
        if (*duration && !run && (deadline - t0) * 1000.0 > static_cast<double>(*duration) + 0.5)
            break;
        sleep_until(deadline);
        bool child_done = false;
        if (child > 0) {
            int ws = 0;
            const pid_t w = waitpid(child, &ws, WNOHANG);
            if (w == child) {
                child_done = true;
                status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            }
        }
        if (!read_stats(dev.get(), s))
            return status_error;
        const auto ms =
            static_cast<std::uint64_t>(std::llround((monotonic_seconds() - t0) * 1000.0));
        std::fputs(format_record_rows(ms, s).c_str(), out);
        std::fflush(out);
        if (child_done || (stop_requested && child <= 0))
            break;
        if (*duration && run && ms >= *duration) {
            // A guest outliving --duration is stopped like Ctrl-C would (it prints its summary).
            kill(child, SIGINT);
        }
    }
    if (!to_stdout && std::fclose(out) != 0) {
        std::fprintf(stderr, "exitscope record: writing %s failed: %s\n", out_path->c_str(),
                     std::strerror(errno));
        return status_error;
    }
    return status;
}

// ---- plot -------------------------------------------------------------------------------------

int cmd_plot(const std::vector<std::string>& args) {
    const auto p = parse_args("plot", args, {}, {"-o", "--title"}, 1);
    if (!p)
        return status_usage;
    if (p->positional.size() != 1 || !p->value("-o")) {
        std::fprintf(stderr, "exitscope plot: usage: exitscope plot FILE.csv -o FILE.png "
                             "[--title TEXT] (the CSV from exitscope record)\n");
        return status_usage;
    }
    const std::string& csv = p->positional[0];
    const std::string& png = *p->value("-o");
    std::string text, error;
    if (!read_file(csv, text)) {
        std::fprintf(stderr, "exitscope plot: cannot read %s: %s\n", csv.c_str(),
                     std::strerror(errno));
        return status_error;
    }
    const auto data = parse_record_csv(text, error);
    if (!data) {
        std::fprintf(stderr, "exitscope plot: %s: %s\n", csv.c_str(), error.c_str());
        return status_error;
    }
    const std::string gnuplot = find_in_path("gnuplot");
    if (gnuplot.empty()) {
        std::fprintf(stderr, "exitscope plot: gnuplot is not installed: install it with\n"
                             "  apt-get install gnuplot-nox     (or run tools/install-deps)\n");
        return status_error;
    }
    const std::string title =
        p->value("--title") ? *p->value("--title") : "VM exits recorded in " + csv;
    const std::string script = make_gnuplot_script(*data, png, title);
    char tmpl[] = "/tmp/exitscope-plot-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) {
        std::fprintf(stderr, "exitscope plot: cannot create a temporary file: %s\n",
                     std::strerror(errno));
        return status_error;
    }
    const bool written =
        write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size());
    close(fd);
    if (!written) {
        unlink(tmpl);
        std::fprintf(stderr, "exitscope plot: cannot write the gnuplot script\n");
        return status_error;
    }
    std::fflush(nullptr);
    const pid_t child = fork();
    if (child == 0) {
        execl(gnuplot.c_str(), "gnuplot", tmpl, static_cast<char*>(nullptr));
        std::fprintf(stderr, "exitscope plot: cannot run %s: %s\n", gnuplot.c_str(),
                     std::strerror(errno));
        std::_Exit(127);
    }
    int ws = 0;
    const bool ran = child > 0 && waitpid(child, &ws, 0) == child;
    unlink(tmpl);
    struct stat st {};
    if (!ran || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || stat(png.c_str(), &st) != 0 ||
        st.st_size == 0) {
        std::fprintf(stderr, "exitscope plot: gnuplot failed to draw %s (its messages are above)\n",
                     png.c_str());
        return status_error;
    }
    std::fprintf(stderr, "exitscope: wrote %s (%zu reasons, %zu samples)\n", png.c_str(),
                 data->reasons.size(), data->times_ms.size());
    return 0;
}

} // namespace es::cli
