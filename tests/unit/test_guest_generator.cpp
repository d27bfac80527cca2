// The random guest generator is deterministic per seed and varies across seeds.
#include <catch2/catch.hpp>

#include "tests/random/guest_generator.hpp"

using namespace es::fuzz;

TEST_CASE("same seed gives the same image and other seeds other images") {
    for (auto kind : {guest_kind::bytes, guest_kind::mix})
        for (auto mode : {cpu_mode::real16, cpu_mode::protected32, cpu_mode::long64}) {
            CHECK(generate(kind, mode, 42) == generate(kind, mode, 42));
            CHECK(generate(kind, mode, 42) != generate(kind, mode, 43));
            CHECK_FALSE(generate(kind, mode, 7).empty());
        }
}

TEST_CASE("instruction mixes end in cli; hlt and fit the load area") {
    for (std::uint64_t s = 0; s < 200; ++s) {
        const auto g = generate(guest_kind::mix, cpu_mode::long64, s);
        REQUIRE(g.size() >= 2);
        CHECK(g[g.size() - 2] == 0xfa);
        CHECK(g.back() == 0xf4);
        CHECK(g.size() < 64 * 1024);
    }
}

TEST_CASE("image names carry kind, mode and seed for replay") {
    CHECK(image_name(guest_kind::mix, cpu_mode::protected32, 17) == "mix-protected-17.bin");
    CHECK(std::string(mode_option(cpu_mode::long64)) == "long");
}
