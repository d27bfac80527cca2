// Which neighbouring guest PTE a fill may prefetch, and its rights (see shadow_prefetch.hpp).
#include "mmu/shadow_prefetch.hpp"

namespace es::mmu {

neighbour neighbour_translation(std::uint64_t entry, std::uint64_t entry_address,
                                const walk_result& fill, const paging_context& c) {
    using namespace sdm::paging;
    if ((entry & present) == 0)
        return {prefetch_skip::not_present, {}};
    if ((entry & reserved_bits(entry, level::pt, c.maxphyaddr, c.nx, c.page_1gb)) != 0)
        return {prefetch_skip::reserved_bit, {}};
    if ((entry & accessed) == 0)
        return {prefetch_skip::not_accessed, {}};
    page_permissions p = detail::with_entry(fill.upper, entry, c);
    p.global = c.global_pages && (entry & global) != 0;
    return {prefetch_skip::prefetched,
            {walk_outcome::translated, leaf_frame(entry, level::pt), 0, level::pt, p,
             (entry & dirty) != 0, entry_address, fill.upper}};
}

} // namespace es::mmu
