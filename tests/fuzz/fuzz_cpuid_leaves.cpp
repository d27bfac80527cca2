// libFuzzer target: the CPUID exit leaves against the contract, for any leaf, ECX and counters.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cpuid/exit_leaves.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {
using fuzz::require;
struct counters {
    std::uint64_t c, cy, tc, tcy;
    std::uint64_t enabled_mask[2];
    std::uint64_t count(std::uint32_t) const { return c; }
    std::uint64_t cycles(std::uint32_t) const { return cy; }
    std::uint64_t total_count() const { return tc; }
    std::uint64_t total_cycles() const { return tcy; }
    bool enabled(std::uint32_t r) const { return (enabled_mask[r / 64] >> (r % 64)) & 1; }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    struct {
        std::uint32_t leaf, ecx;
        counters k;
    } in{};
    std::memcpy(&in, data, size < sizeof in ? size : sizeof in);
    const std::uint32_t leaf = 0x4ffffffc + (in.leaf & 3);
    const es::cpuid_answer a = es::answer_exit_leaf(leaf, in.ecx, in.k);
    if (leaf == es::leaf_total_exits)
        require(a.eax == static_cast<std::uint32_t>(in.k.tc) && !a.ebx && !a.ecx && !a.edx);
    else if (leaf == es::leaf_total_cycles)
        require(!a.eax && a.ebx == (in.k.tcy >> 32) &&
                a.ecx == static_cast<std::uint32_t>(in.k.tcy) && !a.edx);
    else if (!sdm::is_defined_exit_reason(in.ecx))
        require(!a.eax && !a.ebx && !a.ecx && a.edx == 0xffffffffu);
    else if (!in.k.enabled(in.ecx))
        require(!a.eax && !a.ebx && !a.ecx && !a.edx);
    else
        require(a.edx == 0);
    return 0;
}
