// randguest: write seeded random guest images for the reliability suite.
//   randguest SEED COUNT DIR   writes COUNT images per (kind, mode) pair, seeds SEED..SEED+COUNT-1,
//                              named KIND-MODE-SEED.bin; MODE is `exitscope run --mode`'s, or
//                              linux64 for `exitscope run --kernel`.
#include <cstdio>
#include <fstream>
#include <string>

#include "guest_generator.hpp"

int main(int argc, char** argv) {
    using namespace es::fuzz;
    if (argc != 4) {
        std::fprintf(stderr, "usage: randguest SEED COUNT DIR\n");
        return 2;
    }
    const std::uint64_t seed = std::stoull(argv[1]);
    const std::uint64_t count = std::stoull(argv[2]);
    const std::string dir = argv[3];
    for (auto kind : {guest_kind::bytes, guest_kind::mix})
        for (auto mode : all_modes)
            for (std::uint64_t s = seed; s < seed + count; ++s) {
                const auto image = generate(kind, mode, s);
                std::ofstream out(dir + "/" + image_name(kind, mode, s), std::ios::binary);
                out.write(reinterpret_cast<const char*>(image.data()),
                          static_cast<std::streamsize>(image.size()));
                if (!out) {
                    std::fprintf(stderr, "randguest: cannot write to %s\n", dir.c_str());
                    return 1;
                }
            }
    return 0;
}
