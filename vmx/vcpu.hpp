// A vCPU: its VMCS, registers, FPU/XSAVE area, host-switch state and the state of its guest
// sections. It belongs to one VM (vm.hpp), which holds what every vCPU shares.
#pragma once

#include <cstdint>

#include "board/local_apic.hpp"
#include "exitscope/boundary.h"
#include "pure/exit_counters.hpp"
#include "pure/guest_modes.hpp"

struct es_vm;

namespace es {

struct host_page {
    void* va;
    std::uint64_t pa;
};

// The stop a handler asks for, carried out by the run loop.
struct stop_report {
    std::uint32_t stop; // enum es_stop, 0 while running
    std::uint64_t exit_code;
    std::uint64_t gpa;
};

} // namespace es

namespace es {
inline constexpr std::uint32_t console_capacity = 4096;
}

struct es_vcpu {
    es_guest_regs regs; // module/vmenter.S loads and saves it
    es_vm* vm;
    std::uint32_t index;    // 0..nr_vcpus-1; vCPU 0 is the bootstrap processor
    bool handed_out;        // ES_VM_CREATE_VCPU gave it a descriptor (each index once)
    es::counter_row* row;   // its exit counters: written only by the CPU running it
    void* waker;            // its wait queue (es_shim_waker_new): a halted vCPU sleeps there
    std::uint32_t wake_seq; // changed by whoever wakes it (serial input, the VM's stop)
    es::host_page vmcs;
    es::host_page efer_areas; // the EFER MSR-load areas, without EFER controls (efer_switch.hpp)
    std::uint16_t vpid;
    bool vmcs_ready;  // controls, host constants and guest state written
    bool guest_dirty; // start state changed since the last run
    // The start state user space set (ES_VM_SET_STATE).
    es::guest_mode mode;
    std::uint64_t entry, stack;
    std::uint64_t boot_params; // linux64: the zero page's GPA
    // Event delivery from the VM's board (irq_delivery.cpp).
    bool interrupt_window;    // interrupt-window exiting is on in the VMCS
    bool vectoring_stale;     // the VMCS's IDT-vectoring field predates the start state
    std::uint64_t idle_until; // a HLT's wake-up: the host TSC of the board timer's next deadline
    bool idle_pending;        // that HLT's sleep is still to take (run_loop.cpp)
    std::uint64_t guest_pat;  // IA32_PAT as the guest wrote it
    // A Linux guest of several vCPUs (es_vm::has_lapic): the vCPU's x2APIC, under the VM's board
    // lock (apic_bus.hpp), and what its senders left for it.
    es::local_apic apic;
    bool nmi_pending;   // an NMI IPI arrived: injected when NMIs are not blocked
    bool sipi_pending;  // a start-up IPI ended its wait: it starts in real mode at the vector
    bool start_at_sipi; // its start state is the SIPI's (CS = vector << 8, IP = 0)
    bool parked;        // it sleeps in a HLT with interrupts off (apic_bus.hpp's park_vcpu)
    // An external interrupt whose delivery a reflected #PF interrupted (handlers_shadow.cpp):
    // acknowledged at its source already, it goes in once the guest can take it.
    bool irq_requeued;
    std::uint8_t requeued_vector;
    es_host_switch host;
    void* fpu_alloc;
    // Guest sections and the counters (stats.cpp's section protocol).
    es::reason_sums section_base; // the VM's counters when the running section started
    std::int32_t section_cpu;     // the CPU running a guest section of this vCPU, or -1
    std::uint32_t section_seq;    // odd while a guest section runs (stats.cpp's copy_row)
    // The VM's console bytes this run call takes out (vm.hpp's console), copied here under the
    // board lock so that the copy to user space is done without it.
    std::uint8_t console_out[es::console_capacity];
};
