// Shared by the fuzz targets that decode their input as a stream: little-endian values taken
// from the front, zeros once it runs out.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fuzz {
struct input {
    const std::uint8_t* data;
    std::size_t size, at = 0;
    bool empty() const { return at >= size; }
    std::uint64_t take(unsigned bytes) {
        std::uint64_t v = 0;
        for (unsigned i = 0; i < bytes && at < size; ++i)
            v |= std::uint64_t{data[at++]} << (8 * i);
        return v;
    }
};
} // namespace fuzz
