// --vm and --vcpu (scope_args.hpp).
#include "scope_args.hpp"

#include <cstdio>
#include <sys/ioctl.h>

#include "args.hpp"
#include "device.hpp"
#include "stops.hpp"

namespace es::cli {

void add_vm_scope_options(CLI::App& app, vm_scope_words& w) {
    w.vm_opt = app.add_option("--vm", w.vm, "one VM's counters (exitscope vms lists them)")
                   ->type_name("ID");
    w.vcpu_opt = app.add_option("--vcpu", w.vcpu,
                                "one vCPU's counters (of --vm, or of the one "
                                "running VM)")
                     ->type_name("N");
}

std::optional<std::vector<es_vm_entry>> list_vms(int dev_fd) {
    // The list can grow between the two calls: ask again with room for what the first counted.
    std::vector<es_vm_entry> entries(16);
    for (int tries = 0; tries < 8; ++tries) {
        es_vms v{};
        v.size = sizeof v;
        v.capacity = static_cast<std::uint32_t>(entries.size());
        v.entries = reinterpret_cast<std::uintptr_t>(entries.data());
        if (checked_ioctl(dev_fd, ES_IOC_VMS, &v, "listing the VMs") < 0)
            return std::nullopt;
        if (v.count <= entries.size()) {
            entries.resize(v.count);
            return entries;
        }
        entries.resize(v.count + 16);
    }
    std::fprintf(stderr, "exitscope: listing the VMs failed: VMs come and go too fast\n");
    return std::nullopt;
}

bool check_vm_scope_numbers(const char* cmd, vm_scope_words& w) {
    if (w.vm_opt->count()) {
        const auto n = number_arg(cmd, w.vm_opt, w.vm, 0, 1, 0xffffffffu);
        if (!n)
            return false;
        w.vm_id = static_cast<std::uint32_t>(*n);
    }
    if (w.vcpu_opt->count()) {
        const auto n = number_arg(cmd, w.vcpu_opt, w.vcpu, 0, 0, ES_MAX_VCPUS - 1);
        if (!n)
            return false;
        w.vcpu_index = static_cast<std::uint32_t>(*n);
    }
    return true;
}

std::optional<stats_scope> resolve_vm_scope(const char* cmd, int dev_fd, const vm_scope_words& w,
                                            int& status) {
    status = status_error;
    const auto vms = list_vms(dev_fd);
    if (!vms)
        return std::nullopt;
    std::string error;
    auto s = choose_vm_scope(*vms, w.vm_id, w.vcpu_index, error);
    if (!s)
        std::fprintf(stderr, "exitscope %s: %s\n", cmd, error.c_str());
    return s;
}

} // namespace es::cli
