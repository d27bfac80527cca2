// Per-CPU counter rows and their aggregation.
#include <catch2/catch.hpp>
#include <vector>

#include "vmx/exit_counters.hpp"

using namespace es;

TEST_CASE("rows are cache-line aligned and sized") {
    CHECK(alignof(counter_row) == 64);
    CHECK(sizeof(counter_row) % 64 == 0);
}

TEST_CASE("summing rows over CPUs; totals equal the sum over reasons") {
    std::vector<counter_row> rows(3);
    for (auto& r : rows)
        r = counter_row{};
    record_exit(rows[0], 10);
    record_exit(rows[0], 10);
    record_cycles(rows[0], 10, 300);
    record_exit(rows[1], 10);
    record_cycles(rows[1], 10, 100);
    record_exit(rows[2], 30);
    record_cycles(rows[2], 30, 50);
    const counter_snapshot s = sum_rows(rows.data(), 3);
    CHECK(s.count[10] == 3);
    CHECK(s.cycles[10] == 400);
    CHECK(s.count[30] == 1);
    CHECK(s.total_count == 4);
    CHECK(s.total_cycles == 450);
    std::uint64_t sum = 0, cyc = 0;
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        sum += s.count[r];
        cyc += s.cycles[r];
    }
    CHECK(sum == s.total_count);
    CHECK(cyc == s.total_cycles);
}

TEST_CASE("difference subtracts a baseline cell by cell") {
    counter_row row{};
    record_exit(row, 12);
    const counter_snapshot before = sum_rows(&row, 1);
    record_exit(row, 12);
    record_exit(row, 10);
    record_cycles(row, 10, 7);
    const counter_snapshot d = difference(sum_rows(&row, 1), before);
    CHECK(d.count[12] == 1);
    CHECK(d.count[10] == 1);
    CHECK(d.cycles[10] == 7);
    CHECK(d.total_count == 2);
}

TEST_CASE("64-bit counts do not wrap at 32 bits") {
    counter_row row{};
    single_writer_add(row.count[10], 0xffffffffull);
    record_exit(row, 10);
    CHECK(sum_rows(&row, 1).count[10] == 0x100000000ull);
}
