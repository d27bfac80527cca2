// The index clamp of the exit dispatcher and the counters, kept here so the host unit tests can
// check it.
#pragma once

#include <cstddef>

namespace es {

// `index` if it is below `size`, else 0, also under speculation: a mispredicted bounds check
// must not let a table lookup or counter update use a guest-chosen index (Spectre v1). The
// mask comes from CMP and SBB, which the CPU does not predict (Linux's array_index_nospec).
inline std::size_t array_index_nospec(std::size_t index, std::size_t size) {
#if defined(__x86_64__)
    std::size_t mask;
    asm volatile("cmp %[size], %[index]\n\tsbb %[mask], %[mask]"
                 : [mask] "=r"(mask)
                 : [size] "g"(size), [index] "r"(index)
                 : "cc");
    return index & mask;
#else
    return index < size ? index : 0;
#endif
}

} // namespace es
