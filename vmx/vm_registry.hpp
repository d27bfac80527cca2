// The registry of live VMs: the list that global statistics sum, its two locks, and the retired
// row that keeps the counters of destroyed VMs (see vm_registry.cpp).
#pragma once

#include <cstdint>

#include "exitscope/boundary.h"
#include "vm.hpp"

namespace es {

// es_vcpu::section_cpu while the vCPU runs a guest section nowhere (stats.cpp's section protocol).
constexpr std::int32_t no_cpu = -1;

// Holds the registry mutex (process context) for a scope: the list and every VM on it stay as
// they are, even across IPIs (boundary.h says which lock is for what).
class registry_mutex_guard {
  public:
    registry_mutex_guard() { es_shim_registry_mutex_lock(); }
    ~registry_mutex_guard() { es_shim_registry_mutex_unlock(); }
    registry_mutex_guard(const registry_mutex_guard&) = delete;
    registry_mutex_guard& operator=(const registry_mutex_guard&) = delete;
};

// Holds the registry spinlock for a scope, with interrupts off: the exit path cannot sleep on
// the mutex, so this is how it reads the list.
class registry_lock_guard {
  public:
    registry_lock_guard() : flags_(es_shim_registry_lock()) {}
    ~registry_lock_guard() { es_shim_registry_unlock(flags_); }
    registry_lock_guard(const registry_lock_guard&) = delete;
    registry_lock_guard& operator=(const registry_lock_guard&) = delete;

  private:
    es_u64 flags_;
};

// Link a new VM into / unlink a dying VM from the registry; unlinking folds its counters into
// the retired row so global totals never go backwards. Process context, neither lock held.
void register_vm(es_vm& vm);
void unregister_vm(es_vm& vm);

// The live VM with this id, or null. The caller holds the registry mutex, which keeps it alive.
const es_vm* find_live_vm(std::uint32_t id);

} // namespace es
