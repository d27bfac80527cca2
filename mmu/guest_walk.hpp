// The guest's 4-level page walk as the processor does it (SDM Vol. 3A, "4-Level Paging and
// 5-Level Paging", "Access Rights", "Page-Fault Exceptions", "Accessed and Dirty Flags", June
// 2023): a translation with its effective rights, or the fault the access takes. Pure: the guest's
// memory is a template parameter, so the module walks guest RAM and the tests a fake.
//
// Accessed and dirty flags change only when the walk succeeds, as KVM's walk_addr_generic does:
// the processor sets A in an entry it "uses as part of linear-address translation", and a walk
// that faults translates nothing. Then A is set at every level, and D in the leaf for a write.
// Each update is a compare-exchange of the entry read, so a guest vCPU changing its tables at the
// same time is never overwritten: the walk starts again (A bits set above the changed entry stay,
// as the processor's would: it used those entries), and after max_walk_attempts it gives up
// (walk_outcome::raced: resume the guest, which repeats the access).
#pragma once

#include <concepts>
#include <cstdint>

#include "mmu/access.hpp"
#include "sdm/canonical.hpp"
#include "sdm/paging.hpp"

namespace es::mmu {

// One 64-bit word of guest-physical memory; in_ram = false when it is outside guest RAM.
struct guest_word {
    std::uint64_t value;
    bool in_ram;
};

// read64(gpa): the 8-byte-aligned word at gpa. cmpxchg64(gpa, expected, desired): store desired
// if the word still holds expected (atomically where other vCPUs run), true if it stored. The
// walk calls cmpxchg64 only on words read64 found in RAM.
template <typename M>
concept guest_ram = requires(M& m, std::uint64_t gpa, std::uint64_t expected,
                             std::uint64_t desired) {
    { m.read64(gpa) } -> std::same_as<guest_word>;
    { m.cmpxchg64(gpa, expected, desired) } -> std::same_as<bool>;
};

enum class walk_outcome : std::uint8_t {
    translated,
    page_fault,        // #PF with error_code, CR2 = the linear address
    non_canonical,     // #GP(0) (#SS(0) for a stack access): no walk happens
    table_outside_ram, // a paging-structure entry's address (address) is not guest RAM
    raced,             // the guest changed its tables under every attempt to set A/D
};

// The rights of a translation, combined over every level: R/W and U/S set in all entries, XD in
// none (always executable with EFER.NXE = 0), and G in the leaf with CR4.PGE = 1.
struct page_permissions {
    bool writable;
    bool user;
    bool executable;
    bool global;
    friend constexpr bool operator==(const page_permissions&, const page_permissions&) = default;
};

struct walk_result {
    walk_outcome outcome;
    // translated: the guest-physical address of the linear address; table_outside_ram: the
    // guest-physical address of the entry that could not be read; otherwise 0.
    std::uint64_t address;
    std::uint32_t error_code; // page_fault: the #PF error code; otherwise 0
    // translated: the leaf's level (pt: 4 KiB page, pd: 2 MiB, pdpt: 1 GiB); page_fault: the
    // entry that was not present or set a reserved bit, or the leaf for a rights violation;
    // table_outside_ram: the entry that could not be read.
    sdm::paging::level level;
    page_permissions permissions; // translated only
    bool dirty;                   // translated: the leaf's D after the walk
    // translated: the guest-physical address of the leaf entry, and the rights of the entries
    // above it alone (R/W, U/S and XD combined as in `permissions`; global false). The other
    // entries of the leaf's table share those upper entries (shadow_prefetch.hpp).
    std::uint64_t leaf_entry;
    page_permissions upper;
};

constexpr std::uint64_t page_bytes(const walk_result& r) {
    return sdm::paging::leaf_bytes(r.level);
}

inline constexpr unsigned max_walk_attempts = 4;

namespace detail {

inline constexpr unsigned levels = 4;

// The entries one walk read, from the PML4E down, and where each is in guest memory.
struct walk_path {
    std::uint64_t entry[levels];
    std::uint64_t address[levels];
    unsigned depth;
};

std::uint64_t pml4_address(std::uint64_t cr3, const paging_context& c);
constexpr sdm::paging::level below(sdm::paging::level l) {
    return static_cast<sdm::paging::level>(static_cast<unsigned>(l) - 1);
}
// True when `entry`, read at `l`, ends the walk with a fault (then stored in `fault`): not
// present, or a reserved bit set.
bool entry_faults(std::uint64_t entry, sdm::paging::level l, access a, const paging_context& c,
                  walk_result& fault);
// `p` narrowed by one more entry of the path: R/W and U/S must be set, XD (with EFER.NXE) clear.
page_permissions with_entry(page_permissions p, std::uint64_t entry, const paging_context& c);
// The translation of a complete path, or the rights violation it gives `a`.
walk_result translate(const walk_path& p, std::uint64_t linear, access a, const paging_context& c);
walk_result outcome_only(walk_outcome o, std::uint64_t address, sdm::paging::level l);

// Set A in every entry of `p` and D in the leaf for a write; false when an entry changed since
// it was read (nothing after it is written then). An entry read at two levels (a table that maps
// itself) is expected to hold, at the second, what the first store left in it.
template <guest_ram M> bool set_accessed_dirty(M& memory, walk_path p, access a) {
    for (unsigned i = 0; i < p.depth; ++i) {
        std::uint64_t want = p.entry[i] | sdm::paging::accessed;
        if (i + 1 == p.depth && a.kind == access_kind::write)
            want |= sdm::paging::dirty;
        if (want == p.entry[i])
            continue;
        if (!memory.cmpxchg64(p.address[i], p.entry[i], want))
            return false;
        for (unsigned j = i + 1; j < p.depth; ++j)
            if (p.address[j] == p.address[i])
                p.entry[j] = want;
    }
    return true;
}

} // namespace detail

// Translate `linear` for access `a` through the tables at `cr3` (its bits MAXPHYADDR-1:12; the
// MOV to CR3 that loaded it checked the rest). The caller is in 4-level paging: CR0.PG = 1,
// CR4.PAE = 1, EFER.LMA = 1, CR4.LA57 = 0.
template <guest_ram M>
walk_result guest_walk(M& memory, std::uint64_t cr3, std::uint64_t linear, access a,
                       const paging_context& c) {
    using sdm::paging::level;
    if (!is_canonical(linear))
        return detail::outcome_only(walk_outcome::non_canonical, 0, level::pml4);
    for (unsigned attempt = 0; attempt < max_walk_attempts; ++attempt) {
        detail::walk_path path{};
        std::uint64_t table = detail::pml4_address(cr3, c);
        for (level l = level::pml4;; l = detail::below(l)) {
            const std::uint64_t at = sdm::paging::entry_address(table, linear, l);
            const guest_word w = memory.read64(at);
            if (!w.in_ram)
                return detail::outcome_only(walk_outcome::table_outside_ram, at, l);
            walk_result fault{};
            if (detail::entry_faults(w.value, l, a, c, fault))
                return fault;
            path.entry[path.depth] = w.value;
            path.address[path.depth++] = at;
            if (sdm::paging::is_leaf(w.value, l))
                break;
            table = w.value & sdm::paging::address_mask;
        }
        const walk_result r = detail::translate(path, linear, a, c);
        if (r.outcome != walk_outcome::translated || detail::set_accessed_dirty(memory, path, a))
            return r;
    }
    return detail::outcome_only(walk_outcome::raced, 0, level::pml4);
}

} // namespace es::mmu
