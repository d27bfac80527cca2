// The rules of the guest walk that need no memory: an entry's faults, the combined rights and
// their check against the access, and the #PF error code (SDM Vol. 3A, June 2023).
#include "mmu/guest_walk.hpp"

namespace es::mmu {

using sdm::paging::level;
namespace pf = sdm::paging::pf_error;

namespace {

// "Page-Fault Exceptions": P is the cause's; W/R, U/S and I/D describe the access.
std::uint32_t error_code(access a, const paging_context& c, std::uint32_t cause) {
    std::uint32_t code = cause;
    if (a.kind == access_kind::write)
        code |= pf::write;
    if (a.user)
        code |= pf::user;
    if (a.kind == access_kind::fetch && (c.smep || c.nx))
        code |= pf::fetch;
    return code;
}

walk_result page_fault(access a, const paging_context& c, std::uint32_t cause, level l) {
    walk_result r = detail::outcome_only(walk_outcome::page_fault, 0, l);
    r.error_code = error_code(a, c, cause);
    return r;
}

// "Access Rights": a user access needs a user page (and R/W for a write, no XD for a fetch); a
// supervisor fetch needs no XD and, with SMEP, a supervisor page; a supervisor data access to a
// user page needs, with SMAP, the override (explicit, EFLAGS.AC = 1); a supervisor write needs
// R/W only with CR0.WP = 1.
bool allowed(const page_permissions& p, access a, const paging_context& c) {
    const bool write = a.kind == access_kind::write;
    if (a.kind == access_kind::fetch)
        return p.executable && (a.user ? p.user : !(c.smep && p.user));
    if (a.user)
        return p.user && (!write || p.writable);
    if (p.user && c.smap && !a.smap_override)
        return false;
    return !write || p.writable || !c.write_protect;
}

} // namespace

namespace detail {

std::uint64_t pml4_address(std::uint64_t cr3, const paging_context& c) {
    return cr3 & sdm::paging::address_mask & sdm::paging::phys_mask(c.maxphyaddr);
}

walk_result outcome_only(walk_outcome o, std::uint64_t address, level l) {
    return {o, address, 0, l, {}, false, 0, {}};
}

bool entry_faults(std::uint64_t entry, level l, access a, const paging_context& c,
                  walk_result& fault) {
    if ((entry & sdm::paging::present) == 0) {
        fault = page_fault(a, c, 0, l);
        return true;
    }
    if ((entry & sdm::paging::reserved_bits(entry, l, c.maxphyaddr, c.nx, c.page_1gb)) != 0) {
        fault = page_fault(a, c, pf::present | pf::reserved, l);
        return true;
    }
    return false;
}

page_permissions with_entry(page_permissions p, std::uint64_t entry, const paging_context& c) {
    p.writable = p.writable && (entry & sdm::paging::writable) != 0;
    p.user = p.user && (entry & sdm::paging::user) != 0;
    if (c.nx && (entry & sdm::paging::execute_disable) != 0)
        p.executable = false;
    return p;
}

walk_result translate(const walk_path& p, std::uint64_t linear, access a, const paging_context& c) {
    page_permissions upper{true, true, true, false};
    for (unsigned i = 0; i + 1 < p.depth; ++i)
        upper = with_entry(upper, p.entry[i], c);
    const std::uint64_t leaf = p.entry[p.depth - 1];
    page_permissions perms = with_entry(upper, leaf, c);
    const auto l = static_cast<level>(levels + 1 - p.depth);
    perms.global = c.global_pages && (leaf & sdm::paging::global) != 0;
    if (!allowed(perms, a, c))
        return page_fault(a, c, pf::present, l);
    const std::uint64_t offset = linear & (sdm::paging::leaf_bytes(l) - 1);
    return {walk_outcome::translated,
            sdm::paging::leaf_frame(leaf, l) | offset,
            0,
            l,
            perms,
            a.kind == access_kind::write || (leaf & sdm::paging::dirty) != 0,
            p.address[p.depth - 1],
            upper};
}

} // namespace detail

} // namespace es::mmu
