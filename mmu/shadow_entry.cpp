// The shadow leaf's rights and the meaning of a shadow #PF (see shadow_entry.hpp for the rules).
#include "mmu/shadow_entry.hpp"

namespace es::mmu {

namespace pf = sdm::paging::pf_error;

std::uint64_t shadow_pte(const walk_result& translation, access a, const paging_context& c,
                         std::uint64_t host_frame) {
    using namespace sdm::paging;
    const page_permissions& p = translation.permissions;
    bool write = p.writable && translation.dirty;
    bool usr = p.user;
    bool exec = p.executable;
    if (!p.writable && a.kind == access_kind::write && !a.user && !c.write_protect) {
        write = true; // the walk allowed it, and set D
        usr = false;
        exec = exec && !(c.smep && p.user);
    }
    std::uint64_t e = (host_frame & address_mask) | present | accessed;
    if (write)
        e |= writable | dirty;
    if (usr)
        e |= user;
    if (!exec)
        e |= execute_disable;
    if (p.global)
        e |= global;
    if (translation.level == level::pd)
        e |= shadow_mib_piece;
    else if (translation.level == level::pdpt)
        e |= shadow_gib_piece;
    return e;
}

access access_of_page_fault(std::uint32_t hardware_error_code, bool supervisor_ac) {
    const bool usr = (hardware_error_code & pf::user) != 0;
    access_kind kind = access_kind::read;
    if ((hardware_error_code & pf::fetch) != 0)
        kind = access_kind::fetch;
    else if ((hardware_error_code & pf::write) != 0)
        kind = access_kind::write;
    return {kind, usr, !usr && supervisor_ac};
}

shadow_fault_decision classify_shadow_fault(const walk_result& guest, std::uint64_t linear) {
    switch (guest.outcome) {
    case walk_outcome::translated:
        return {shadow_fault_action::fill, 0, 0, guest};
    case walk_outcome::page_fault:
        return {shadow_fault_action::inject_page_fault, guest.error_code, linear, guest};
    case walk_outcome::non_canonical:
        return {shadow_fault_action::inject_general_protection, 0, 0, guest};
    case walk_outcome::table_outside_ram:
        return {shadow_fault_action::stop_outside_ram, 0, 0, guest};
    case walk_outcome::raced:
        break;
    }
    return {shadow_fault_action::retry, 0, 0, guest};
}

} // namespace es::mmu
