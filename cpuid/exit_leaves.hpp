// The four special CPUID leaves (0x4FFFFFFC..0x4FFFFFFF), answered from the exit counters.
// The contract is ../shared/CONTRACT.md section 1; restated in README.md. Pure: the answer is a
// function of the leaf, ECX, the enabled flags and the counters, so every branch is unit-tested.
#pragma once

#include <cstdint>

#include "sdm/exit_reasons.hpp"

namespace es {

inline constexpr std::uint32_t leaf_total_exits = 0x4ffffffc;
inline constexpr std::uint32_t leaf_total_cycles = 0x4ffffffd;
inline constexpr std::uint32_t leaf_reason_exits = 0x4ffffffe;
inline constexpr std::uint32_t leaf_reason_cycles = 0x4fffffff;

struct cpuid_answer {
    std::uint32_t eax, ebx, ecx, edx;
};

constexpr bool is_exit_leaf(std::uint32_t leaf) {
    return leaf >= leaf_total_exits && leaf <= leaf_reason_cycles;
}

constexpr std::uint32_t low32(std::uint64_t v) {
    return static_cast<std::uint32_t>(v);
}
constexpr std::uint32_t high32(std::uint64_t v) {
    return static_cast<std::uint32_t>(v >> 32);
}

// `Counters` provides count(r), cycles(r), total_count(), total_cycles() for the caller's scope
// and `enabled(r)` for the configuration. Only the cells a leaf needs are read.
template <typename Counters>
constexpr cpuid_answer answer_exit_leaf(std::uint32_t leaf, std::uint32_t ecx, const Counters& c) {
    switch (leaf) {
    case leaf_total_exits:
        return {low32(c.total_count()), 0, 0, 0};
    case leaf_total_cycles: {
        const std::uint64_t t = c.total_cycles();
        return {0, high32(t), low32(t), 0};
    }
    default:
        break;
    }
    if (!sdm::is_defined_exit_reason(ecx))
        return {0, 0, 0, 0xffffffffu};
    if (!c.enabled(ecx))
        return {0, 0, 0, 0};
    if (leaf == leaf_reason_exits)
        return {low32(c.count(ecx)), 0, 0, 0};
    const std::uint64_t cy = c.cycles(ecx);
    return {0, high32(cy), low32(cy), 0};
}

} // namespace es
