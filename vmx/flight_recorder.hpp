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

// The ring of the last exits, written on every exit. It is exactly 64 KiB, so the byte offset of
// the slot written next wraps by itself as a 16-bit number: the exit path finds its slot with
// one load and moves on with one add, no index arithmetic. Slots never written have TSC 0.
struct exit_ring {
    static constexpr std::uint32_t slots = ES_TRACE_RING;
    trace_slot s[slots];
    std::uint16_t next_offset; // byte offset of the slot written next: the oldest once full

    es_trace_entry& next() {
        return reinterpret_cast<trace_slot*>(reinterpret_cast<char*>(s) + next_offset)->entry;
    }
    void commit() { next_offset = static_cast<std::uint16_t>(next_offset + sizeof(trace_slot)); }
    ring_window window() const {
        const std::uint64_t first =
            __atomic_load_n(&next_offset, __ATOMIC_ACQUIRE) / sizeof(trace_slot);
        return {first, first + slots};
    }
    const es_trace_entry& at(std::uint64_t i) const { return s[i % slots].entry; }
};
static_assert(sizeof(trace_slot) * exit_ring::slots == 0x10000,
              "the exit ring's 16-bit offset must wrap exactly at its end");

// The ring of outliers, written rarely: a plain count of entries ever written.
struct outlier_ring {
    static constexpr std::uint32_t slots = ES_TRACE_OUTLIERS;
    trace_slot s[slots];
    std::uint64_t head; // entries ever written; the newest is at (head - 1) % slots

    es_trace_entry& next() { return s[head % slots].entry; }
    void commit() { head += 1; }
    ring_window window() const {
        const std::uint64_t h = __atomic_load_n(&head, __ATOMIC_ACQUIRE);
        return {h > slots ? h - slots : 0, h};
    }
    const es_trace_entry& at(std::uint64_t i) const { return s[i % slots].entry; }
};

struct alignas(64) cpu_recorder {
    exit_ring last;
    outlier_ring outliers;
};

// Copy up to `capacity` of the newest entries of `nr` CPUs' rings (the last exits, or the
// outliers) into `out`, oldest first, keeping only VM `vm` unless it is 0. Returns the count.
std::uint32_t collect_trace(const cpu_recorder* cpus, std::uint32_t nr, bool outliers,
                            std::uint32_t vm, es_trace_entry* out, std::uint32_t capacity);

} // namespace es
