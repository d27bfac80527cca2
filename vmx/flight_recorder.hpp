// The flight recorder: per CPU, a ring of the last exits and a ring of outliers (exits whose
// handling took longer than a threshold). Written only by the ring's CPU on the exit path;
// read by ES_IOC_TRACE, which merges the CPUs' rings oldest first.
#pragma once

#include <cstdint>

#include "exitscope/abi.h"

namespace es {

template <std::uint32_t N> struct trace_ring {
    // One entry per cache line: a power-of-two stride, so the exit path finds a slot with one
    // shift.
    struct alignas(64) slot {
        es_trace_entry entry;
    };
    slot s[N];
    std::uint64_t head; // entries ever written; the newest is at (head - 1) % N

    es_trace_entry& next() { return s[head % N].entry; }
    void commit() { head += 1; }
    const es_trace_entry& at(std::uint64_t i) const { return s[i % N].entry; }
};

struct alignas(64) cpu_recorder {
    trace_ring<ES_TRACE_RING> last;
    trace_ring<ES_TRACE_OUTLIERS> outliers;
};

// Copy up to `capacity` of the newest entries of `nr` CPUs' rings (the last exits, or the
// outliers) into `out`, oldest first, keeping only VM `vm` unless it is 0. Returns the count.
std::uint32_t collect_trace(const cpu_recorder* cpus, std::uint32_t nr, bool outliers,
                            std::uint32_t vm, es_trace_entry* out, std::uint32_t capacity);

} // namespace es
