// `exitscope record`: sample the global counters into a CSV, optionally while a guest runs.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sys/wait.h>
#include <unistd.h>

#include "args.hpp"
#include "command_util.hpp"
#include "commands.hpp"
#include "device.hpp"
#include "observe.hpp"
#include "options.hpp"
#include "run_flow.hpp"
#include "scope_args.hpp"
#include "signals.hpp"
#include "stops.hpp"

namespace es::cli {

namespace {

struct record_request {
    std::uint64_t interval_ms = 100, duration_ms = 0;
    std::string out_path;
    std::optional<run_options> run;
    vm_scope_words vm_words;
    stats_scope scope; // --vm/--vcpu, once the device is open
};

// "--" ends record's own options: the rest are `run` options and the IMAGE.
std::optional<record_request> parse_record(const words& args, int& status) {
    const auto dashdash = std::find(args.begin(), args.end(), "--");
    const words own(args.begin(), dashdash);
    CLI::App app("Sample the global counters every interval into a CSV (time_ms, reason, name, "
                 "count, cycles), while a guest runs (-- RUN-OPTIONS IMAGE) or until Ctrl-C.",
                 "exitscope record");
    configure(app);
    app.footer("After --: the options of exitscope run and the IMAGE (exitscope run --help).");
    std::string interval, duration;
    record_request q;
    const CLI::Option* interval_opt =
        app.add_option("--interval", interval, "milliseconds between samples (100)")
            ->type_name("MS");
    const CLI::Option* out_opt =
        app.add_option("-o", q.out_path, "FILE.csv, or - for stdout")->type_name("FILE.csv|-");
    const CLI::Option* duration_opt =
        app.add_option("--duration", duration, "stop after this many milliseconds")
            ->type_name("MS");
    add_vm_scope_options(app, q.vm_words);
    if (const auto problem = parse_args(app, own)) {
        status = report_problem("record", app, *problem);
        return std::nullopt;
    }
    status = status_usage;
    const auto iv = number_arg("record", interval_opt, interval, 100, 1, 3600000);
    const auto du = number_arg("record", duration_opt, duration, 0, 1, ~0ull / 2);
    if (!iv || !du || !check_vm_scope_numbers("record", q.vm_words))
        return std::nullopt;
    q.interval_ms = *iv;
    q.duration_ms = *du;
    if (!out_opt->count()) {
        std::fprintf(stderr, "exitscope record: give -o FILE.csv (or -o - for standard output)\n");
        return std::nullopt;
    }
    if (dashdash != args.end() && q.vm_words.given()) {
        std::fprintf(stderr, "exitscope record: the VM of -- gets its id when it starts: record "
                             "it without --vm/--vcpu, or give --vm of a VM that runs now\n");
        return std::nullopt;
    }
    if (dashdash != args.end()) {
        std::string error;
        q.run = parse_run_options(words(dashdash + 1, args.end()), error);
        if (!q.run) {
            std::fprintf(stderr, "exitscope record: after --: %s\n", error.c_str());
            return std::nullopt;
        }
        if (q.run->backend != "exitscope") {
            std::fprintf(stderr,
                         "exitscope record: samples Exitscope's counters: drop --backend\n");
            return std::nullopt;
        }
    }
    return q;
}

// Runs the guest in a child process; its console must not mix with a CSV on standard output.
pid_t start_guest(const run_options& run, bool to_stdout) {
    std::fflush(stderr);
    const pid_t child = fork();
    if (child < 0) {
        std::fprintf(stderr, "exitscope record: fork failed: %s\n", std::strerror(errno));
        return child;
    }
    if (child == 0) {
        if (to_stdout)
            dup2(STDERR_FILENO, STDOUT_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        const int st = run_guest(run);
        std::fflush(nullptr);
        std::_Exit(st);
    }
    return child;
}

// Samples until the guest ends, --duration passes or a signal; returns the exit status.
int sample(int dev, const record_request& q, std::FILE* out, double t0, pid_t child) {
    int status = 0;
    double deadline = t0;
    es_stats s;
    for (;;) {
        deadline += static_cast<double>(q.interval_ms) / 1000.0;
        if (q.duration_ms && !q.run &&
            (deadline - t0) * 1000.0 > static_cast<double>(q.duration_ms) + 0.5)
            break;
        sleep_until(deadline);
        bool child_done = false;
        if (child > 0) {
            int ws = 0;
            if (waitpid(child, &ws, WNOHANG) == child) {
                child_done = true;
                status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            }
        }
        bool vm_gone = false;
        if (!read_stats(dev, s, q.scope, &vm_gone)) {
            if (!vm_gone)
                return status_error;
            std::fprintf(stderr, "exitscope record: VM %u ended\n", q.scope.vm_id);
            break;
        }
        const auto ms =
            static_cast<std::uint64_t>(std::llround((monotonic_seconds() - t0) * 1000.0));
        std::fputs(format_record_rows(ms, s).c_str(), out);
        std::fflush(out);
        if (child_done || (stop_requested && child <= 0))
            break;
        // A guest outliving --duration is stopped like Ctrl-C would (it prints its summary).
        if (q.duration_ms && q.run && ms >= q.duration_ms)
            kill(child, SIGINT);
    }
    return status;
}

} // namespace

int cmd_record(const words& args) {
    int status = 0;
    auto q = parse_record(args, status);
    if (!q)
        return status;
    const bool to_stdout = q->out_path == "-";
    std::FILE* out = to_stdout ? stdout : std::fopen(q->out_path.c_str(), "w");
    if (!out) {
        std::fprintf(stderr, "exitscope record: cannot write %s: %s\n", q->out_path.c_str(),
                     std::strerror(errno));
        return status_error;
    }
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    if (q->vm_words.given()) {
        const auto scope = resolve_vm_scope("record", dev.get(), q->vm_words, status);
        if (!scope)
            return status;
        q->scope = *scope;
    }
    es_stats s;
    if (!read_stats(dev.get(), s, q->scope))
        return status_error;
    install_stop_handler();
    const double t0 = monotonic_seconds();
    std::fputs(record_csv_header, out);
    std::fputs(format_record_rows(0, s).c_str(), out);
    std::fflush(out);
    pid_t child = -1;
    if (q->run && (child = start_guest(*q->run, to_stdout)) < 0)
        return status_error;
    status = sample(dev.get(), *q, out, t0, child);
    if (!to_stdout && std::fclose(out) != 0) {
        std::fprintf(stderr, "exitscope record: writing %s failed: %s\n", q->out_path.c_str(),
                     std::strerror(errno));
        return status_error;
    }
    return status;
}

} // namespace es::cli
