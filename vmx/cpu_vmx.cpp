// Turning VMX on and off on one CPU (SDM "Enabling and Entering VMX Operation").
#include "core.hpp"
#include "exitscope/boundary.h"
#include "exitscope/errno.hpp"
#include "sdm/cpu_bits.hpp"
#include "vmx_ops.hpp"

using namespace es;

extern "C" int es_core_cpu_on(void* vmxon_region, es_u64 vmxon_phys) {
    // CR4.VMXE already set means another hypervisor (most likely kvm_intel) is in VMX operation
    // here; a second VMXON would fail, and taking VMX away from it would crash its guests.
    if (es_shim_cr4_read() & sdm::cr4::vmxe) {
        es_shim_log(1, "VMX is already in use on this CPU (CR4.VMXE set), probably by kvm_intel: "
                       "unload it (rmmod kvm_intel) or boot with kvm.enable_virt_at_load=0 "
                       "(Linux 6.12 and later), then load exitscope again");
        return -err::busy;
    }
    // The region starts with the VMCS revision identifier ("VMXON Region").
    *static_cast<std::uint32_t*>(vmxon_region) = core.caps.vmcs_revision;
    es_shim_cr4_set_vmxe();
    // CR0 and CR4 must satisfy the VMX fixed bits before VMXON ("VMX-Fixed Bits in CR0/CR4");
    // Linux keeps CR0.NE/PE/PG set, so only VMXE needed changing.
    if (!hw::vmxon(vmxon_phys)) {
        es_shim_cr4_clear_vmxe();
        es_shim_log(1, "VMXON failed on this CPU");
        return -err::io;
    }
    return 0;
}

extern "C" void es_core_cpu_off(void) {
    hw::vmxoff();
    es_shim_cr4_clear_vmxe();
}
