// Statistics readers and the live-VM registry (see stats.cpp).
#pragma once

#include <cstdint>

#include "vm.hpp"

namespace es {

// Link a new VM into / unlink a dying VM from the registry; unlinking folds its counters into
// the retired rows so global totals never go backwards.
void register_vm(es_vm& vm);
void unregister_vm(es_vm& vm);

// Counters for the CPUID leaves with cpuid_scope=global: one cell summed over every VM.
std::uint64_t global_count(std::uint32_t reason);
std::uint64_t global_cycles(std::uint32_t reason);

bool alloc_stats(std::uint32_t nr_cpus);
void free_stats();

} // namespace es
