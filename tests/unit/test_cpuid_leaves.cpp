// The four exit leaves, branch by branch, as a pure function of counters and flags.
#include <catch2/catch.hpp>

#include "cpuid/exit_leaves.hpp"

using namespace es;

namespace {

struct fake_counters {
    std::uint64_t per_reason_count = 0;
    std::uint64_t per_reason_cycles = 0;
    std::uint64_t totals = 0;
    std::uint64_t total_cyc = 0;
    bool all_enabled = true;
    std::uint64_t count(std::uint32_t) const { return per_reason_count; }
    std::uint64_t cycles(std::uint32_t) const { return per_reason_cycles; }
    std::uint64_t total_count() const { return totals; }
    std::uint64_t total_cycles() const { return total_cyc; }
    bool enabled(std::uint32_t r) const { return all_enabled && r != 4; }
};

bool same(cpuid_answer a, cpuid_answer b) {
    return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

} // namespace

TEST_CASE("0x4FFFFFFC: total exits, low 32 bits in EAX") {
    fake_counters c;
    c.totals = 0x123456789ull;
    CHECK(same(answer_exit_leaf(leaf_total_exits, 0, c), {0x23456789, 0, 0, 0}));
    CHECK(same(answer_exit_leaf(leaf_total_exits, 0xdead, c), {0x23456789, 0, 0, 0}));
}

TEST_CASE("0x4FFFFFFD: total cycles, high half in EBX, low half in ECX") {
    fake_counters c;
    c.total_cyc = 0x0000000a00000001ull;
    CHECK(same(answer_exit_leaf(leaf_total_cycles, 0, c), {0, 0xa, 1, 0}));
}

TEST_CASE("0x4FFFFFFE/F for an enabled reason") {
    fake_counters c;
    c.per_reason_count = 0x100000005ull; // counts are truncated to 32 bits
    c.per_reason_cycles = 0xffffffff00000002ull;
    CHECK(same(answer_exit_leaf(leaf_reason_exits, 10, c), {5, 0, 0, 0}));
    CHECK(same(answer_exit_leaf(leaf_reason_cycles, 10, c), {0, 0xffffffff, 2, 0}));
}

TEST_CASE("defined but not enabled: all zero") {
    fake_counters c;
    c.per_reason_count = 7;
    CHECK(same(answer_exit_leaf(leaf_reason_exits, 4, c), {0, 0, 0, 0}));
    CHECK(same(answer_exit_leaf(leaf_reason_cycles, 4, c), {0, 0, 0, 0}));
}

TEST_CASE("not defined by the SDM: EDX all ones, whatever the counters say") {
    fake_counters c;
    c.per_reason_count = 7;
    for (std::uint32_t r : {35u, 38u, 42u, 78u, 90u, 0x80000000u, 0xffffffffu}) {
        CHECK(same(answer_exit_leaf(leaf_reason_exits, r, c), {0, 0, 0, 0xffffffff}));
        CHECK(same(answer_exit_leaf(leaf_reason_cycles, r, c), {0, 0, 0, 0xffffffff}));
    }
}

TEST_CASE("only the four leaves are exit leaves") {
    CHECK(is_exit_leaf(0x4ffffffc));
    CHECK(is_exit_leaf(0x4fffffff));
    CHECK_FALSE(is_exit_leaf(0x4ffffffb));
    CHECK_FALSE(is_exit_leaf(0x50000000));
    CHECK_FALSE(is_exit_leaf(0x40000000));
}
