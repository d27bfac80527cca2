// Exit counters: recording, histograms, folding, reset baselines and per-CPU section sums.
#include <catch2/catch.hpp>
#include <memory>

#include "vmx/pure/exit_counters.hpp"
#include "vmx/pure/index_nospec.hpp"

using namespace es;

namespace {

// Rows are big (43 KiB): keep them on the heap.
std::unique_ptr<counter_row> row() {
    auto r = std::make_unique<counter_row>();
    init_row(*r);
    return r;
}

std::unique_ptr<counter_totals> totals() {
    auto t = std::make_unique<counter_totals>();
    clear(*t);
    return t;
}

std::unique_ptr<reason_sums> sums() {
    return std::make_unique<reason_sums>();
}

unsigned __int128 sumsq(const es_reason_stats& s) {
    return (static_cast<unsigned __int128>(s.sumsq_hi) << 64) | s.sumsq_lo;
}

// One exit as the run loop records it: the totals at every level, the cell from level 1 on.
void exit_of(counter_row& r, std::uint32_t reason, std::uint64_t cycles,
             instrument_level level = instrument_level::recorder) {
    r.exits += 1;
    r.cycles += cycles;
    if (level == instrument_level::off)
        return;
    record_exit(r.cell[reason]);
    record_cycles(r.cell[reason], cycles, level);
}

} // namespace

TEST_CASE("a row is cache-line aligned, and its size does not depend on CPUs") {
    CHECK(alignof(counter_row) == 64);
    CHECK(sizeof(counter_row) % 64 == 0);
    CHECK(sizeof(counter_row) < 48 * 1024);
}

TEST_CASE("row buckets are floor(log2(cycles)); the ABI's last bucket takes the rest") {
    CHECK(hist_bucket(0) == 0);
    CHECK(hist_bucket(1) == 0);
    CHECK(hist_bucket(2) == 1);
    CHECK(hist_bucket(3) == 1);
    CHECK(hist_bucket(1024) == 10);
    CHECK(hist_bucket(2047) == 10);
    CHECK(hist_bucket(~0ull) == row_hist_buckets - 1);
    CHECK(abi_bucket(hist_buckets - 2) == hist_buckets - 2);
    CHECK(abi_bucket(hist_buckets - 1) == hist_buckets - 1);
    CHECK(abi_bucket(row_hist_buckets - 1) == hist_buckets - 1);
}

TEST_CASE("handling times past the ABI's buckets are counted in its last one") {
    auto r = row();
    for (std::uint64_t c : {1ull << 39, 1ull << 45, ~0ull, 5ull})
        exit_of(*r, 10, c, instrument_level::histograms);
    CHECK(r->cell[10].hist[63] == 1);
    auto t = totals();
    add_row(*t, *r);
    CHECK(t->r[10].hist[hist_buckets - 1] == 3);
    CHECK(t->r[10].hist[2] == 1);
    CHECK(t->r[10].max_cycles == ~0ull);
}

TEST_CASE("recording keeps totals, count, cycles, extremes, squares and histogram") {
    auto r = row();
    for (std::uint64_t c : {100u, 300u, 200u})
        exit_of(*r, 10, c);
    exit_of(*r, 30, 7);
    auto t = totals();
    add_row(*t, *r);
    const es_reason_stats& s = t->r[10];
    CHECK(t->exits == 4);
    CHECK(t->cycles == 607);
    CHECK(s.count == 3);
    CHECK(s.cycles == 600);
    CHECK(s.min_cycles == 100);
    CHECK(s.max_cycles == 300);
    CHECK(sumsq(s) == 100 * 100 + 300 * 300 + 200 * 200);
    CHECK(s.hist[6] == 1); // 100
    CHECK(s.hist[7] == 1); // 200
    CHECK(s.hist[8] == 1); // 300
    std::uint64_t in_hist = 0;
    for (auto h : s.hist)
        in_hist += h;
    CHECK(in_hist == s.count);
}

// Level 0 (totals only) is the run loop's `if constexpr` (vmx/run_loop.cpp), which does not run on
// the host: a check of it here would test exit_of() above, a copy.
TEST_CASE("level 1 keeps only counts and cycles") {
    auto r = row();
    exit_of(*r, 12, 50, instrument_level::counters);
    CHECK(r->cell[12].count == 1);
    CHECK(r->cell[12].cycles == 50);
    CHECK(r->cell[12].max == 0);
    CHECK(r->cell[12].hist[5] == 0);
    CHECK(r->cell[12].min == no_min);
    CHECK(r->cell[12].sumsq == 0);
}

TEST_CASE("sum of squares carries into the high word") {
    auto r = row();
    const std::uint64_t big = 1ull << 40;
    for (int i = 0; i < 1000; ++i)
        exit_of(*r, 1, big, instrument_level::histograms);
    auto t = totals();
    add_row(*t, *r);
    CHECK(sumsq(t->r[1]) == static_cast<unsigned __int128>(big) * big * 1000);
    CHECK(t->r[1].sumsq_hi != 0);
}

