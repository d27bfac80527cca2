// Exit counters: one row per CPU per VM, written only by that CPU without locked instructions,
// and summed by readers. A row carries, per exit reason, count, cycles, min, max, the sum of
// squares and a log2 latency histogram. The exit path writes them with interrupts off, so a
// reader that copies a CPU's rows on that CPU (stats.cpp, by IPI) always sees whole updates:
// the writer pays nothing for consistency. Pure: unit-tested on the host.
#pragma once

#include <cstdint>

#include "exitscope/abi.h"
#include "sdm/exit_reasons.hpp"

namespace es {

inline constexpr std::uint32_t nr_reasons = sdm::exit_reason_count;
inline constexpr std::uint32_t hist_buckets = ES_HIST_BUCKETS;
// A row keeps one bucket per bit position of a 64-bit cycle count, so the exit path indexes it
// with BSR alone (no clamp); readers fold the buckets past the ABI's last into it.
inline constexpr std::uint32_t row_hist_buckets = 64;
static_assert(nr_reasons == ES_NR_REASONS, "the ABI's arrays cover every defined reason");

// Instrumentation levels (module parameter `instrument`).
enum class instrument_level : std::uint32_t { off = 0, counters = 1, histograms = 2, recorder = 3 };

struct reason_cell {
    std::uint64_t count;
    std::uint64_t cycles;
    std::uint64_t max;
    std::uint64_t min; // no_min until the first exit is timed (init_rows)
    std::uint64_t sumsq_lo;
    std::uint64_t sumsq_hi;
    std::uint64_t hist[row_hist_buckets];
};

// A row is cache-line aligned so two CPUs never write the same line.
struct alignas(64) counter_row {
    reason_cell cell[nr_reasons];
};

// "No minimum yet": above any real handling time, so the exit path's minimum is one comparison.
inline constexpr std::uint64_t no_min = ~0ull;

// Rows start zeroed but for the minimum.
inline void init_rows(counter_row* rows, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i)
        for (reason_cell& c : rows[i].cell) {
            c = reason_cell{};
            c.min = no_min;
        }
}

// The row bucket of a handling time: floor(log2(cycles)), 0 for 0 and 1.
constexpr std::uint64_t hist_bucket(std::uint64_t cycles) {
    return 63u - static_cast<std::uint64_t>(__builtin_clzll(cycles | 1));
}

// The ABI bucket of a row bucket: the last one holds everything from 2^(hist_buckets - 1) up.
constexpr std::uint32_t abi_bucket(std::uint32_t row_bucket) {
    return row_bucket < hist_buckets ? row_bucket : hist_buckets - 1;
}

// The 128-bit sum of squares is kept as two 64-bit words (lo, hi).
using u128 = unsigned __int128;
constexpr u128 join128(std::uint64_t lo, std::uint64_t hi) {
    return (u128{hi} << 64) | lo;
}
inline void split128(u128 v, std::uint64_t& lo, std::uint64_t& hi) {
    lo = static_cast<std::uint64_t>(v);
    hi = static_cast<std::uint64_t>(v >> 64);
}

// hist_bucket on the exit path: BSR alone. Its destination starts at 0 and BSR leaves it as it
// was for a zero source, which AMD documents and Intel's CPUs do (Linux's fls64 relies on it
// too), so 0 lands in bucket 0 without the OR hist_bucket needs to be constexpr.
inline std::uint64_t bucket_of(std::uint64_t cycles) {
#if defined(__x86_64__)
    std::uint64_t b = 0;
    asm("bsrq %[v], %[b]" : [b] "+r"(b) : [v] "rm"(cycles) : "cc");
    return b;
#else
    return hist_bucket(cycles);
#endif
}

// sumsq += v * v, as 128 bits.
inline void add_square(reason_cell& c, std::uint64_t v) {
#if defined(__x86_64__)
    std::uint64_t lo = v;
    std::uint64_t hi;
    asm("mulq %[v]\n\taddq %%rax, %[sum_lo]\n\tadcq %%rdx, %[sum_hi]"
        : "+a"(lo), "=&d"(hi), [sum_lo] "+m"(c.sumsq_lo), [sum_hi] "+m"(c.sumsq_hi)
        : [v] "r"(v)
        : "cc");
#else
    split128(join128(c.sumsq_lo, c.sumsq_hi) + u128{v} * v, c.sumsq_lo, c.sumsq_hi);
#endif
}

