// The registry of live VMs. Global statistics sum the retired row and the row of every VM on the
// list (stats.cpp); a VM joins the list when it is created and leaves it, its row folded into the
// retired row, when it is destroyed. Both changes take the mutex (so no snapshot is copying the
// VM meanwhile) and then the spinlock (so no exit-path reader walks a half-linked list).
#include "vm_registry.hpp"

#include "stats_state.hpp"

namespace es {

void register_vm(es_vm& vm) {
    // Snapshots read section_cpu of every VM on the list: valid before the VM is on it.
    for (es_vcpu& vcpu : vm.vcpus)
        vcpu.section_cpu = no_cpu;
    const registry_mutex_guard m;
    const registry_lock_guard g;
    vm.prev_vm = nullptr;
    vm.next_vm = stats.vm_list;
    if (stats.vm_list)
        stats.vm_list->prev_vm = &vm;
    stats.vm_list = &vm;
}

void unregister_vm(es_vm& vm) {
    const registry_mutex_guard m;
    const registry_lock_guard g;
    // The VM runs nowhere now (its descriptor is gone), so its row is stable.
    for (std::uint32_t i = 0; i < vm.nr_vcpus; ++i)
        fold_row(*stats.retired, *vm.vcpus[i].row);
    if (vm.prev_vm)
        vm.prev_vm->next_vm = vm.next_vm;
    else
        stats.vm_list = vm.next_vm;
    if (vm.next_vm)
        vm.next_vm->prev_vm = vm.prev_vm;
}

const es_vm* find_live_vm(std::uint32_t id) {
    for (const es_vm* vm = stats.vm_list; vm; vm = vm->next_vm)
        if (id && vm->id == id)
            return vm;
    return nullptr;
}

} // namespace es
