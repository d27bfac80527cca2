// Statistics readers (see stats.cpp); the live-VM registry is vm_registry.hpp.
#pragma once

#include <cstdint>

#include "vm.hpp"

namespace es {

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
