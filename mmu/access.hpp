// What a linear-address access is (read, write or fetch; user or supervisor) and the guest state
// that decides its rights under 4-level paging (SDM Vol. 3A, "Access Rights", June 2023). Pure.
//
// Modelled: CR0.WP, CR4.PGE, CR4.SMEP, CR4.SMAP (with EFLAGS.AC), EFER.NXE, MAXPHYADDR and 1 GiB
// page support. Not modelled: protection keys (CR4.PKE), CET shadow stacks, HLAT, 5-level paging
// (CR4.LA57): a guest of this MMU must see them unsupported. CR4.PSE is ignored by 4-level paging
// and CR4.PAE is 1 in it, so neither is here.
#pragma once

#include <cstdint>

#include "sdm/cpu_bits.hpp"
#include "sdm/msrs.hpp"

namespace es::mmu {

enum class access_kind : std::uint8_t { read, write, fetch };

struct access {
    access_kind kind;
    // A user-mode access: CPL 3 and not an implicit supervisor access (a descriptor-table or
    // TSS read, for instance, is supervisor at any CPL).
    bool user;
    // A supervisor data access that SMAP lets reach user pages: explicit, with EFLAGS.AC = 1.
    bool smap_override;
};

constexpr access user_access(access_kind kind) {
    return {kind, true, false};
}
constexpr access supervisor_access(access_kind kind, bool smap_override = false) {
    return {kind, false, smap_override};
}

struct paging_context {
    bool write_protect;      // CR0.WP: supervisor writes honour R/W
    bool nx;                 // EFER.NXE: XD applies (and is a reserved bit without it)
    bool global_pages;       // CR4.PGE: G makes a leaf's translation global
    bool smep;               // CR4.SMEP: no supervisor fetch from user pages
    bool smap;               // CR4.SMAP: no supervisor data access to user pages (see access)
    bool page_1gb;           // CPUID.80000001H:EDX.Page1GB as the guest sees it
    std::uint8_t maxphyaddr; // CPUID.80000008H:EAX[7:0] as the guest sees it, 36..52
};

// The context of a guest whose control registers hold these values.
constexpr paging_context context_of(std::uint64_t cr0, std::uint64_t cr4, std::uint64_t efer,
                                    std::uint8_t maxphyaddr, bool page_1gb) {
    return {(cr0 & sdm::cr0::wp) != 0,
            (efer & sdm::efer::nxe) != 0,
            (cr4 & sdm::cr4::pge) != 0,
            (cr4 & sdm::cr4::smep) != 0,
            (cr4 & sdm::cr4::smap) != 0,
            page_1gb,
            maxphyaddr};
}

} // namespace es::mmu
