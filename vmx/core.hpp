// Module-wide state of the C++ core: the capability record, the controls every VM runs with,
// the parameters, the statistics of destroyed VMs and the flight recorder. Written once at load,
// read-only afterwards (counters, recorder and the VM list excepted: see stats.cpp).
#pragma once

#include <cstdint>

#include "capabilities.hpp"
#include "exit_counters.hpp"
#include "flight_recorder.hpp"

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
    // Global statistics = the retired rows (VMs already destroyed, folded in) plus the rows of
    // every live VM, minus the per-CPU baselines of the last reset. All under the registry lock.
    counter_row* retired_rows; // one per CPU
    void* retired_alloc;
    counter_totals* baselines; // one per CPU
    es_vm* vm_list;            // live VMs, linked through es_vm::next_vm/prev_vm
    cpu_recorder* recorders;   // one per CPU
    void* recorders_alloc;
    std::uint8_t reason_flags[nr_reasons]; // ES_REASON_* per reason, derived from exit_table.hpp
    std::uint64_t host_xcr0;
    std::uint64_t fpu_area_size;
};

extern constinit core_state core;

// `p` moved up to the next multiple of `align` (a power of two), by pointer arithmetic.
inline void* align_up(void* p, std::uintptr_t align) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    return static_cast<char*>(p) + ((align - (addr & (align - 1))) & (align - 1));
}

// Cache-line aligned array of `n` rows from the shim allocator; `alloc` receives what to free.
counter_row* alloc_counter_rows(std::uint32_t n, void** alloc);

} // namespace es
