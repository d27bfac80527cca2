// Module-wide state of the C++ core: the capability record, the controls every VM runs with,
// the parameters and the global counter rows. Written once at load, read-only afterwards (the
// counter rows excepted).
#pragma once

#include <cstdint>

#include "capabilities.hpp"
#include "exit_counters.hpp"

namespace es {

struct core_state {
    vmx_msrs msrs;
    capabilities caps;
    vm_controls controls;
    bool cpuid_scope_global;
    bool instrument;
    std::uint32_t preemption_slice_log2;
    std::uint32_t nr_cpus;    // rows in every per-CPU array
    counter_row* global_rows; // one per CPU
    void* global_rows_alloc;
    counter_snapshot global_baseline;      // subtracted by "since last reset" readers
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
