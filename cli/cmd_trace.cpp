// `exitscope trace`: the flight recorder, oldest first.
#include <cstdio>

#include "args.hpp"
#include "command_util.hpp"
#include "commands.hpp"
#include "device.hpp"
#include "observe.hpp"
#include "stops.hpp"

namespace es::cli {

int cmd_trace(const words& args) {
    CLI::App app("The flight recorder, oldest first: time (TSC ticks after the first shown), "
                 "CPU, VM, reason, qualification, guest RIP, handling cycles.",
                 "exitscope trace");
    configure(app);
    bool outliers = false, json = false, csv = false;
    std::string vm_word, last_word;
    app.add_flag("--outliers", outliers, "the slow exits instead of the last ones");
    app.add_flag("--json", json, "one JSON object");
    app.add_flag("--csv", csv, "CSV");
    const CLI::Option* vm_opt =
        app.add_option("--vm", vm_word, "only this VM's exits")->type_name("N");
    const CLI::Option* last_opt =
        app.add_option("--last", last_word, "at most this many exits")->type_name("N");
    if (const auto problem = parse_args(app, args))
        return report_problem("trace", app, *problem);
    if (json && csv) {
        std::fprintf(stderr, "exitscope trace: choose one of --json and --csv\n");
        return status_usage;
    }
    const auto vm = number_arg("trace", vm_opt, vm_word, 0, 0, 0xffffffffu);
    const std::uint64_t all = std::uint64_t{ES_MAX_INFO_CPUS} * ES_TRACE_RING;
    const auto last = number_arg("trace", last_opt, last_word, all, 1, all);
    if (!vm || !last)
        return status_usage;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    std::vector<es_trace_entry> entries;
    std::uint64_t threshold = 0;
    if (!read_trace(dev.get(), static_cast<std::uint32_t>(*vm), outliers,
                    static_cast<std::uint32_t>(*last), entries, threshold))
        return status_error;
    std::string out;
    if (json)
        out = format_trace_json(entries, outliers, threshold);
    else if (csv)
        out = format_trace_csv(entries);
    else
        out =
            "Flight recorder: " +
            (outliers ? "outliers (handling took more than " + group_digits(threshold) + " cycles)"
                      : std::string("the last exits")) +
            (*vm ? ", VM " + std::to_string(*vm) : std::string()) + ", " +
            std::to_string(entries.size()) + " exit(s), oldest first\n" +
            format_trace_table(entries);
    std::fputs(out.c_str(), stdout);
    return 0;
}

} // namespace es::cli
