// Module-wide configuration of the C++ core: the capability record, the controls every VM runs
// with, the parameters and host facts. Written once at load, read-only afterwards. (The
// statistics, flight recorders and the VM list are the statistics code's: stats.hpp.)
#pragma once

#include <cstdint>

#include "pure/capabilities.hpp"
#include "pure/exit_counters.hpp"

namespace es {

// When the L1D is flushed before VM entry (L1TF; module/mitigations.c reads the host's policy).
enum class l1d_flush_rule : std::uint8_t {
    never,
    after_host, // before the first entry after host code ran: a section's start, a host turn
    every_entry,
};

struct core_state {
    vmx_msrs msrs;
    capabilities caps;
    vm_controls controls;
    // A shadow-paging VM's (shadow_paging_controls); shadow_problem: why there are none.
    vm_controls shadow_controls;
    const char* shadow_problem;
    vm_controls smp_controls; // a Linux VM of several vCPUs' (PAUSE-loop exiting)
    bool cpuid_scope_global;
    instrument_level instrument;
    std::uint64_t outlier_cycles; // flight-recorder outlier threshold
    std::uint32_t preemption_slice_log2;
    std::uint32_t shadow_prefetch; // a shadow fill's PTE prefetch window (mmu/shadow_prefetch.hpp)
    std::uint32_t nr_cpus;         // CPU ids (es_shim_nr_cpu_ids)
    std::uint8_t reason_flags[nr_reasons]; // ES_REASON_* per reason, derived from exit_table.hpp
    std::uint8_t shadow_reason_flags[nr_reasons]; // the same for a shadow-paging VM
    std::uint64_t host_xcr0;
    std::uint64_t fpu_area_size;
    std::uint32_t host_max_basic_leaf; // CPUID.0:EAX, for the Linux guest's CPUID view
    std::uint32_t tsc_khz;             // the host TSC's frequency (Linux guests' leaves 0x15/0x16)
    std::uint32_t entry_mitigations;   // ES_MITIGATE_* (exitscope info shows them)
    l1d_flush_rule l1d_flush;
};

extern constinit core_state core;

// `p` moved up to the next multiple of `align` (a power of two), by pointer arithmetic.
inline void* align_up(void* p, std::uintptr_t align) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    return static_cast<char*>(p) + ((align - (addr & (align - 1))) & (align - 1));
}

} // namespace es
