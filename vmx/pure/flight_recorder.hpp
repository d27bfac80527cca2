// The flight recorder: per CPU, a ring of the last exits and a ring of outliers (exits whose
// handling took longer than a threshold). Written only by the ring's CPU on the exit path;
// read by ES_IOC_TRACE, which merges the CPUs' rings oldest first.
#pragma once

#include <cstdint>

#include "exitscope/abi.h"

namespace es {

// The slots a reader walks, oldest first, as indices [first, end) taken modulo the ring's size.
struct ring_window {
    std::uint64_t first;
    std::uint64_t end;
};

// One entry per cache line: a power-of-two stride.
struct alignas(64) trace_slot {
    es_trace_entry entry;
};

// A ring of entries: a count of entries ever written, whose remainder picks the slot.
template <std::uint32_t Slots> struct trace_ring {
    static constexpr std::uint32_t slots = Slots;
    trace_slot s[slots];
    std::uint64_t head; // entries ever written; the newest is at (head - 1) % slots

    es_trace_entry& next() { return s[head % slots].entry; }
    es_trace_entry& newest() { return s[(head - 1) % slots].entry; }
    void commit() { head += 1; }
    ring_window window() const {
        const std::uint64_t h = __atomic_load_n(&head, __ATOMIC_ACQUIRE);
        return {h > slots ? h - slots : 0, h};
    }
    const es_trace_entry& at(std::uint64_t i) const { return s[i % slots].entry; }
};

// The last exits (written on every exit: a power of two, so the slot is the head's low bits) and
// the outliers (exits whose handling took longer than a threshold).
using exit_ring = trace_ring<ES_TRACE_RING>;
using outlier_ring = trace_ring<ES_TRACE_OUTLIERS>;
static_assert((exit_ring::slots & (exit_ring::slots - 1)) == 0);

struct alignas(64) cpu_recorder {
    exit_ring last;
    outlier_ring outliers;
};

// A reader's place in one CPU's ring.
struct ring_cursor {
    const trace_slot* slots;
    std::uint64_t size;
    std::uint64_t next; // index of the next entry to merge
    std::uint64_t end;
    const es_trace_entry& at(std::uint64_t i) const { return slots[i % size].entry; }
};

// Copy up to `capacity` of the newest entries of `nr` CPUs' rings (the last exits, or the
// outliers) into `out`, oldest first, keeping only VM `vm` unless it is 0. `cursors` is scratch,
// one per CPU (every CPU counts, however many). Returns the count.
std::uint32_t collect_trace(const cpu_recorder* cpus, std::uint32_t nr, bool outliers,
                            std::uint32_t vm, es_trace_entry* out, std::uint32_t capacity,
                            ring_cursor* cursors);

} // namespace es
