// The flight recorder: ring wrap-around and the merge of per-CPU rings by TSC.
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <vector>

#include "vmx/pure/flight_recorder.hpp"

using namespace es;

namespace {

std::vector<cpu_recorder> recorders(std::size_t n) {
    std::vector<cpu_recorder> v(n);
    for (auto& r : v)
        std::memset(&r, 0, sizeof r);
    return v;
}

void push(cpu_recorder& r, std::uint64_t tsc, std::uint32_t vm, std::uint32_t reason = 10) {
    r.last.next() = {tsc, 1, 0, 0, reason, vm, 77, 0}; // 77: a CPU the reader must replace
    r.last.commit();
}

std::vector<ring_cursor> cursors(const std::vector<cpu_recorder>& rec) {
    return std::vector<ring_cursor>(rec.size());
}

} // namespace

TEST_CASE("the ring keeps the newest entries when it wraps") {
    auto rec = recorders(1);
    for (std::uint64_t i = 1; i <= ES_TRACE_RING + 10; ++i)
        push(rec[0], i, 1);
    std::vector<es_trace_entry> out(ES_TRACE_RING * 2);
    const auto n =
        collect_trace(rec.data(), 1, false, 0, out.data(), out.size(), cursors(rec).data());
    REQUIRE(n == ES_TRACE_RING);
    CHECK(out[0].tsc == 11);
    CHECK(out[n - 1].tsc == ES_TRACE_RING + 10);
}

TEST_CASE("newest() is the entry committed last, also across the wrap") {
    auto rec = recorders(1);
    for (std::uint64_t i = 1; i <= ES_TRACE_RING + 3; ++i) {
        push(rec[0], i, 1);
        CHECK(rec[0].last.newest().tsc == i);
    }
    // A handler notes something in its own exit's entry (an unemulated MSR's number).
    rec[0].last.newest().qualification = 0x179;
    std::vector<es_trace_entry> out(ES_TRACE_RING);
    const auto n =
        collect_trace(rec.data(), 1, false, 0, out.data(), out.size(), cursors(rec).data());
    REQUIRE(n == ES_TRACE_RING);
    CHECK(out[n - 1].qualification == 0x179);
    CHECK(out[n - 2].qualification != 0x179);
}

TEST_CASE("CPUs are merged oldest first, and a VM filter applies") {
    auto rec = recorders(2);
    push(rec[0], 10, 1);
    push(rec[1], 5, 2);
    push(rec[0], 20, 2);
    push(rec[1], 15, 1);
    std::vector<es_trace_entry> out(16);
    auto n = collect_trace(rec.data(), 2, false, 0, out.data(), out.size(), cursors(rec).data());
    REQUIRE(n == 4);
    CHECK(out[0].tsc == 5);
    CHECK(out[1].tsc == 10);
    CHECK(out[2].tsc == 15);
    CHECK(out[3].tsc == 20);
    // The exit path leaves the CPU to the reader: it is the ring's.
    CHECK(out[0].cpu == 1);
    CHECK(out[1].cpu == 0);
    CHECK(out[2].cpu == 1);
    CHECK(out[3].cpu == 0);
    n = collect_trace(rec.data(), 2, false, 1, out.data(), out.size(), cursors(rec).data());
    REQUIRE(n == 2);
    CHECK(out[0].tsc == 10);
    CHECK(out[1].tsc == 15);
}

TEST_CASE("a small buffer gets the newest entries") {
    auto rec = recorders(1);
    for (std::uint64_t i = 1; i <= 10; ++i)
        push(rec[0], i, 1);
    std::vector<es_trace_entry> out(3);
    const auto n =
        collect_trace(rec.data(), 1, false, 0, out.data(), out.size(), cursors(rec).data());
    REQUIRE(n == 3);
    CHECK(out[0].tsc == 8);
    CHECK(out[2].tsc == 10);
}

TEST_CASE("the outlier ring is separate") {
    auto rec = recorders(1);
    push(rec[0], 1, 1);
    rec[0].outliers.next() = {2, 999999, 0, 0, 1, 1, 0, 0};
    rec[0].outliers.commit();
    std::vector<es_trace_entry> out(4);
    const auto n =
        collect_trace(rec.data(), 1, true, 0, out.data(), out.size(), cursors(rec).data());
    REQUIRE(n == 1);
    CHECK(out[0].cycles == 999999);
}

TEST_CASE("an empty ring reads empty; a ring that has wrapped starts at its oldest entry") {
    auto rec = recorders(1);
    std::vector<es_trace_entry> out(ES_TRACE_RING);
    CHECK(collect_trace(rec.data(), 1, false, 0, out.data(), out.size(), cursors(rec).data()) == 0);
    push(rec[0], 1, 1);
    REQUIRE(collect_trace(rec.data(), 1, false, 0, out.data(), out.size(), cursors(rec).data()) ==
            1);
    CHECK(out[0].tsc == 1);
    for (std::uint64_t i = 2; i <= ES_TRACE_RING; ++i)
        push(rec[0], i, 1);
    CHECK(&rec[0].last.next() == &rec[0].last.s[0].entry);
    push(rec[0], ES_TRACE_RING + 1, 1);
    CHECK(rec[0].last.s[0].entry.tsc == ES_TRACE_RING + 1);
    REQUIRE(collect_trace(rec.data(), 1, false, 0, out.data(), out.size(), cursors(rec).data()) ==
            ES_TRACE_RING);
    CHECK(out[0].tsc == 2);
    CHECK(out[ES_TRACE_RING - 1].tsc == ES_TRACE_RING + 1);
}

TEST_CASE("every CPU's ring is merged, past 64 CPUs too") {
    auto rec = recorders(70);
    for (std::uint32_t c = 0; c < rec.size(); ++c)
        push(rec[c], 1000 - c, 1);
    std::vector<es_trace_entry> out(100);
    REQUIRE(collect_trace(rec.data(), rec.size(), false, 0, out.data(), out.size(),
                          cursors(rec).data()) == 70);
    CHECK(out[0].cpu == 69); // the oldest TSC
    CHECK(out[69].cpu == 0);
}
