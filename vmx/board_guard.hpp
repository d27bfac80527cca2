// The lock of a VM's shared board (vm.hpp's board_lock). With several vCPUs, any of them may be
// in the board's devices at once (an AP's printk writes COM1 while the BSP reads the PIT); the
// guard keeps one exit at a time there. A spinlock: its holders run in guest sections, with
// interrupts off, and never sleep. A VM of one vCPU has nothing to share and takes no lock.
#pragma once

#include "vm.hpp"

namespace es {

class board_guard {
  public:
    explicit board_guard(es_vm& vm) : vm_(vm), locked_(vm.nr_vcpus > 1) {
        if (!locked_)
            return;
        while (__atomic_exchange_n(&vm_.board_lock, 1u, __ATOMIC_ACQUIRE))
            while (__atomic_load_n(&vm_.board_lock, __ATOMIC_RELAXED))
                __builtin_ia32_pause();
    }
    ~board_guard() {
        if (locked_)
            __atomic_store_n(&vm_.board_lock, 0u, __ATOMIC_RELEASE);
    }
    board_guard(const board_guard&) = delete;
    board_guard& operator=(const board_guard&) = delete;

  private:
    es_vm& vm_;
    bool locked_;
};

} // namespace es