// Writers: the row's own CPU only, with interrupts off. Plain adds compile to one `add` to
// memory each, never a locked instruction; aligned 64-bit stores are never torn for readers.
inline void record_exit(reason_cell& c) {
    c.count += 1;
}

inline void record_cycles(reason_cell& c, std::uint64_t cycles, instrument_level level) {
    c.cycles += cycles;
    if (level < instrument_level::histograms)
        return;
    if (cycles > c.max)
        c.max = cycles;
    if (cycles < c.min)
        c.min = cycles;
    add_square(c, cycles);
    c.hist[bucket_of(cycles)] += 1;
}

inline void record_exit(counter_row& row, std::uint32_t reason) {
    record_exit(row.cell[reason]);
}

inline void record_cycles(counter_row& row, std::uint32_t reason, std::uint64_t cycles,
                          instrument_level level) {
    record_cycles(row.cell[reason], cycles, level);
}

inline std::uint64_t relaxed_read(const std::uint64_t& cell) {
    return __atomic_load_n(&cell, __ATOMIC_RELAXED);
}

// Sums over rows, in the ABI's layout (es_stats.reasons).
struct counter_totals {
    es_reason_stats r[nr_reasons];
};

inline void merge_cell(es_reason_stats& into, const reason_cell& c) {
    into.count += c.count;
    into.cycles += c.cycles;
    if (c.max > into.max_cycles)
        into.max_cycles = c.max;
    if (c.min != no_min && (into.min_cycles == 0 || c.min < into.min_cycles))
        into.min_cycles = c.min;
    split128(join128(into.sumsq_lo, into.sumsq_hi) + join128(c.sumsq_lo, c.sumsq_hi), into.sumsq_lo,
             into.sumsq_hi);
    for (unsigned b = 0; b < row_hist_buckets; ++b)
        into.hist[abi_bucket(b)] += c.hist[b];
}

// Add `n` rows into `into`. Consistent only where no exit path writes them meanwhile: rows of
// this CPU with interrupts off, or of a VM that runs nowhere.
inline void add_rows(counter_totals& into, const counter_row* rows, std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i)
        for (std::uint32_t r = 0; r < nr_reasons; ++r)
            merge_cell(into.r[r], rows[i].cell[r]);
}

// Fold `from` into `into` (a VM's rows into the retired rows when it is destroyed).
inline void fold_row(counter_row& into, const counter_row& from) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        reason_cell& a = into.cell[r];
        const reason_cell& b = from.cell[r];
        a.count += b.count;
        a.cycles += b.cycles;
        if (b.max > a.max)
            a.max = b.max;
        if (b.min < a.min)
            a.min = b.min;
        split128(join128(a.sumsq_lo, a.sumsq_hi) + join128(b.sumsq_lo, b.sumsq_hi), a.sumsq_lo,
                 a.sumsq_hi);
        for (unsigned h = 0; h < row_hist_buckets; ++h)
            a.hist[h] += b.hist[h];
    }
}

inline void clear(counter_totals& t) {
    for (auto& r : t.r)
        r = es_reason_stats{};
}

// `a - b` for everything a reset baseline can subtract; min and max stay those of `a`.
inline void subtract(counter_totals& a, const counter_totals& b) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        es_reason_stats& x = a.r[r];
        const es_reason_stats& y = b.r[r];
        x.count -= y.count;
        x.cycles -= y.cycles;
        split128(join128(x.sumsq_lo, x.sumsq_hi) - join128(y.sumsq_lo, y.sumsq_hi), x.sumsq_lo,
                 x.sumsq_hi);
        for (unsigned h = 0; h < hist_buckets; ++h)
            x.hist[h] -= y.hist[h];
    }
}

// Sums of single cells over rows, for the CPUID leaves (no copy of whole rows on that path).
inline std::uint64_t sum_count(const counter_row* rows, std::uint32_t n, std::uint32_t reason) {
    std::uint64_t s = 0;
    for (std::uint32_t i = 0; i < n; ++i)
        s += relaxed_read(rows[i].cell[reason].count);
    return s;
}

inline std::uint64_t sum_cycles(const counter_row* rows, std::uint32_t n, std::uint32_t reason) {
    std::uint64_t s = 0;
    for (std::uint32_t i = 0; i < n; ++i)
        s += relaxed_read(rows[i].cell[reason].cycles);
    return s;
}

} // namespace es
