// `exitscope vms`: the VMs that run now, with the ids that stat, watch and record --vm take.
#include <cstdio>

#include "args.hpp"
#include "commands.hpp"
#include "device.hpp"
#include "scope_args.hpp"
#include "stops.hpp"

namespace es::cli {

int cmd_vms(const words& args) {
    CLI::App app("The VMs that run now: id, vCPUs, paging, memory, exits, the process that "
                 "created each.",
                 "exitscope vms");
    configure(app);
    bool as_json = false;
    app.add_flag("--json", as_json, "one JSON object");
    if (const auto problem = parse_args(app, args))
        return report_problem("vms", app, *problem);
    const fd_handle dev = open_device();
    if (!dev.valid())
        return status_error;
    const auto vms = list_vms(dev.get());
    if (!vms)
        return status_error;
    std::fputs((as_json ? format_vm_list_json(*vms) : format_vm_list(*vms)).c_str(), stdout);
    return 0;
}

} // namespace es::cli
