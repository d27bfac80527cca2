// exitscope: run guests on the Exitscope hypervisor and read its exit counters.
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/ioctl.h>
#include <vector>

#include "compare.hpp"
#include "device.hpp"
#include "format.hpp"
#include "kvm_backend.hpp"
#include "observe_cmd.hpp"
#include "options.hpp"
#include "run.hpp"

namespace {

using namespace es::cli;

const char usage[] =
    "usage: exitscope COMMAND [options]\n"
    "\n"
    "  run [--mode real|protected|long] [--mem MIB] [--load GPA] [--entry GPA]\n"
    "      [--max-exits N] [--backend exitscope|kvm] IMAGE\n"
    "        run a flat binary guest; its port-0xE9 output goes to stdout, a summary to stderr\n"
    "        (--backend kvm: the same guest and start state under /dev/kvm)\n"
    "  compare [run options but --backend and --max-exits] IMAGE\n"
    "        run it under Exitscope, then KVM; print both consoles and summaries; exit status\n"
    "        0 when both stop the same way with identical consoles, else 1\n"
    "  stat [--json|--csv] [--all] [--cpu N] [--save FILE] [--since FILE] [--hist REASON]\n"
    "        per exit reason: count, share, cycles, min, max, mean, standard deviation (since\n"
    "        load or reset); --save FILE keeps a snapshot, --since FILE shows what happened\n"
    "        after it; --hist REASON (number or name, e.g. CPUID) draws its log2 histogram\n"
    "  trace [--vm N] [--outliers] [--last N] [--json|--csv]\n"
    "        the flight recorder, oldest first: time (TSC ticks after the first shown), CPU,\n"
    "        VM, reason, qualification, guest RIP, handling cycles; --outliers: the slow exits\n"
    "  watch [--interval MS] [--filter TEXT] [--batch] [--count N]\n"
    "        live exit counts and rates per second, busiest first (like kvm_stat); --batch\n"
    "        prints one block per interval without escape codes; --count N stops after N\n"
    "  record [--interval MS] -o FILE.csv|- [--duration MS] [-- RUN-OPTIONS IMAGE]\n"
    "        sample the global counters every interval (default 100 ms) for --duration, while\n"
    "        a guest runs (exit status: the run's), or until Ctrl-C. CSV columns: time_ms (since\n"
    "        the start), reason (number), name, count and cycles (cumulative), one row per\n"
    "        non-zero reason per sample\n"
    "  plot FILE.csv -o FILE.png [--title TEXT]\n"
    "        draw a record CSV with gnuplot: cumulative exits and exit rate per reason\n"
    "  reset                             start the global statistics afresh\n"
    "  reasons [--json]                  every exit reason: defined by the SDM? enabled here?\n"
    "  info [--json]                     VMX capabilities, controls in use, per-CPU VMX state\n"
    "\n"
    "Exit status of run: 0 halted, the guest's code for OUT to port 0xF4, 70 unhandled exit,\n"
    "71 VM-entry failure, 72 triple fault, 73 access outside guest RAM, 74 --max-exits reached,\n"
    "130 interrupted, "
    "1 other errors, 2 usage errors.\n";

bool has_flag(const std::vector<std::string>& args, const char* flag) {
    for (const auto& a : args)
        if (a == flag)
            return true;
    return false;
}

bool listed(std::initializer_list<const char*> list, const std::string& a) {
    for (const char* l : list)
        if (a == l)
            return true;
    return false;
}

// Every argument must be a flag in `allowed`, or a flag in `with_value` followed by its value.
bool check_flags(const std::vector<std::string>& args, std::initializer_list<const char*> allowed,
                 std::initializer_list<const char*> with_value = {}) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (listed(allowed, args[i]))
            continue;
        if (listed(with_value, args[i]) && i + 1 < args.size()) {
            ++i;
            continue;
        }
        std::fprintf(stderr, "exitscope: unexpected or incomplete argument '%s'\n%s",
                     args[i].c_str(), usage);
        return false;
    }
    return true;
}

bool get_reasons(int fd, es_reasons& r) {
    r = es_reasons{};
    r.size = sizeof r;
    return checked_ioctl(fd, ES_IOC_REASONS, &r, "reading the exit reasons") == 0;
}

int cmd_info(const std::vector<std::string>& args) {
    if (!check_flags(args, {"--json"}))
        return status_usage;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    es_info info{};
    info.size = sizeof info;
    if (checked_ioctl(dev.get(), ES_IOC_INFO, &info, "reading VMX information") < 0)
        return status_error;
    const std::string out =
        has_flag(args, "--json") ? format_info_json(info) : format_info_text(info);
    std::fputs(out.c_str(), stdout);
    return 0;
}

int cmd_reasons(const std::vector<std::string>& args) {
    if (!check_flags(args, {"--json"}))
        return status_usage;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    es_reasons r;
    if (!get_reasons(dev.get(), r))
        return status_error;
    const std::string out =
        has_flag(args, "--json") ? format_reasons_json(r) : format_reasons_table(r);
    std::fputs(out.c_str(), stdout);
    return 0;
}

int cmd_reset(const std::vector<std::string>& args) {
    if (!check_flags(args, {}))
        return status_usage;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    return checked_ioctl(dev.get(), ES_IOC_RESET_STATS, nullptr, "resetting statistics") < 0
               ? status_error
               : 0;
}

int cmd_run(const std::vector<std::string>& args) {
    std::string error;
    const auto o = parse_run_options(args, error);
    if (!o) {
        std::fprintf(stderr, "exitscope: %s\n", error.c_str());
        return status_usage;
    }
    return o->backend == "kvm" ? run_kvm(*o) : run_guest(*o);
}

int cmd_compare(const std::vector<std::string>& args) {
    if (has_flag(args, "--backend") || has_flag(args, "--max-exits")) {
        std::fprintf(stderr, "exitscope: compare runs both backends to their stop: drop "
                             "--backend and --max-exits\n");
        return status_usage;
    }
    std::string error;
    const auto o = parse_run_options(args, error);
    if (!o) {
        std::fprintf(stderr, "exitscope: %s\n", error.c_str());
        return status_usage;
    }
    return compare_backends(*o);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        std::fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? status_usage : 0;
    }
    const std::string cmd = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (cmd == "run")
        return cmd_run(args);
    if (cmd == "compare")
        return cmd_compare(args);
    if (cmd == "stat")
        return cmd_stat(args);
    if (cmd == "trace")
        return cmd_trace(args);
    if (cmd == "watch")
        return cmd_watch(args);
    if (cmd == "record")
        return cmd_record(args);
    if (cmd == "plot")
        return cmd_plot(args);
    if (cmd == "reset")
        return cmd_reset(args);
    if (cmd == "reasons")
        return cmd_reasons(args);
    if (cmd == "info")
        return cmd_info(args);
    std::fprintf(stderr, "exitscope: unknown command '%s'\n%s", cmd.c_str(), usage);
    return status_usage;
}