TEST_CASE("summing rows: min ignores rows without exits") {
    auto a = row();
    auto b = row();
    auto c = row();
    exit_of(*a, 10, 500);
    exit_of(*c, 10, 70);
    auto t = totals();
    add_row(*t, *a);
    add_row(*t, *b);
    add_row(*t, *c);
    CHECK(t->r[10].count == 2);
    CHECK(t->r[10].min_cycles == 70);
    CHECK(t->r[10].max_cycles == 500);
    CHECK(t->r[30].min_cycles == 0);
}

TEST_CASE("folding a dying VM's row into the retired row keeps every statistic") {
    auto retired = row();
    auto vm = row();
    exit_of(*retired, 48, 900);
    exit_of(*vm, 48, 40);
    exit_of(*vm, 10, 5);
    fold_row(*retired, *vm);
    auto t = totals();
    add_row(*t, *retired);
    CHECK(t->exits == 3);
    CHECK(t->cycles == 945);
    CHECK(t->r[48].count == 2);
    CHECK(t->r[48].min_cycles == 40);
    CHECK(t->r[48].max_cycles == 900);
    CHECK(sumsq(t->r[48]) == 900 * 900 + 40 * 40);
}

TEST_CASE("folding a row without exits keeps the minimum; a fresh fold target takes the other's") {
    auto a = row();
    auto empty = row();
    auto fresh = row();
    exit_of(*a, 10, 70);
    fold_row(*a, *empty);
    fold_row(*fresh, *a); // like the retired row after load
    auto t = totals();
    add_row(*t, *fresh);
    CHECK(t->r[10].min_cycles == 70);
    CHECK(t->r[30].min_cycles == 0); // no exits: no minimum
    CHECK(empty->cell[10].min == no_min);
}

TEST_CASE("subtracting a reset baseline leaves what happened since, totals included") {
    auto r = row();
    exit_of(*r, 10, 8);
    auto base = totals();
    add_row(*base, *r);
    exit_of(*r, 10, 16);
    auto now = totals();
    add_row(*now, *r);
    subtract(*now, *base);
    CHECK(now->exits == 1);
    CHECK(now->cycles == 16);
    CHECK(now->r[10].count == 1);
    CHECK(now->r[10].cycles == 16);
    CHECK(now->r[10].hist[3] == 0);
    CHECK(now->r[10].hist[4] == 1);
    CHECK(sumsq(now->r[10]) == 256);
}

TEST_CASE("a baseline taken before a VM was destroyed still subtracts exactly after the fold") {
    auto retired = row();
    auto vm = row();
    exit_of(*vm, 10, 3);
    auto base = totals(); // reset: retired + the live VM
    add_row(*base, *retired);
    add_row(*base, *vm);
    exit_of(*vm, 10, 4);
    fold_row(*retired, *vm); // the VM goes away
    auto now = totals();
    add_row(*now, *retired);
    subtract(*now, *base);
    CHECK(now->exits == 1);
    CHECK(now->r[10].count == 1);
    CHECK(now->r[10].cycles == 4);
}

TEST_CASE("per-CPU sums: a CPU that joins late counts only its own sections") {
    auto vm = row();
    auto cpu0 = sums();
    auto cpu1 = sums();
    auto start = sums();
    section_start(*start, *vm); // a section on CPU 0
    exit_of(*vm, 10, 5);
    exit_of(*vm, 30, 6);
    add_section(*cpu0, *vm, *start);
    section_start(*start, *vm); // the VM moves to CPU 1, which has run nothing so far
    exit_of(*vm, 10, 7);
    // While the section runs, CPU 1's figure is its folded sums plus the section so far.
    auto now = sums();
    *now = *cpu1;
    add_section(*now, *vm, *start);
    CHECK(now->r[10].count == 1);
    CHECK(now->r[10].cycles == 7);
    add_section(*cpu1, *vm, *start);
    CHECK(cpu0->r[10].count == 1);
    CHECK(cpu0->r[30].count == 1);
    CHECK(cpu1->r[10].count == 1);
    CHECK(cpu1->r[30].count == 0);
    // The CPUs together account for the VM's row exactly.
    auto t = totals();
    add_sums(*t, *cpu0);
    add_sums(*t, *cpu1);
    CHECK(t->r[10].count == vm->cell[10].count);
    CHECK(t->r[10].cycles == vm->cell[10].cycles);
    CHECK(t->exits == vm->exits);
    CHECK(t->cycles == vm->cycles);
}

TEST_CASE("64-bit counts do not wrap at 32 bits") {
    auto r = row();
    r->cell[10].count = 0xffffffffull;
    exit_of(*r, 10, 1);
    CHECK(r->cell[10].count == 0x100000000ull);
}

TEST_CASE("the dispatcher's index clamp keeps in-range indices and zeroes the rest") {
    CHECK(array_index_nospec(0, nr_reasons) == 0);
    CHECK(array_index_nospec(nr_reasons - 1, nr_reasons) == nr_reasons - 1);
    CHECK(array_index_nospec(nr_reasons, nr_reasons) == 0);
    CHECK(array_index_nospec(0x80000021u, nr_reasons) == 0);
    CHECK(array_index_nospec(~std::size_t{0}, nr_reasons) == 0);
}
