// Per-CPU exit counters: one row per CPU, written only by that CPU with plain (non-locked)
// read-modify-write, read by anyone with relaxed loads and summed. Pure: unit-tested on the host.
#pragma once

#include <cstdint>

#include "sdm/exit_reasons.hpp"

namespace es {

inline constexpr std::uint32_t nr_reasons = sdm::exit_reason_count;

// A row is cache-line aligned so two CPUs never write the same line.
struct alignas(64) counter_row {
    std::uint64_t count[nr_reasons];
    std::uint64_t cycles[nr_reasons];
    // Kept beside the per-reason cells so the total leaves answer in O(1); always the sum of
    // the cells above (a test checks it).
    std::uint64_t total_count;
    std::uint64_t total_cycles;
};

// Single-writer update: a relaxed load and store compile to a plain add, never `lock add`.
inline void single_writer_add(std::uint64_t& cell, std::uint64_t delta) {
    __atomic_store_n(&cell, __atomic_load_n(&cell, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}

inline std::uint64_t relaxed_read(const std::uint64_t& cell) {
    return __atomic_load_n(&cell, __ATOMIC_RELAXED);
}

inline void record_exit(counter_row& row, std::uint32_t reason) {
    single_writer_add(row.count[reason], 1);
    single_writer_add(row.total_count, 1);
}

inline void record_cycles(counter_row& row, std::uint32_t reason, std::uint64_t cycles) {
    single_writer_add(row.cycles[reason], cycles);
    single_writer_add(row.total_cycles, cycles);
}

struct counter_snapshot {
    std::uint64_t count[nr_reasons];
    std::uint64_t cycles[nr_reasons];
    std::uint64_t total_count;
    std::uint64_t total_cycles;
};

inline void add_row(counter_snapshot& into, const counter_row& row) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        into.count[r] += relaxed_read(row.count[r]);
        into.cycles[r] += relaxed_read(row.cycles[r]);
    }
    into.total_count += relaxed_read(row.total_count);
    into.total_cycles += relaxed_read(row.total_cycles);
}

// Sum `n` rows (one per CPU).
inline counter_snapshot sum_rows(const counter_row* rows, std::uint32_t n) {
    counter_snapshot s{};
    for (std::uint32_t cpu = 0; cpu < n; ++cpu)
        add_row(s, rows[cpu]);
    return s;
}

// `a - b`, cell by cell: statistics "since the last reset" subtract a baseline instead of zeroing
// rows other CPUs may be writing.
inline counter_snapshot difference(const counter_snapshot& a, const counter_snapshot& b) {
    counter_snapshot d{};
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        d.count[r] = a.count[r] - b.count[r];
        d.cycles[r] = a.cycles[r] - b.cycles[r];
    }
    d.total_count = a.total_count - b.total_count;
    d.total_cycles = a.total_cycles - b.total_cycles;
    return d;
}

} // namespace es
