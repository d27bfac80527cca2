// Pure validation of ioctl arguments (see arg_checks.cpp).
#pragma once

#include <cstdint>

#include "exitscope/abi.h"

namespace es {

// Every ABI struct ends in reserved space that must be zero.
template <typename T> bool reserved_clear(const T& a) {
    for (auto v : a.reserved)
        if (v)
            return false;
    return true;
}

int check_create(const es_vm_create& a);
// ES_VM_CREATE_VCPU's argument for a VM of `nr_vcpus` vCPUs (whether the index is taken is the
// VM's to say: -EEXIST).
int check_vcpu_create(const es_vcpu_create& a, std::uint32_t nr_vcpus);
// ES_VM_SET_STATE's `mode` for a VM created with or without ES_VM_SHADOW_PAGING (after
// check_state): -EOPNOTSUPP for what shadow paging cannot run.
int check_paging_mode(bool shadow_paging, std::uint32_t mode);
int check_load(const es_vm_load& a, std::uint64_t mem_bytes);
int check_state(const es_vcpu_state& a, std::uint64_t mem_bytes);
int check_run(const es_run& a);
int check_input(const es_input& a);

} // namespace es
