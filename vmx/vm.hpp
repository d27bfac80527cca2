// A VM: its RAM, EPT, VMCS, one vCPU's registers, counters and console buffer.
#pragma once

#include <cstdint>

#include "exitscope/boundary.h"
#include "pure/cmos_rtc.hpp"
#include "pure/exit_counters.hpp"
#include "pure/guest_modes.hpp"
#include "pure/pic8259.hpp"
#include "pure/pit8254.hpp"
#include "pure/uart16550.hpp"

namespace es {

inline constexpr std::uint32_t console_capacity = 4096;

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

struct es_vm {
    es_guest_regs regs; // module/vmenter.S loads and saves it
    std::uint64_t mem_bytes;
    std::uint64_t nr_pages;
    es::host_page* ram;         // nr_pages entries, guest-physical page i at ram[i]
    es::host_page ept[3 + 512]; // PML4, PDPT, PD, then page tables
    std::uint32_t nr_ept_pages;
    std::uint64_t eptp;
    es::host_page vmcs;
    es::host_page msr_bitmap;
    std::uint16_t vpid;
    bool vmcs_ready;  // controls, host constants and guest state written
    bool guest_dirty; // start state changed since the last run
    es::guest_mode mode;
    std::uint64_t entry, stack;
    std::uint64_t boot_params; // linux64: the zero page's GPA
    // linux64 only: the PC board (platform.hpp) and the Linux MSR set; toy guests keep the
    // plain conventions.
    bool linux_platform;
    es::uart16550 com1;
    es::pic_pair pic;
    es::pit8254 pit;
    es::cmos_rtc rtc;
    bool interrupt_window;    // interrupt-window exiting is on in the VMCS
    bool vectoring_stale;     // the VMCS's IDT-vectoring field predates the start state
    std::uint64_t idle_until; // a HLT's wake-up: the host TSC of the PIT's next deadline
    std::uint64_t guest_pat;  // IA32_PAT as the guest wrote it
    es_host_switch host;
    void* fpu_alloc;
    std::uint64_t guest_xcr0;
    es::counter_row* counters;    // written only by the CPU running the vCPU (exit_counters.hpp)
    es::reason_sums section_base; // the counters' figures when the running section started
    std::int32_t section_cpu;     // the CPU running a guest section of this VM, or -1
    std::uint32_t section_seq;    // odd while a guest section runs (stats.cpp's copy_row)
    std::uint32_t id;             // names the VM in traces
    es_vm* next_vm;               // registry links (vm_registry.cpp), under the registry lock
    es_vm* prev_vm;
    std::uint32_t console_len;
    std::uint32_t console_limit; // this run: min(console_capacity, the caller's buffer)
    std::uint8_t console[es::console_capacity];
};

namespace es {

// Host pointer to guest-physical `gpa`, or nullptr outside RAM; valid to the end of its page.
std::uint8_t* guest_ptr(es_vm& vm, std::uint64_t gpa);

} // namespace es
