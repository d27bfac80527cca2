// Statistics readers and the live-VM registry (see stats.cpp).
#pragma once

#include <cstdint>

#include "vm.hpp"

namespace es {

// Link a new VM into / unlink a dying VM from the registry; unlinking folds its counters into
// the retired row so global totals never go backwards. Process context.
void register_vm(es_vm& vm);
void unregister_vm(es_vm& vm);

// A guest section of `vm` starts / ends on `cpu` (interrupts off): per-CPU figures and whole
// snapshots of a running VM depend on these.
void begin_section(es_vm& vm, std::uint32_t cpu);
void end_section(es_vm& vm, std::uint32_t cpu);

// Figures for the CPUID leaves with cpuid_scope=global, every VM since load or the last reset.
std::uint64_t global_count(std::uint32_t reason);
std::uint64_t global_cycles(std::uint32_t reason);
std::uint64_t global_exits();
std::uint64_t global_exit_cycles();

bool alloc_stats(std::uint32_t nr_cpus);
void free_stats();

} // namespace es
