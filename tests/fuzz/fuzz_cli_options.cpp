// libFuzzer target: `exitscope run` option and number parsing (how images are placed in guest
// RAM, or a Linux kernel booted). Any argument list either parses into options the module would
// accept the shape of, or yields a message; numbers round-trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "exitscope/abi.h"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NUL bytes split the input into arguments.
    std::vector<std::string> args(1);
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0)
            args.emplace_back();
        else
            args.back() += static_cast<char>(data[i]);
    }
    for (const auto& a : args)
        if (const auto v = es::cli::parse_number(a)) {
            require(es::cli::parse_number(std::to_string(*v)) == *v);
        }
    std::string error;
    const auto o = es::cli::parse_run_options(args, error);
    if (o) {
        require(o->mem_bytes >= (1ull << 20) && o->mem_bytes <= ES_GUEST_MEM_MAX);
        require(o->mem_bytes % (1ull << 20) == 0);
        require(o->backend == "exitscope" || o->backend == "kvm");
        if (!o->kernel.empty()) {
            // A Linux boot: the boot protocol places everything, no image.
            require(o->image.empty());
            require(o->mode == ES_MODE_LINUX64);
            require(o->backend == "exitscope");
        } else {
            require(!o->image.empty() && (o->image[0] != '-' || o->image == "-"));
            require(o->mode <= ES_MODE_LONG);
            require(o->entry.has_value());
            require(o->initrd.empty() && o->append.empty());
        }
    } else {
        require(!error.empty());
    }
    return 0;
}
