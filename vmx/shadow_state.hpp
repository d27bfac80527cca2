// A shadow-paging VM's state, which es_vm (vm.hpp) points at: a header of its own, so that the
// virtual TLB's changes stay out of vm.hpp.
#pragma once

#include <cstdint>

#include "mmu/shadow_tables.hpp"
#include "vcpu.hpp"

namespace es {

// A shadow-paging VM's virtual TLB (shadow_mmu.cpp): its pool of shadow tables (host pages,
// never guest RAM, so the guest cannot write them) and the paging state the guest believes in.
struct shadow_state {
    host_page pages[mmu::shadow_pool_pages]; // pages[0] is the root the hardware's CR3 holds
    std::uint32_t used;                      // tables in use (mmu::shadow_pool)
    bool local[mmu::shadow_pool_pages];      // page table i may hold leaves without G
    bool gib_pieces;                         // a guest 1 GiB page has pieces in the pool
    std::uint64_t guest_cr3;                 // what the guest loaded into CR3
    bool guest_nxe;                          // EFER.NXE as the guest set it (the hardware's is 1)
    bool page_1gb;                           // CPUID as the guest sees it
    std::uint8_t maxphyaddr;
    std::uint64_t* table(std::uint32_t i) { return static_cast<std::uint64_t*>(pages[i].va); }
    std::uint64_t table_pa(std::uint32_t i) { return pages[i].pa; }
};

} // namespace es
