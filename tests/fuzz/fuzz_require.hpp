// Shared by the fuzz targets: a broken invariant aborts, which libFuzzer reports as a crash and
// keeps the input that caused it.
#pragma once

#include <cstdlib>

namespace fuzz {
inline void require(bool ok) {
    if (!ok)
        std::abort();
}
} // namespace fuzz
