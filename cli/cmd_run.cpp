// `exitscope run` and `exitscope compare`: option parsing, then the run flow.
#include <cstdio>

#include "commands.hpp"
#include "compare.hpp"
#include "options.hpp"
#include "run_flow.hpp"
#include "stops.hpp"

namespace es::cli {

namespace {

// Parses run options; nullopt with `status` set after --help (0) or a mistake (2).
std::optional<run_options> parse_or_report(const words& args, int& status) {
    std::string error, help;
    auto o = parse_run_options(args, error, &help);
    if (o)
        return o;
    if (error.empty()) {
        std::fputs(help.c_str(), stdout);
        status = 0;
    } else {
        std::fprintf(stderr, "exitscope: %s\n", error.c_str());
        status = status_usage;
    }
    return std::nullopt;
}

} // namespace

int cmd_run(const words& args) {
    int status = 0;
    const auto o = parse_or_report(args, status);
    if (!o)
        return status;
    return run_guest(*o);
}

int cmd_compare(const words& args) {
    for (const auto& a : args)
        if (a == "--backend" || a == "--max-exits") {
            std::fprintf(stderr, "exitscope: compare runs both backends to their stop: drop "
                                 "--backend and --max-exits\n");
            return status_usage;
        }
    int status = 0;
    const auto o = parse_or_report(args, status);
    if (!o)
        return status;
    if (!o->kernel.empty()) {
        std::fprintf(stderr, "exitscope: compare does not boot kernels yet: use run --kernel\n");
        return status_usage;
    }
    return compare_backends(*o);
}

} // namespace es::cli
