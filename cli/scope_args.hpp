// --vm ID and --vcpu N of stat, watch and record: the options, and their resolution against the
// module's live VMs (ES_IOC_VMS) into a statistics scope (vm_scope.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vm_scope.hpp"

namespace es::cli {

struct vm_scope_words {
    std::string vm, vcpu;
    const CLI::Option* vm_opt = nullptr;
    const CLI::Option* vcpu_opt = nullptr;
    std::optional<std::uint32_t> vm_id, vcpu_index; // check_vm_scope_numbers' results
    bool given() const { return vm_opt->count() || vcpu_opt->count(); }
};

void add_vm_scope_options(CLI::App& app, vm_scope_words& w);

// The numbers of --vm (1 and up) and --vcpu (below ES_MAX_VCPUS), checked as the command line is
// (before the device is opened); false after "exitscope CMD: --vm 0: give a number ...".
bool check_vm_scope_numbers(const char* cmd, vm_scope_words& w);

// The scope of --vm/--vcpu (check_vm_scope_numbers passed), checked against the live VMs;
// nullopt after a message
// ("exitscope CMD: ..."), with `status` set.
std::optional<stats_scope> resolve_vm_scope(const char* cmd, int dev_fd, const vm_scope_words& w,
                                            int& status);

// ES_IOC_VMS: every live VM; nullopt after a message.
std::optional<std::vector<es_vm_entry>> list_vms(int dev_fd);

} // namespace es::cli
