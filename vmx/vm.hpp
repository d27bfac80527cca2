// A VM: what its vCPUs share. Guest RAM and its second-level translation (EPT), the MSR bitmap,
// the PC board of a Linux guest, the exit counters, the registry entry and the console buffer.
// One vCPU per VM for now (ABI 1: the VM descriptor runs it).
#pragma once

#include <cstdint>

#include "board/pc_board.hpp"
#include "board/serial_input.hpp"
#include "pure/capabilities.hpp"
#include "pure/exit_counters.hpp"
#include "shadow_state.hpp"
#include "vcpu.hpp"

namespace es {

inline constexpr std::uint32_t console_capacity = 4096;

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
    es::counter_row* counters; // written only by the CPU running the vCPU (exit_counters.hpp)
    std::uint32_t id;          // names the VM in traces
    es_vm* next_vm;            // registry links (vm_registry.cpp), under the registry lock
    es_vm* prev_vm;
    std::uint32_t console_len;
    std::uint32_t console_limit; // this run: min(console_capacity, the caller's buffer)
    std::uint8_t console[es::console_capacity];
    es::serial_input input; // ES_VM_INPUT's bytes for COM1 (a Linux guest's)
    void* waker;            // the C glue's wait queue: input ends a halted guest's sleep
    es_vcpu vcpu;
};

namespace es {

// Host pointer to guest-physical `gpa`, or nullptr outside RAM; valid to the end of its page.
std::uint8_t* guest_ptr(es_vm& vm, std::uint64_t gpa);

} // namespace es
