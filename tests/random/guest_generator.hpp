// Seeded random guest images for the reliability suite: raw random bytes, or random mixes of
// valid instructions (exit-causing ones weighted up, port I/O of every width and form aimed at the
// toy ports and the Linux board's) for a given start mode. linux64 images are fake bzImages: the
// random code is the 64-bit entry of `exitscope run --kernel IMAGE`, with the Linux board. Pure
// and deterministic: the same seed always gives the same image, so any failure can be replayed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace es::fuzz {

enum class guest_kind { bytes, mix };
enum class cpu_mode { real16, protected32, long64, linux64 };
inline constexpr cpu_mode all_modes[] = {cpu_mode::real16, cpu_mode::protected32, cpu_mode::long64,
                                         cpu_mode::linux64};

// xorshift64*: small, fast, and good enough to pick instructions.
class rng {
  public:
    explicit rng(std::uint64_t seed) : s_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
    std::uint64_t next() {
        s_ ^= s_ >> 12;
        s_ ^= s_ << 25;
        s_ ^= s_ >> 27;
        return s_ * 0x2545f4914f6cdd1dull;
    }
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }

  private:
    std::uint64_t s_;
};

std::vector<std::uint8_t> generate(guest_kind kind, cpu_mode mode, std::uint64_t seed);

// "real", "protected", "long" (`run --mode`), or "linux64" (`run --kernel`).
const char* mode_option(cpu_mode m);
std::string image_name(guest_kind kind, cpu_mode mode, std::uint64_t seed);

} // namespace es::fuzz
