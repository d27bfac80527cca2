// Statistics (stats.cpp): its state is its own (stats_state.hpp); this is what the rest of the
// core calls. The live-VM registry is vm_registry.hpp.
#pragma once

#include <cstdint>

#include "pure/flight_recorder.hpp"
#include "vm.hpp"

namespace es {

// At module load / unload: the per-CPU figures and recorders for `nr_cpus` CPU ids. False when
// out of memory (stats_free then frees what was allocated).
bool stats_alloc(std::uint32_t nr_cpus);
void stats_free();

// A guest section of `vcpu` starts / ends on `cpu` (interrupts off): per-CPU figures and whole
// snapshots of a running VM depend on these.
void begin_section(es_vcpu& vcpu, std::uint32_t cpu);
void end_section(es_vcpu& vcpu, std::uint32_t cpu);

// The flight recorder of `cpu`, written only by that CPU's exits.
cpu_recorder& recorder_of(std::uint32_t cpu);

// Figures for the CPUID leaves with cpuid_scope=global, every VM since load or the last reset.
std::uint64_t global_count(std::uint32_t reason);
std::uint64_t global_cycles(std::uint32_t reason);
std::uint64_t global_exits();
std::uint64_t global_exit_cycles();

} // namespace es
