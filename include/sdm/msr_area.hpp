// An entry of the VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load areas (SDM Vol. 3C,
// "VM-Entry Controls for MSRs", "VM-Exit Controls for MSRs", table "Format of an MSR Entry",
// 325462-080US): the areas are 16-byte aligned arrays of these.
#pragma once

#include <cstdint>

namespace sdm {

struct msr_area_entry {
    std::uint32_t index;    // the MSR's ECX value
    std::uint32_t reserved; // must be 0
    std::uint64_t value;    // loaded (or stored) as WRMSR (RDMSR) would
};
static_assert(sizeof(msr_area_entry) == 16);

inline constexpr std::uint64_t msr_area_alignment = 16;

} // namespace sdm
