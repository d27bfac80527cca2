// Writing the VMCS: controls and host constants once, per-CPU host state at the start of every
// guest section, guest start state whenever user space sets it.
#pragma once

#include "vm.hpp" // es_vcpu, and its VM for guest memory

namespace es {

// All three need the vCPU's VMCS current on this CPU. Return false when a VMWRITE failed.
bool write_controls_and_host_constants(es_vcpu& vcpu);
bool write_host_per_section(const es_vcpu& vcpu);
bool write_guest_start_state(es_vcpu& vcpu);
// Give the guest a full time slice: before every entry from the section loop.
void arm_preemption_timer();

} // namespace es
