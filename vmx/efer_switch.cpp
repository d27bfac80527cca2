// EFER across VM entry and exit (efer_switch.hpp).
#include "efer_switch.hpp"

#include "core.hpp"
#include "sdm/msr_area.hpp"
#include "sdm/msrs.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

using f = sdm::vmcs_field;

// The page of the two areas: the VM-entry MSR-load area (the guest's EFER, guest_efer_entry)
// first, then the VM-exit MSR-load area (the host's), one entry each.
sdm::msr_area_entry* areas(const es_vcpu& vcpu) {
    return static_cast<sdm::msr_area_entry*>(vcpu.efer_areas.va);
}
constexpr unsigned guest_slot = 0, host_slot = 1;

} // namespace

bool alloc_efer_switch(es_vcpu& vcpu) {
    if (core.caps.efer_controls)
        return true;
    vcpu.efer_areas.va = es_shim_alloc_page(&vcpu.efer_areas.pa); // zeroed
    if (!vcpu.efer_areas.va)
        return false;
    areas(vcpu)[guest_slot].index = static_cast<std::uint32_t>(sdm::msr::efer);
    areas(vcpu)[host_slot].index = static_cast<std::uint32_t>(sdm::msr::efer);
    return true;
}

void free_efer_switch(es_vcpu& vcpu) {
    if (vcpu.efer_areas.va)
        es_shim_free_page(vcpu.efer_areas.va);
    vcpu.efer_areas.va = nullptr;
}

bool write_efer_switch(const es_vcpu& vcpu) {
    const std::uint64_t host = hw::rdmsr(sdm::msr::efer);
    if (core.caps.efer_controls)
        return hw::vmwrite(f::host_efer, host);
    areas(vcpu)[host_slot].value = host;
    constexpr auto entry_bytes = sizeof(sdm::msr_area_entry);
    bool ok = hw::vmwrite(f::entry_msr_load_address, vcpu.efer_areas.pa + guest_slot * entry_bytes);
    ok = hw::vmwrite(f::exit_msr_load_address, vcpu.efer_areas.pa + host_slot * entry_bytes) && ok;
    ok = hw::vmwrite(f::entry_msr_load_count, 1) && ok;
    return hw::vmwrite(f::exit_msr_load_count, 1) && ok;
}

} // namespace es
