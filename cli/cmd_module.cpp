// `exitscope info|reasons|reset`: the module's state, one ioctl each.
#include <cstdio>

#include "args.hpp"
#include "commands.hpp"
#include "device.hpp"
#include "format.hpp"
#include "stops.hpp"

namespace es::cli {

namespace {

// These commands print the whole usage after a mistake, as they always have.
int report(const CLI::App& app, const arg_problem& p) {
    if (p.what == arg_problem::kind::help) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    }
    std::fprintf(stderr, "exitscope: unexpected or incomplete argument '%s'\n%s", p.arg.c_str(),
                 usage);
    return status_usage;
}

// Parses a command that takes at most a --json flag.
std::optional<int> parse_json_flag(CLI::App& app, const words& args, bool* json) {
    configure(app);
    if (json)
        app.add_flag("--json", *json, "one JSON object");
    if (const auto problem = parse_args(app, args))
        return report(app, *problem);
    return std::nullopt;
}

// A read-only query: one ioctl filling a T, printed as text or (--json) JSON.
template <typename T>
int show(const words& args, CLI::App& app, unsigned long request, const char* what,
         std::string (*as_text)(const T&), std::string (*as_json)(const T&)) {
    bool json = false;
    if (const auto status = parse_json_flag(app, args, &json))
        return *status;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    T reply{};
    reply.size = sizeof reply;
    if (checked_ioctl(dev.get(), request, &reply, what) < 0)
        return status_error;
    std::fputs((json ? as_json(reply) : as_text(reply)).c_str(), stdout);
    return 0;
}

} // namespace

int cmd_info(const words& args) {
    CLI::App app("VMX capabilities, controls in use, per-CPU VMX state.", "exitscope info");
    return show<es_info>(args, app, ES_IOC_INFO, "reading VMX information", format_info_text,
                         format_info_json);
}

// `reasons [--json] [--paging ept|shadow]`: "enabled" is for a VM of that paging (EPT by default,
// what a VM gets unless it asks for shadow paging).
int cmd_reasons(const words& args) {
    CLI::App app("Every exit reason: defined by the SDM? enabled here, for an EPT VM or (--paging "
                 "shadow) a shadow-paging one?",
                 "exitscope reasons");
    configure(app);
    bool json = false;
    std::string paging = "ept";
    app.add_flag("--json", json, "one JSON object");
    app.add_option("--paging", paging, "whose reasons: ept (the default) or shadow")
        ->type_name("ept|shadow");
    if (const auto problem = parse_args(app, args))
        return report(app, *problem);
    if (paging != "ept" && paging != "shadow") {
        std::fprintf(stderr, "exitscope reasons: --paging %s: give ept or shadow\n",
                     paging.c_str());
        return status_usage;
    }
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    es_reasons reply{};
    reply.size = sizeof reply;
    reply.paging = paging == "shadow" ? ES_STATS_PAGING_SHADOW : ES_STATS_PAGING_EPT;
    if (checked_ioctl(dev.get(), ES_IOC_REASONS, &reply, "reading the exit reasons") < 0)
        return status_error;
    std::fputs((json ? format_reasons_json(reply) : format_reasons_table(reply)).c_str(), stdout);
    return 0;
}

int cmd_reset(const words& args) {
    CLI::App app("Start the global statistics afresh.", "exitscope reset");
    if (const auto status = parse_json_flag(app, args, nullptr))
        return *status;
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    return checked_ioctl(dev.get(), ES_IOC_RESET_STATS, nullptr, "resetting statistics") < 0
               ? status_error
               : 0;
}

} // namespace es::cli
