// The VMX capability record and the control-adjustment rule: pure functions over MSR values, so
// they run (and are unit-tested) on the host exactly as in the kernel.
#pragma once

#include <cstdint>

namespace es {

// Raw capability MSRs, indexed by enum es_info_msr (include/exitscope/abi.h).
struct vmx_msrs {
    std::uint64_t value[24];
};

// One control word's capability, from its IA32_VMX_*_CTLS MSR ("VMX Capability Reporting
// Facility"): a bit set in the low half ("allowed 0-settings") must be 1; a bit clear in the high
// half ("allowed 1-settings") must be 0.
struct control_caps {
    std::uint32_t must_be_one;
    std::uint32_t may_be_one;
};

constexpr control_caps decode_controls(std::uint64_t msr) {
    return {static_cast<std::uint32_t>(msr), static_cast<std::uint32_t>(msr >> 32)};
}

struct adjusted_controls {
    std::uint32_t value;
    std::uint32_t missing;      // required bits the CPU cannot set
    std::uint32_t forced;       // forbidden bits the CPU insists on
    std::uint32_t inconsistent; // bits the MSR says must be 1 and cannot be 1: a broken MSR
    constexpr bool ok() const { return missing == 0 && forced == 0 && inconsistent == 0; }
};

// The allowed-0/allowed-1 rule: start from what we need, add what the CPU forces, drop what it
// cannot do. Optional bits are kept only when allowed; required and forbidden ones report a
// conflict instead of silently changing meaning.
constexpr adjusted_controls adjust_controls(control_caps caps, std::uint32_t required,
                                            std::uint32_t optional, std::uint32_t forbidden) {
    adjusted_controls r{};
    r.value = ((required | optional) & caps.may_be_one) | caps.must_be_one;
    r.missing = required & ~caps.may_be_one;
    r.forced = forbidden & caps.must_be_one;
    // Real CPUs never report this; an emulator or a broken hypervisor below us might, and no
    // value would then pass VM entry.
    r.inconsistent = caps.must_be_one & ~caps.may_be_one;
    r.value &= ~(forbidden & ~caps.must_be_one);
    return r;
}

struct vm_controls {
    std::uint32_t pin;
    std::uint32_t proc;
    std::uint32_t proc2;
    std::uint32_t exit;
    std::uint32_t entry;
    // Primary controls the run loop turns on at times (interrupt-window exiting for a Linux
    // guest), when the processor allows them; never part of `proc`.
    std::uint32_t proc_on_demand;
};

struct capabilities {
    std::uint32_t vmcs_revision;
    std::uint32_t vmcs_region_size;
    bool true_controls;
    bool vmcs_write_back;
    control_caps pin, proc, proc2, exit, entry;
    bool secondary;
    bool ept, ept_4_level, ept_write_back, ept_2mb, ept_1gb, ept_ad;
    bool invept, invept_single, invept_all;
    bool vpid, invvpid, invvpid_single, invvpid_all;
    bool unrestricted_guest;
    bool efer_controls; // VM entry and exit load IA32_EFER, exit saves it (since Nehalem)
    bool preemption_timer;
    std::uint8_t preemption_timer_rate; // timer ticks once every 2^rate TSC ticks
    std::uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

capabilities parse_capabilities(const vmx_msrs& msrs);

// What every VM of this hypervisor runs with, and why a CPU cannot host it (nullptr: it can).
struct controls_choice {
    vm_controls controls;
    const char* problem;
};

controls_choice choose_controls(const capabilities& caps);

// The controls of a VM under shadow paging (ES_VM_SHADOW_PAGING), from `base` (choose_controls'
// choice for EPT VMs): EPT and unrestricted guest off, the guest's CR3 loads and stores and its
// INVLPGs exit (its #PFs exit through the exception bitmap, vmcs_setup.cpp). `problem` names
// what this CPU cannot do for it (nullptr: shadow VMs can run).
controls_choice shadow_paging_controls(const capabilities& caps, const vm_controls& base);

// The controls of a Linux VM of several vCPUs, from `base`: where the CPU has PAUSE-loop exiting,
// a PAUSE exits only when a spin loop outlasts a window (a vCPU waiting for another, which may be
// asleep in the host), instead of at every PAUSE; `base` where it has not.
vm_controls smp_controls(const capabilities& caps, const vm_controls& base);
// The PAUSE-loop window of smp_controls, in TSC ticks: KVM's ple_gap (128), and a window that
// outlasts an IPI's round trip (a vCPU waiting in csd_lock_wait for another to run its
// function: one IPI to a halted vCPU takes about 5,400 ticks, tools/guests/ipi-latency.asm),
// where KVM starts at 4096 and grows the window at each PAUSE exit.
inline constexpr std::uint32_t ple_gap_ticks = 128;
inline constexpr std::uint32_t ple_window_ticks = 16384;

// EPT VMs need EPT (4-level, write-back); without it (Core 2) guests run under shadow paging
// only, and creating an EPT VM is refused with why_no_ept_guests's message. Without the
// IA32_EFER entry/exit controls EFER is switched through the MSR-load areas. why_no_guests is
// nullptr when some guest can run (EPT, or the exits shadow paging needs), else why none can.
// Real mode and protected mode without paging need EPT with unrestricted guest.
bool runs_ept_guests(const capabilities& caps);
const char* why_no_ept_guests(const capabilities& caps);
const char* why_no_guests(const capabilities& caps);
bool can_run_guests(const capabilities& caps);
bool runs_unpaged_modes(const capabilities& caps);

// Guest CR0/CR4 bits VMX forces to 1 or 0 ("VMX-Fixed Bits in CR0/CR4"); unrestricted guest
// lifts the CR0.PE and CR0.PG requirement.
std::uint64_t cr0_guest_fixed1_bits(const capabilities& caps);  // bits that must be 1
std::uint64_t cr0_guest_allowed_bits(const capabilities& caps); // bits that may be 1
std::uint64_t cr4_guest_fixed1_bits(const capabilities& caps);
std::uint64_t cr4_guest_allowed_bits(const capabilities& caps);

} // namespace es
