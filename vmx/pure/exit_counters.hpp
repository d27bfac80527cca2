// Exit counters. Each VM has one row: its vCPU runs on one CPU at a time, and only that CPU
// writes the row, with interrupts off and without locked instructions (as KVM's per-vCPU
// statistics). A row carries the VM's totals and, per exit reason, count, cycles, min, max, the
// sum of squares and a log2 latency histogram. Everything wider is derived by readers (stats.cpp):
// global figures sum the rows of live VMs, the retired row of destroyed ones and subtract the
// reset baseline; per-CPU figures come from each guest section's counts and cycles, folded into
// the CPU's sums when the section ends. Pure: unit-tested on the host.
#pragma once

#include <cstdint>

#include "exitscope/abi.h"
#include "sdm/exit_reasons.hpp"

namespace es {

inline constexpr std::uint32_t nr_reasons = sdm::exit_reason_count;
inline constexpr std::uint32_t hist_buckets = ES_HIST_BUCKETS;
// A row keeps one bucket per bit position of a 64-bit cycle count, so the exit path needs no
// clamp; readers fold the buckets past the ABI's last into it.
inline constexpr std::uint32_t row_hist_buckets = 64;
static_assert(nr_reasons == ES_NR_REASONS, "the ABI's arrays cover every defined reason");

// Instrumentation levels (module parameter `instrument`).
enum class instrument_level : std::uint32_t { off = 0, counters = 1, histograms = 2, recorder = 3 };

using u128 = unsigned __int128;

struct reason_cell {
    std::uint64_t count;
    std::uint64_t cycles;
    std::uint64_t max;
    std::uint64_t min; // no_min until the first exit is timed (init_row)
    u128 sumsq;
    std::uint64_t hist[row_hist_buckets];
};

// One VM's counters. `exits` and `cycles` count every exit at every instrumentation level (the
// run's figures and the total leaves come from them); the cells from level 1 on.
struct alignas(64) counter_row {
    std::uint64_t exits;
    std::uint64_t cycles;
    reason_cell cell[nr_reasons];
};

// "No minimum yet": above any real handling time, so the exit path's minimum is one comparison.
inline constexpr std::uint64_t no_min = ~0ull;

// Field by field: no row-sized temporary on the kernel stack.
inline void init_row(counter_row& row) {
    row.exits = row.cycles = 0;
    for (reason_cell& c : row.cell) {
        c.count = c.cycles = c.max = 0;
        c.min = no_min;
        c.sumsq = 0;
        for (std::uint64_t& h : c.hist)
            h = 0;
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

constexpr u128 join128(std::uint64_t lo, std::uint64_t hi) {
    return (u128{hi} << 64) | lo;
}
inline void split128(u128 v, std::uint64_t& lo, std::uint64_t& hi) {
    lo = static_cast<std::uint64_t>(v);
    hi = static_cast<std::uint64_t>(v >> 64);
}

// Writers: the row's VM's running CPU only, with interrupts off. Plain adds compile to one `add`
// to memory each, never a locked instruction; aligned 64-bit stores are never torn for readers.
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
    c.sumsq += u128{cycles} * cycles;
    c.hist[hist_bucket(cycles)] += 1;
}

inline std::uint64_t relaxed_read(const std::uint64_t& cell) {
    return __atomic_load_n(&cell, __ATOMIC_RELAXED);
}

// Count and cycles of each reason: what a CPU keeps of the guest sections it ran (stats.cpp).
struct count_cycles {
    std::uint64_t count;
    std::uint64_t cycles;
};
struct reason_sums {
    count_cycles r[nr_reasons];
};

// A section starts: remember where the row's counts stand.
inline void section_start(reason_sums& start, const counter_row& row) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r)
        start.r[r] = {row.cell[r].count, row.cell[r].cycles};
}

// `into` += what the row counted since `start`.
inline void add_section(reason_sums& into, const counter_row& row, const reason_sums& start) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        into.r[r].count += row.cell[r].count - start.r[r].count;
        into.r[r].cycles += row.cell[r].cycles - start.r[r].cycles;
    }
}

// Sums over rows, in the ABI's layout (es_stats.reasons), with the totals.
struct counter_totals {
    es_reason_stats r[nr_reasons];
    std::uint64_t exits;
    std::uint64_t cycles;
};

inline void clear(counter_totals& t) {
    t.exits = t.cycles = 0;
    for (es_reason_stats& r : t.r)
        r = es_reason_stats{};
}

inline void merge_cell(es_reason_stats& into, const reason_cell& c) {
    into.count += c.count;
    into.cycles += c.cycles;
    if (c.max > into.max_cycles)
        into.max_cycles = c.max;
    if (c.min != no_min && (into.min_cycles == 0 || c.min < into.min_cycles))
        into.min_cycles = c.min;
    split128(join128(into.sumsq_lo, into.sumsq_hi) + c.sumsq, into.sumsq_lo, into.sumsq_hi);
    for (unsigned b = 0; b < row_hist_buckets; ++b)
        into.hist[abi_bucket(b)] += c.hist[b];
}

// Add a row into `into`. Consistent only where no exit path writes it meanwhile (stats.cpp says
// how snapshots ensure that).
inline void add_row(counter_totals& into, const counter_row& row) {
    into.exits += row.exits;
    into.cycles += row.cycles;
    for (std::uint32_t r = 0; r < nr_reasons; ++r)
        merge_cell(into.r[r], row.cell[r]);
}

// Add per-reason counts and cycles (CPU scope has nothing else).
inline void add_sums(counter_totals& into, const reason_sums& s) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        into.r[r].count += s.r[r].count;
        into.r[r].cycles += s.r[r].cycles;
        into.exits += s.r[r].count;
        into.cycles += s.r[r].cycles;
    }
}

// Fold `from` into `into` (a VM's row into the retired row when the VM is destroyed).
inline void fold_row(counter_row& into, const counter_row& from) {
    into.exits += from.exits;
    into.cycles += from.cycles;
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        reason_cell& a = into.cell[r];
        const reason_cell& b = from.cell[r];
        a.count += b.count;
        a.cycles += b.cycles;
        if (b.max > a.max)
            a.max = b.max;
        if (b.min < a.min)
            a.min = b.min;
        a.sumsq += b.sumsq;
        for (unsigned h = 0; h < row_hist_buckets; ++h)
            a.hist[h] += b.hist[h];
    }
}

// `a - b` for everything a reset baseline can subtract; min and max stay those of `a`.
inline void subtract(counter_totals& a, const counter_totals& b) {
    a.exits -= b.exits;
    a.cycles -= b.cycles;
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

} // namespace es
