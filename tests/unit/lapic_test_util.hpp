// Shared by the local APIC tests: RDMSR/WRMSR that must not fault, and the register numbers.
#pragma once

#include <catch2/catch.hpp>

#include "board/local_apic.hpp"

namespace lapic_test {

using sdm::apic::x2apic_reg;

constexpr std::uint64_t tsc_khz = 2'000'000; // a 2 GHz TSC
constexpr std::uint64_t bus_khz = 25'000;    // a 25 MHz timer clock

constexpr std::uint32_t msr(x2apic_reg r) {
    return sdm::apic::to_number(r);
}

inline std::uint64_t rd(const es::local_apic& l, std::uint32_t m, std::uint64_t now = 0) {
    const es::lapic_rdmsr_result r = es::lapic_rdmsr(l, m, now);
    REQUIRE_FALSE(r.gp);
    return r.value;
}
inline std::uint64_t rd(const es::local_apic& l, x2apic_reg r, std::uint64_t now = 0) {
    return rd(l, msr(r), now);
}

inline es::lapic_wrmsr_result wr(es::local_apic& l, std::uint32_t m, std::uint64_t v,
                                 std::uint64_t now = 0) {
    const es::lapic_wrmsr_result r = es::lapic_wrmsr(l, m, v, now);
    REQUIRE_FALSE(r.gp);
    return r;
}
inline es::lapic_wrmsr_result wr(es::local_apic& l, x2apic_reg r, std::uint64_t v,
                                 std::uint64_t now = 0) {
    return wr(l, msr(r), v, now);
}

inline bool rd_gp(const es::local_apic& l, std::uint32_t m) {
    return es::lapic_rdmsr(l, m, 0).gp;
}
inline bool wr_gp(es::local_apic& l, std::uint32_t m, std::uint64_t v) {
    return es::lapic_wrmsr(l, m, v, 0).gp;
}

inline bool irr_has(const es::local_apic& l, unsigned v) {
    return l.irr[v / 32] >> (v % 32) & 1;
}
inline bool isr_has(const es::local_apic& l, unsigned v) {
    return l.isr[v / 32] >> (v % 32) & 1;
}

} // namespace lapic_test
