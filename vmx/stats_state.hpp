// The state behind the statistics (stats.cpp) and the VM registry (vm_registry.cpp), and only
// theirs: nothing else includes this header. Everyone else goes through stats.hpp and
// vm_registry.hpp.
#pragma once

#include <cstdint>

#include "pure/exit_counters.hpp"
#include "pure/flight_recorder.hpp"
#include "vm.hpp"

namespace es {

struct stats_state {
    std::uint32_t nr_cpus; // rows in every per-CPU array
    // Global statistics = the retired row (destroyed VMs, folded in) + the row of every live VM
    // - the baseline of the last reset; CPU scope = cpu_sums + the section running there -
    // cpu_baselines.
    counter_row* retired;
    counter_totals* baseline;
    es_vm* vm_list;             // live VMs, linked through es_vm::next_vm/prev_vm
    reason_sums* cpu_sums;      // per CPU: counts and cycles of the guest sections that ended there
    reason_sums* cpu_baselines; // per CPU: its figures at the last reset
    const es_vcpu** running;    // per CPU: the vCPU whose guest section runs there, or null
    cpu_recorder* recorders;    // one per CPU
    void* recorders_alloc;
};

extern constinit stats_state stats;

// `f(vm)` for every live VM. The caller holds either registry lock (vm_registry.hpp).
template <typename F> void for_each_live_vm(F&& f) {
    for (const es_vm* vm = stats.vm_list; vm; vm = vm->next_vm)
        f(*vm);
}

} // namespace es
