// Per-CPU counter rows: recording, histograms, folding and aggregation.
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "vmx/exit_counters.hpp"

using namespace es;

namespace {

// Rows are big (43 KiB): keep them on the heap, aligned as the kernel allocates them.
struct rows {
    std::vector<counter_row> v;
    explicit rows(std::size_t n) : v(n) { init_rows(v.data(), n); }
};

std::unique_ptr<counter_totals> totals() {
    auto t = std::make_unique<counter_totals>();
    clear(*t);
    return t;
}

unsigned __int128 sumsq(const es_reason_stats& s) {
    return (static_cast<unsigned __int128>(s.sumsq_hi) << 64) | s.sumsq_lo;
}

} // namespace

TEST_CASE("rows are cache-line aligned and sized") {
    CHECK(alignof(counter_row) == 64);
    CHECK(sizeof(counter_row) % 64 == 0);
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
    rows r(1);
    for (std::uint64_t c : {1ull << 39, 1ull << 45, ~0ull, 5ull}) {
        record_exit(r.v[0], 10);
        record_cycles(r.v[0], 10, c, instrument_level::histograms);
    }
    CHECK(r.v[0].cell[10].hist[63] == 1);
    auto t = totals();
    add_rows(*t, r.v.data(), 1);
    CHECK(t->r[10].hist[hist_buckets - 1] == 3);
    CHECK(t->r[10].hist[2] == 1);
    CHECK(t->r[10].max_cycles == ~0ull);
}

TEST_CASE("recording keeps count, cycles, extremes, squares and histogram") {
    rows r(1);
    counter_row& row = r.v[0];
    for (std::uint64_t c : {100u, 300u, 200u}) {
        record_exit(row, 10);
        record_cycles(row, 10, c, instrument_level::recorder);
    }
    auto t = totals();
    add_rows(*t, &row, 1);
    const es_reason_stats& s = t->r[10];
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

TEST_CASE("level 1 keeps only counts and cycles") {
    rows r(1);
    record_exit(r.v[0], 12);
    record_cycles(r.v[0], 12, 50, instrument_level::counters);
    CHECK(r.v[0].cell[12].cycles == 50);
    CHECK(r.v[0].cell[12].max == 0);
    CHECK(r.v[0].cell[12].hist[5] == 0);
    CHECK(r.v[0].cell[12].min == no_min);
}

TEST_CASE("sum of squares carries into the high word") {
    rows r(1);
    const std::uint64_t big = 1ull << 40;
    for (int i = 0; i < 1000; ++i)
        record_cycles(r.v[0], 1, big, instrument_level::histograms);
    auto t = totals();
    add_rows(*t, r.v.data(), 1);
    CHECK(sumsq(t->r[1]) == static_cast<unsigned __int128>(big) * big * 1000);
    CHECK(t->r[1].sumsq_hi != 0);
}

TEST_CASE("summing over CPUs: min ignores rows without exits") {
    rows r(3);
    record_exit(r.v[0], 10);
    record_cycles(r.v[0], 10, 500, instrument_level::histograms);
    record_exit(r.v[2], 10);
    record_cycles(r.v[2], 10, 70, instrument_level::histograms);
    auto t = totals();
    add_rows(*t, r.v.data(), 3);
    CHECK(t->r[10].count == 2);
    CHECK(t->r[10].min_cycles == 70);
    CHECK(t->r[10].max_cycles == 500);
    CHECK(t->r[30].min_cycles == 0);
}

TEST_CASE("folding a dying VM's row keeps every statistic") {
    rows r(2);
    record_exit(r.v[0], 48);
    record_cycles(r.v[0], 48, 900, instrument_level::histograms);
    record_exit(r.v[1], 48);
    record_cycles(r.v[1], 48, 40, instrument_level::histograms);
    fold_row(r.v[0], r.v[1]);
    auto t = totals();
    add_rows(*t, r.v.data(), 1);
    CHECK(t->r[48].count == 2);
    CHECK(t->r[48].min_cycles == 40);
    CHECK(t->r[48].max_cycles == 900);
    CHECK(sumsq(t->r[48]) == 900 * 900 + 40 * 40);
}

TEST_CASE("folding a row without exits keeps the minimum; a fresh fold target takes the other's") {
    rows r(3);
    record_exit(r.v[0], 10);
    record_cycles(r.v[0], 10, 70, instrument_level::histograms);
    fold_row(r.v[0], r.v[1]); // r.v[1] never saw an exit
    fold_row(r.v[2], r.v[0]); // r.v[2] is fresh, like the retired rows after load
    auto t = totals();
    add_rows(*t, r.v.data() + 2, 1);
    CHECK(t->r[10].min_cycles == 70);
    CHECK(t->r[30].min_cycles == 0); // no exits: no minimum
    CHECK(r.v[1].cell[10].min == no_min);
}

TEST_CASE("subtracting a reset baseline leaves what happened since") {
    rows r(1);
    record_exit(r.v[0], 10);
    record_cycles(r.v[0], 10, 8, instrument_level::histograms);
    auto base = totals();
    add_rows(*base, r.v.data(), 1);
    record_exit(r.v[0], 10);
    record_cycles(r.v[0], 10, 16, instrument_level::histograms);
    auto now = totals();
    add_rows(*now, r.v.data(), 1);
    subtract(*now, *base);
    CHECK(now->r[10].count == 1);
    CHECK(now->r[10].cycles == 16);
    CHECK(now->r[10].hist[3] == 0);
    CHECK(now->r[10].hist[4] == 1);
    CHECK(sumsq(now->r[10]) == 256);
}

TEST_CASE("single cells sum over CPUs for the CPUID leaves") {
    rows r(2);
    record_exit(r.v[0], 10);
    record_exit(r.v[1], 10);
    record_cycles(r.v[1], 10, 9, instrument_level::counters);
    CHECK(sum_count(r.v.data(), 2, 10) == 2);
    CHECK(sum_cycles(r.v.data(), 2, 10) == 9);
}

TEST_CASE("64-bit counts do not wrap at 32 bits") {
    rows r(1);
    r.v[0].cell[10].count = 0xffffffffull;
    record_exit(r.v[0], 10);
    CHECK(sum_count(r.v.data(), 1, 10) == 0x100000000ull);
}

TEST_CASE("the exit path's bucket is hist_bucket's, 0 included") {
    for (std::uint64_t c : {0ull, 1ull, 2ull, 3ull, 100ull, 1ull << 39, (1ull << 40) - 1, ~0ull})
        CHECK(bucket_of(c) == hist_bucket(c));
}
