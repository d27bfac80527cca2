// Reading and writing the boot protocol's little-endian fields in a byte string (a bzImage or a
// zero page), for the loader's unit tests and its fuzz target.
#pragma once

#include <cstdint>
#include <string>

#include "linux_boot/boot_params.hpp"

namespace es::test {

inline void put(std::string& s, linux_boot::field f, std::uint64_t v) {
    for (std::uint32_t i = 0; i < f.bytes; ++i)
        s[f.offset + i] = static_cast<char>(v >> (8 * i));
}

inline std::uint64_t get(const std::string& s, std::uint32_t offset, std::uint32_t bytes) {
    std::uint64_t v = 0;
    for (std::uint32_t i = 0; i < bytes; ++i)
        v |= std::uint64_t{static_cast<std::uint8_t>(s[offset + i])} << (8 * i);
    return v;
}

inline std::uint64_t get(const std::string& s, linux_boot::field f) {
    return get(s, f.offset, f.bytes);
}

} // namespace es::test
