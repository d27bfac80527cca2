// A VM: what its vCPUs share. Guest RAM and its second-level translation (EPT), the MSR bitmap,
// the PC board of a Linux guest, serial input and the registry entry. Each vCPU (vcpu.hpp) has
// its own counters and console buffer; the VM's figures are their sums. A VM of one vCPU runs it
// through the VM descriptor; a larger one has a descriptor per vCPU (ES_VM_CREATE_VCPU).
#pragma once

#include <cstdint>

#include "board/pc_board.hpp"
#include "board/serial_input.hpp"
#include "pure/capabilities.hpp"
#include "pure/exit_counters.hpp"
#include "shadow_state.hpp"
#include "vcpu.hpp"

namespace es {

inline constexpr std::uint32_t max_vcpus = ES_MAX_VCPUS;

// Guest-physical memory: 4 KiB host pages, page i at guest-physical i * 4 KiB.
struct guest_memory {
    std::uint64_t bytes;
    std::uint64_t nr_pages;
    host_page* pages; // nr_pages entries
};

// The EPT over guest memory: PML4, PDPT, PD, then a page table per 2 MiB (RAM is at most 1 GiB).
struct ept_tables {
    host_page pages[3 + 512];
    std::uint32_t nr_pages;
    std::uint64_t eptp;
};

} // namespace es

struct es_vm {
    es::guest_memory mem;
    es::ept_tables ept;
    // ES_VM_SHADOW_PAGING: the VM runs on shadow tables (`shadow`) with EPT off; the controls
    // are core's for one kind of VM or the other.
    bool shadow_paging;
    es::shadow_state* shadow;
    const es::vm_controls* controls;
    es::host_page msr_bitmap;
    // A Linux guest (linux64) has the PC board and the Linux MSR set; toy guests have neither and
    // keep the plain port conventions.
    bool has_board;
    es::pc_board board;
    // A Linux guest of several vCPUs: each has a local APIC (x2APIC), the APs start by INIT/SIPI,
    // the 8259A reaches vCPU 0 through LINT0 (apic_bus.hpp).
    bool has_lapic;
    std::uint32_t id;         // names the VM in traces, es_run and ES_IOC_VMS
    std::uint32_t owner_tgid; // the process that created it (ES_IOC_VMS)
    es_vm* next_vm;           // registry links (vm_registry.cpp), under the registry lock
    es_vm* prev_vm;
    es::serial_input input; // ES_VM_INPUT's bytes for COM1 (a Linux guest's): vCPU 0 takes them
    // The console (port 0xE9, COM1's transmitted bytes), one for the VM in the order its vCPUs
    // wrote it: whichever vCPU's run call returns takes out what is there, and `console_seq`
    // (the VM-wide offset of the next byte taken out) lets user space order the vCPUs' pieces.
    std::uint32_t console_len;
    std::uint32_t console_limit; // min(console_capacity, the last run call's buffer)
    std::uint64_t console_seq;
    std::uint8_t console[es::console_capacity];
    // With several vCPUs, the board is shared: `board_lock` (a spinlock, board_guard.hpp) keeps
    // one vCPU's exit at a time in it. `stopped` is set once a vCPU's run stopped the guest;
    // the others then end theirs (ES_STOP_VM_STOPPED).
    std::uint32_t board_lock;
    std::uint32_t stopped;
    std::uint32_t nr_vcpus;
    es_vcpu vcpus[es::max_vcpus];
};

namespace es {

// Host pointer to guest-physical `gpa`, or nullptr outside RAM; valid to the end of its page.
std::uint8_t* guest_ptr(es_vm& vm, std::uint64_t gpa);

// The VM's figures: the sums of its vCPUs' rows (read relaxed: other vCPUs' are in flight).
std::uint64_t vm_exits(const es_vm& vm);
std::uint64_t vm_exit_cycles(const es_vm& vm);
std::uint64_t vm_count(const es_vm& vm, std::uint32_t reason);
std::uint64_t vm_cycles(const es_vm& vm, std::uint32_t reason);

// Give `vcpu` a new start state (ES_VM_SET_STATE, a SIPI): it starts there at its next entry,
// with nothing of its earlier run (pending events, PAT, XCR0/PKRU) carried over.
void restart_vcpu(es_vcpu& vcpu, guest_mode mode, std::uint64_t entry, std::uint64_t stack,
                  std::uint64_t boot_params);

// End a halted vCPU's sleep (run_loop.cpp's idle wait): its wake sequence moves, then its queue
// is woken, so a sleeper that checked the sequence before either sees the change or is woken.
void wake_vcpu(es_vcpu& vcpu);
// wake_vcpu, and a vCPU in a guest section on another CPU is made to exit (a host IPI) so that
// it sees what the caller changed before it enters again.
void kick_vcpu(es_vcpu& vcpu);

} // namespace es
