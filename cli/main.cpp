// exitscope: run guests on the Exitscope hypervisor and read its exit counters.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "stops.hpp"

namespace es::cli {

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
    "  stat [--json|--csv] [--all] [--cpu N | --vm ID [--vcpu N]] [--save FILE]\n"
    "      [--since FILE] [--hist REASON]\n"
    "        per exit reason: count, share, cycles, min, max, mean, standard deviation (since\n"
    "        load or reset); --save FILE keeps a snapshot, --since FILE shows what happened\n"
    "        after it; --hist REASON (number or name, e.g. CPUID) draws its log2 histogram;\n"
    "        --vm ID: one running VM (since it was created), with a line per vCPU; --vcpu N:\n"
    "        one of its vCPUs (--vcpu alone: of the one running VM)\n"
    "  trace [--vm N] [--outliers] [--last N] [--json|--csv]\n"
    "        the flight recorder, oldest first: time (TSC ticks after the first shown), CPU,\n"
    "        VM, vCPU, reason, qualification, guest RIP, handling cycles; --outliers: the slow\n"
    "        exits\n"
    "  watch [--interval MS] [--filter TEXT] [--batch] [--count N] [--vm ID [--vcpu N]]\n"
    "        live exit counts and rates per second, busiest first (like kvm_stat); --batch\n"
    "        prints one block per interval without escape codes; --count N stops after N\n"
    "  record [--interval MS] -o FILE.csv|- [--duration MS] [--vm ID [--vcpu N]]\n"
    "      [-- RUN-OPTIONS IMAGE]\n"
    "        sample the global counters (or one VM's, one vCPU's: until it ends) every\n"
    "        interval (default 100 ms) for --duration, while\n"
    "        a guest runs (exit status: the run's), or until Ctrl-C. CSV columns: time_ms (since\n"
    "        the start), reason (number), name, count and cycles (cumulative), one row per\n"
    "        non-zero reason per sample\n"
    "  plot FILE.csv -o FILE.png [--title TEXT]\n"
    "        draw a record CSV with gnuplot: cumulative exits and exit rate per reason\n"
    "  reset                             start the global statistics afresh\n"
    "  reasons [--json] [--paging ept|shadow]\n"
    "                                    every exit reason: defined by the SDM? enabled here\n"
    "                                    (for an EPT VM, or a shadow-paging one)?\n"
    "  info [--json]                     VMX capabilities, controls in use, per-CPU VMX state\n"
    "  vms [--json]                      the VMs running now: the ids --vm takes, vCPUs, paging,\n"
    "                                    memory, exits, the process that runs each\n"
    "\n"
    "Exit status of run: 0 halted, the guest's code for OUT to port 0xF4, 70 unhandled exit,\n"
    "71 VM-entry failure, 72 triple fault, 73 access outside guest RAM, 74 --max-exits reached,\n"
    "75 machine reset (Linux guest), 76 guest RIP left its address space, 130 interrupted,\n"
    "1 other errors, 2 usage errors.\n";

namespace {

struct command {
    const char* name;
    int (*run)(const words&);
};

constexpr command commands[] = {
    {"run", cmd_run},         {"compare", cmd_compare}, {"stat", cmd_stat}, {"trace", cmd_trace},
    {"watch", cmd_watch},     {"record", cmd_record},   {"plot", cmd_plot}, {"reset", cmd_reset},
    {"reasons", cmd_reasons}, {"info", cmd_info},       {"vms", cmd_vms},
};

int dispatch(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        std::fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? status_usage : 0;
    }
    const std::string cmd = argv[1];
    const words args(argv + 2, argv + argc);
    for (const auto& c : commands)
        if (cmd == c.name)
            return c.run(args);
    std::fprintf(stderr, "exitscope: unknown command '%s'\n%s", cmd.c_str(), usage);
    return status_usage;
}

} // namespace

} // namespace es::cli

// No C++ exception leaves the program: whatever a library throws (an allocation failing, a
// parser's error this CLI did not foresee) ends in one message and status 1, not an abort.
int main(int argc, char** argv) {
    try {
        return es::cli::dispatch(argc, argv);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "exitscope: internal error: %s (please report it)\n", e.what());
    } catch (...) {
        std::fflush(stdout);
        std::fprintf(stderr, "exitscope: internal error: unknown exception (please report it)\n");
    }
    return es::cli::status_error;
}
