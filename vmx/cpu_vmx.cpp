// Turning VMX on and off on one CPU (SDM "Enabling and Entering VMX Operation").
#include "core.hpp"
#include "exitscope/boundary.h"
#include "exitscope/errno.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/msrs.hpp"
#include "vmx_ops.hpp"

using namespace es;

extern "C" int es_core_cpu_on(void* vmxon_region, es_u64 vmxon_phys) {
    // CR4.VMXE already set means another hypervisor (most likely kvm_intel) is in VMX operation
    // here; a second VMXON would fail, and taking VMX away from it would crash its guests.
    // Called when the first Exitscope VM is created (module/cpu_vmx.c).
    if (es_shim_cr4_read() & sdm::cr4::vmxe) {
        es_shim_log(1, "VMX is in use by another hypervisor on this CPU (CR4.VMXE set), probably "
                       "kvm_intel running a VM: stop its VMs (or rmmod kvm_intel; on Linux 6.12+ "
                       "boot with kvm.enable_virt_at_load=0), then try again");
        return -err::busy;
    }
    // IA32_FEATURE_CONTROL gates VMXON ("Enabling and Entering VMX Operation"): firmware (or
    // Linux at boot) normally locks it; if it is still unlocked, enable VMX outside SMX and
    // lock it, as other hypervisors do.
    const auto fc_msr = sdm::to_number(sdm::msr::feature_control);
    std::uint64_t fc = 0;
    if (es_shim_rdmsr_safe(fc_msr, &fc) == 0 && !(fc & sdm::feature_control::lock)) {
        fc |= sdm::feature_control::lock | sdm::feature_control::vmx_outside_smx;
        if (es_shim_wrmsr_safe(fc_msr, fc) != 0) {
            es_shim_log(1, "cannot enable VMX in IA32_FEATURE_CONTROL on this CPU");
            return -err::perm;
        }
    } else if (!(fc & sdm::feature_control::vmx_outside_smx)) {
        es_shim_log(1, "VMX is disabled by firmware on this CPU (IA32_FEATURE_CONTROL)");
        return -err::perm;
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
