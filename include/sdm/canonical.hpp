// Canonical linear addresses with 4-level paging: bits 63:47 all equal ("Canonical Addressing").
// MSRs holding addresses, the guest's RIP in 64-bit mode and every VM-entry check of a base use it.
#pragma once

#include <cstdint>

namespace es {

constexpr bool is_canonical(std::uint64_t address) {
    const auto top = static_cast<std::int64_t>(address) >> 47;
    return top == 0 || top == -1;
}

} // namespace es
