// Shared by the guest-walk tests (test_mmu_guest_walk*.cpp): one walk of the fixed tables of
// fake_guest_ram.hpp, the 4 KiB mapping most cases start from, and the fault check.
#pragma once

#include <catch2/catch.hpp>

#include "mmu/guest_walk.hpp"
#include "tests/unit/fake_guest_ram.hpp"

namespace es::test {

using mmu::access_kind;
using mmu::walk_outcome;
using pg::level;

inline mmu::walk_result walk(fake_guest_ram& ram, mmu::access a,
                             const mmu::paging_context& c = linux_like,
                             std::uint64_t linear = lin) {
    return mmu::guest_walk(ram, pml4, linear, a, c);
}

inline fake_guest_ram mapped_4k(std::uint64_t leaf_bits = rw_user,
                                std::uint64_t table_bits = rw_user) {
    fake_guest_ram ram(ram_bytes);
    map(ram, lin, page, leaf_bits, level::pt, table_bits);
    return ram;
}

inline void require_fault(const mmu::walk_result& r, std::uint32_t code, level l) {
    REQUIRE(r.outcome == walk_outcome::page_fault);
    CHECK(r.error_code == code);
    CHECK(r.level == l);
    CHECK(r.address == 0);
}

// The entry of `lin` at `l` in the fixed tables.
inline std::uint64_t entry_at(level l) {
    switch (l) {
    case level::pml4:
        return pml4e(lin);
    case level::pdpt:
        return pdpte(lin);
    case level::pd:
        return pde(lin);
    case level::pt:
        break;
    }
    return pte(lin);
}

inline constexpr level all_levels[] = {level::pml4, level::pdpt, level::pd, level::pt};

// mapped_4k() with the entry at `l` given `set` and losing `clear`.
inline fake_guest_ram mapped_4k_changed(level l, std::uint64_t set, std::uint64_t clear = 0) {
    fake_guest_ram ram = mapped_4k();
    ram[entry_at(l)] = (ram[entry_at(l)] | set) & ~clear;
    return ram;
}

} // namespace es::test
