// The virtual TLB of a shadow-paging VM (ES_VM_SHADOW_PAGING): its pool of shadow tables, the
// guest-RAM view the guest walk reads (mmu/guest_walk.hpp), and starting over. The exits that
// drive it are in handlers_shadow.cpp.
#pragma once

#include <cstdint>

#include "mmu/access.hpp"
#include "sdm/cpu_bits.hpp"
#include "vm.hpp"

namespace es {

// CR0 bits a shadow-paging guest runs with whatever it wrote (mmu/shadow_entry.hpp: WP = 1;
// paging and protection on, as there is no unrestricted guest). With PE, PG and WP in the CR0
// guest/host mask and PAE, PGE, PSE and the unmodelled bits in CR4's, the guest reads its own
// values (the read shadows) and its writes of them exit.
inline constexpr std::uint64_t shadow_cr0_bits = sdm::cr0::pe | sdm::cr0::pg | sdm::cr0::wp;
inline constexpr std::uint64_t shadow_unmodelled_cr4_bits =
    sdm::cr4::pcide | sdm::cr4::smep | sdm::cr4::smap | sdm::cr4::pke | sdm::cr4::la57;
inline constexpr std::uint64_t shadow_cr4_owned_bits =
    sdm::cr4::pae | sdm::cr4::pge | sdm::cr4::pse | shadow_unmodelled_cr4_bits;

// The shadow pool's pages (allocated at VM creation, mmu::shadow_pool_pages of them) and the
// guest's CPUID facts the walk needs. False when out of memory (free_shadow cleans up).
bool alloc_shadow(es_vm& vm);
void free_shadow(es_vm& vm);

// Drop every shadow translation: the tables start over and the vCPU's TLB entries go (INVVPID;
// without a VPID every VM entry and exit flushes them already). The VMCS must be current.
void shadow_start_over(es_vcpu& vcpu);

// A guest CR3 write: the non-global translations go (mmu::drop_local), then the TLB entries.
void shadow_new_address_space(es_vcpu& vcpu);

// A guest INVLPG of `linear`: that page's translations go (mmu::drop_page; all of them when the
// pool holds a guest 1 GiB page), then the TLB entries.
void shadow_drop_page(es_vcpu& vcpu, std::uint64_t linear);

// The paging state of the guest as it believes it is: its CR0 and CR4 read shadows and EFER.
mmu::paging_context guest_paging_context(const es_vm& vm);

// Guest RAM as the guest walk reads and updates it (mmu::guest_ram): aligned 64-bit words,
// compare-exchange for the A/D updates (another vCPU may change the same entry).
struct vm_guest_ram {
    es_vm& vm;
    mmu::guest_word read64(std::uint64_t gpa) const;
    bool cmpxchg64(std::uint64_t gpa, std::uint64_t expected, std::uint64_t desired) const;
};

} // namespace es
