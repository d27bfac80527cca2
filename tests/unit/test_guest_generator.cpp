// The random guest generator is deterministic per seed and varies across seeds.
#include <catch2/catch.hpp>

#include "cli/linux_loader.hpp"
#include "linux_boot/boot_params.hpp"
#include "tests/random/guest_generator.hpp"

using namespace es::fuzz;

TEST_CASE("same seed gives the same image and other seeds other images") {
    for (auto kind : {guest_kind::bytes, guest_kind::mix})
        for (auto mode : all_modes) {
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

TEST_CASE("linux64 images are bzImages the loader takes, the code at the 64-bit entry") {
    for (auto kind : {guest_kind::bytes, guest_kind::mix})
        for (std::uint64_t s = 0; s < 50; ++s) {
            const auto g = generate(kind, cpu_mode::linux64, s);
            std::string error;
            const auto h = es::cli::parse_bzimage(std::string(g.begin(), g.end()), error);
            REQUIRE(h);
            CHECK(error.empty());
            const std::size_t entry = h->setup_bytes + linux_boot::entry_64_offset;
            REQUIRE(g.size() > entry);
            if (kind == guest_kind::mix) {
                CHECK(g[g.size() - 2] == 0xfa);
                CHECK(g.back() == 0xf4);
            }
        }
    CHECK(image_name(guest_kind::mix, cpu_mode::linux64, 3) == "mix-linux64-3.bin");
}

TEST_CASE("instruction mixes reach the board's ports in every I/O form") {
    // Over many seeds, every port-I/O opcode appears (a byte scan overcounts, never undercounts:
    // the check is that none is missing).
    bool seen[256] = {};
    for (std::uint64_t s = 0; s < 300; ++s)
        for (std::uint8_t b : generate(guest_kind::mix, cpu_mode::long64, s))
            seen[b] = true;
    for (unsigned op : {0xe4u, 0xe5u, 0xe6u, 0xe7u, 0xecu, 0xedu, 0xeeu, 0xefu, 0x6cu, 0x6du, 0x6eu,
                        0x6fu, 0xbau, 0x66u, 0xf3u})
        CHECK(seen[op]);
}
