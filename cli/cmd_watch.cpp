// `exitscope watch`: live exit counts and rates, busiest first (like kvm_stat).
#include <cstdio>
#include <unistd.h>

#include "args.hpp"
#include "command_util.hpp"
#include "commands.hpp"
#include "device.hpp"
#include "observe.hpp"
#include "scope_args.hpp"
#include "signals.hpp"
#include "stops.hpp"

namespace es::cli {

int cmd_watch(const words& args) {
    CLI::App app("Live exit counts and rates per second, busiest first.", "exitscope watch");
    configure(app);
    bool batch = false;
    std::string interval_word, count_word, filter;
    const CLI::Option* interval_opt =
        app.add_option("--interval", interval_word, "milliseconds between refreshes (1000)")
            ->type_name("MS");
    app.add_option("--filter", filter, "only reasons whose name contains this")->type_name("TEXT");
    app.add_flag("--batch", batch, "one block per interval, without escape codes");
    const CLI::Option* count_opt =
        app.add_option("--count", count_word, "stop after N blocks")->type_name("N");
    vm_scope_words vm_words;
    add_vm_scope_options(app, vm_words);
    if (const auto problem = parse_args(app, args))
        return report_problem("watch", app, *problem);
    const auto interval = number_arg("watch", interval_opt, interval_word, 1000, 10, 3600000);
    const auto count = number_arg("watch", count_opt, count_word, 0, 1, 1000000000);
    if (!interval || !count || !check_vm_scope_numbers("watch", vm_words))
        return status_usage;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    stats_scope scope;
    if (vm_words.given()) {
        int status = 0;
        const auto s = resolve_vm_scope("watch", dev.get(), vm_words, status);
        if (!s)
            return status;
        scope = *s;
    }
    const bool redraw = !batch && isatty(STDOUT_FILENO);
    install_stop_handler();
    es_stats before, now;
    if (!read_stats(dev.get(), before, scope))
        return status_error;
    double t_before = monotonic_seconds();
    double deadline = t_before;
    for (unsigned refresh = 1; !*count || refresh <= *count; ++refresh) {
        deadline += static_cast<double>(*interval) / 1000.0;
        sleep_until(deadline);
        if (stop_requested)
            break;
        bool vm_gone = false;
        if (!read_stats(dev.get(), now, scope, &vm_gone)) {
            if (!vm_gone)
                return status_error;
            std::fprintf(stderr, "exitscope watch: VM %u ended\n", scope.vm_id);
            return 0;
        }
        const double t_now = monotonic_seconds();
        const double seconds = t_now - t_before;
        const std::string block =
            format_watch(compute_rates(now, before, seconds, filter), seconds, refresh) +
            (scope.scope == ES_SCOPE_GLOBAL ? "" : "(" + scope_label(scope) + ")\n");
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

} // namespace es::cli
