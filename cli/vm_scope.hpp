// The statistics scope that stat, watch and record read: global, one CPU (--cpu), one VM (--vm)
// or one of its vCPUs (--vcpu), and the live-VM list (`exitscope vms`, ES_IOC_VMS) that names
// them. Pure functions over plain data: unit-tested on the host (tests/unit/test_cli_vm_scope.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exitscope/abi.h"
#include "json_out.hpp"

namespace es::cli {

struct stats_scope {
    std::uint32_t scope = ES_SCOPE_GLOBAL;
    std::uint32_t cpu = 0;      // ES_SCOPE_CPU
    std::uint32_t vm_id = 0;    // ES_SCOPE_VM and ES_SCOPE_VCPU
    std::uint32_t vcpu = 0;     // ES_SCOPE_VCPU
    std::uint32_t vm_vcpus = 0; // the VM's vCPU count, when choose_vm_scope found it
};

// "global", "cpu3", "vm7" or "vm7.vcpu1": the "scope" of `stat --json` and of messages.
std::string scope_label(const stats_scope& s);

// The request of --vm/--vcpu as given (nullopt: not given) resolved against the live VMs: --vm
// must name one of them, --vcpu must be below its vCPU count, and --vcpu alone takes the one
// live VM. nullopt with `error` saying what to do otherwise.
std::optional<stats_scope> choose_vm_scope(const std::vector<es_vm_entry>& vms,
                                           std::optional<std::uint32_t> vm,
                                           std::optional<std::uint32_t> vcpu, std::string& error);

// What ES_IOC_STATS's errno means for this scope: ENOENT (the VM ended), ERANGE (no such vCPU).
std::optional<std::string> explain_scope_error(const stats_scope& s, int e);

// `exitscope vms`: one row per VM, oldest first; --json: {"vms":[{...}]}.
std::string format_vm_list(std::vector<es_vm_entry> vms);
std::string format_vm_list_json(std::vector<es_vm_entry> vms);

// One vCPU's line of `stat --vm`'s per-vCPU section: its exits, cycles and busiest reasons.
struct vcpu_figures {
    std::uint32_t vcpu;
    es_stats stats;
};
std::string format_vcpu_lines(const std::vector<vcpu_figures>& vcpus);
// `stat --json`'s "vcpus": [{"vcpu":N,"count":..,"cycles":..,"reasons":[{"reason":..,"name":..,
// "count":..,"cycles":..}, ...]}], reasons with exits only, in number order.
json vcpu_rows_json(const std::vector<vcpu_figures>& vcpus);

} // namespace es::cli
