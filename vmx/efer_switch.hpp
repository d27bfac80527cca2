// IA32_EFER of the guest and of the host across VM entry and exit. Where the CPU has the
// "load IA32_EFER" entry and exit controls (since Nehalem) they switch it, from the VMCS's
// guest and host EFER fields. Core 2 has neither those controls nor the fields: the guest's EFER
// is the one entry of the VM-entry MSR-load area and the host's the one entry of the VM-exit
// MSR-load area, as KVM's atomic MSR switch does. Every guest EFER write exits (the MSR bitmap is
// all ones) and CR0.PG changes that flip EFER.LMA exit too, so the copy here is always the
// guest's: no MSR-store area is needed.
#pragma once

#include <cstdint>

#include "core.hpp"
#include "sdm/msr_area.hpp"
#include "vcpu.hpp"
#include "vmx_ops.hpp"

namespace es {

// The vCPU's MSR-load areas (a page) when the CPU has no EFER controls; false when out of
// memory. free_efer_switch gives it back.
bool alloc_efer_switch(es_vcpu& vcpu);
void free_efer_switch(es_vcpu& vcpu);

// VMCS setup: the host EFER and, without the EFER controls, the areas' addresses and counts.
// False if a VMWRITE failed. The VMCS must be current.
bool write_efer_switch(const es_vcpu& vcpu);

// The guest's EFER in the VM-entry MSR-load area: its first entry.
inline sdm::msr_area_entry& guest_efer_entry(const es_vcpu& vcpu) {
    return *static_cast<sdm::msr_area_entry*>(vcpu.efer_areas.va);
}

// The EFER the guest runs with (the hardware's view: under shadow paging NXE is always 1).
// Inline: RDMSR and WRMSR of EFER are on the exit fast path.
inline std::uint64_t guest_efer(const es_vcpu& vcpu) {
    if (core.caps.efer_controls) [[likely]]
        return hw::vmread(sdm::vmcs_field::guest_efer);
    return guest_efer_entry(vcpu).value;
}
inline void set_guest_efer(es_vcpu& vcpu, std::uint64_t value) {
    if (core.caps.efer_controls) [[likely]]
        hw::vmwrite(sdm::vmcs_field::guest_efer, value);
    else
        guest_efer_entry(vcpu).value = value;
}

} // namespace es
