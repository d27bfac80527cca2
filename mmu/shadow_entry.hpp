// Shadow page-table entries built from the guest's walk, and what a #PF the processor takes in
// the shadow tables means. Pure (SDM Vol. 3A, "Access Rights", "Accessed and Dirty Flags",
// "Page-Fault Exceptions", June 2023).
//
// The shadow tables reference each other with every right; a leaf is always a 4 KiB page (a
// guest 2 MiB or 1 GiB page is mapped one 4 KiB piece at a time) and never has wider rights
// than the guest's translation:
//   - writable only once the guest's leaf is dirty, so the first write faults and the guest walk
//     sets D;
//   - write-back whatever the guest's PWT, PCD and PAT say: guest RAM is ordinary write-back
//     host memory, as the EPT mode's ignore-PAT leaves keep it;
//   - A (and D when writable) preset, so the processor never updates a shadow entry;
//   - G as the guest's translation has it (the hardware runs with CR4.PGE = 0: the mark tells
//     which leaves a guest CR3 write keeps), and a mark for a piece of a large guest page.
// This holds only if the processor runs the guest with CR0.WP = 1 (else supervisor writes would
// pass read-only shadow entries and D would be lost) and EFER.NXE = 1 (XD of a shadow entry is
// otherwise reserved), whatever the guest's own values; the guest's are in paging_context.
//
// The guest's CR0.WP = 0 (a supervisor write to a read-only page succeeds) is emulated as KVM
// does: the shadow leaf for that write is writable and supervisor-only, so a later user access
// faults and refills it read-only; with CR4.SMEP it is also XD, since SMEP would no longer stop
// a supervisor fetch from what the guest made a user page. Not exact: with CR4.SMAP = 1 such a
// leaf lets supervisor data accesses through that SMAP would stop, until it is refilled.
#pragma once

#include <cstdint>

#include "mmu/access.hpp"
#include "mmu/guest_walk.hpp"
#include "sdm/paging.hpp"

namespace es::mmu {

// Marks in a shadow leaf, in bits the processor ignores in a PTE (58:52: bits 62:59 would be a
// protection key with CR4.PKE, which a shadow-paging guest cannot set): the leaf is a 4 KiB piece
// of a guest 2 MiB or 1 GiB page, which an INVLPG anywhere in that page drops
// (shadow_tables.hpp, drop_page).
inline constexpr std::uint64_t shadow_mib_piece = 1ull << 52;
inline constexpr std::uint64_t shadow_gib_piece = 1ull << 53;

// A shadow PML4E, PDPTE or PDE referencing the shadow table at host-physical `host_table`.
constexpr std::uint64_t shadow_table_entry(std::uint64_t host_table) {
    using namespace sdm::paging;
    return (host_table & address_mask) | present | writable | user | accessed;
}

// The 4 KiB guest-physical frame a translation's shadow leaf maps (for a large guest page, the
// piece holding the translated address). The caller finds its host frame, or stops the guest
// when the frame is not guest RAM: a shadow entry never points outside it.
constexpr std::uint64_t guest_frame(const walk_result& translation) {
    return translation.address & sdm::paging::address_mask;
}

// The shadow PTE that maps `host_frame` (host-physical, 4 KiB aligned), holding guest_frame() of
// `translation` (walk_outcome::translated), made by the guest walk for access `a`.
std::uint64_t shadow_pte(const walk_result& translation, access a, const paging_context& c,
                         std::uint64_t host_frame);

// The access a #PF in the shadow tables describes: W/R, U/S and I/D of its error code (the
// processor reports I/D since it runs with EFER.NXE = 1). `supervisor_ac`: CPL < 3 and
// EFLAGS.AC = 1, which SMAP honours for explicit accesses; an error code does not tell an
// implicit supervisor access from an explicit one, so such accesses count as explicit (as KVM).
access access_of_page_fault(std::uint32_t hardware_error_code, bool supervisor_ac);

enum class shadow_fault_action : std::uint8_t {
    inject_page_fault,         // the guest's own fault: #PF(error_code), CR2 = cr2
    inject_general_protection, // a non-canonical address: #GP(0)
    fill,                      // the guest allows it: map guest_frame(walk) with shadow_pte()
    stop_outside_ram,          // a guest paging structure outside guest RAM: end the run
    retry,                     // the guest changed its tables meanwhile: resume it
};

struct shadow_fault_decision {
    shadow_fault_action action;
    std::uint32_t error_code; // inject_page_fault
    std::uint64_t cr2;        // inject_page_fault
    walk_result walk;
};

// What to do with a shadow #PF at `linear` given the guest's walk of it for the same access.
shadow_fault_decision classify_shadow_fault(const walk_result& guest, std::uint64_t linear);

// The whole decision for a #PF exit: the guest walk for the access the error code describes.
template <guest_ram M>
shadow_fault_decision shadow_page_fault(M& memory, std::uint64_t guest_cr3, std::uint64_t linear,
                                        std::uint32_t hardware_error_code, bool supervisor_ac,
                                        const paging_context& c) {
    const access a = access_of_page_fault(hardware_error_code, supervisor_ac);
    return classify_shadow_fault(guest_walk(memory, guest_cr3, linear, a, c), linear);
}

} // namespace es::mmu
