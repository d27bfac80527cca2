// Module-wide state of the C++ core: the capability record, the controls every VM runs with,
// the parameters, the statistics of destroyed VMs and the flight recorder. Written once at load,
// read-only afterwards (counters, recorder and the VM list excepted: see stats.cpp and
// vm_registry.cpp).
#pragma once

#include <cstdint>

#include "pure/capabilities.hpp"
#include "pure/exit_counters.hpp"
#include "pure/flight_recorder.hpp"

struct es_vm;

namespace es {

struct core_state {
    vmx_msrs msrs;
    capabilities caps;
    vm_controls controls;
    bool cpuid_scope_global;
    instrument_level instrument;
    std::uint64_t outlier_cycles; // flight-recorder outlier threshold
    std::uint32_t preemption_slice_log2;
    std::uint32_t nr_cpus; // rows in every per-CPU array
    // Global statistics = the retired row (destroyed VMs, folded in) + the row of every live VM
    // - the baseline of the last reset; CPU scope = cpu_sums + the section running there -
    // cpu_baselines. See stats.cpp.
    counter_row* retired;
    counter_totals* baseline;
    es_vm* vm_list;             // live VMs, linked through es_vm::next_vm/prev_vm (vm_registry)
    reason_sums* cpu_sums;      // per CPU: counts and cycles of the guest sections that ended there
    reason_sums* cpu_baselines; // per CPU: its figures at the last reset
    const es_vm** running_vm;   // per CPU: the VM whose guest section runs there, or null
    cpu_recorder* recorders;    // one per CPU
    void* recorders_alloc;
    std::uint8_t reason_flags[nr_reasons]; // ES_REASON_* per reason, derived from exit_table.hpp
    std::uint64_t host_xcr0;
    std::uint64_t fpu_area_size;
    std::uint32_t host_max_basic_leaf; // CPUID.0:EAX, for the Linux guest's CPUID view
    std::uint32_t tsc_khz;             // the host TSC's frequency (Linux guests' leaves 0x15/0x16)
};

extern constinit core_state core;

// `p` moved up to the next multiple of `align` (a power of two), by pointer arithmetic.
inline void* align_up(void* p, std::uintptr_t align) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    return static_cast<char*>(p) + ((align - (addr & (align - 1))) & (align - 1));
}

} // namespace es
