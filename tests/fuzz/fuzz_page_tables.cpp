// libFuzzer target: the long-mode identity tables for any RAM size the module accepts stay
// inside guest RAM, and every large-page entry maps an address inside the 1 GiB the PD covers.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "exitscope/abi.h"
#include "tests/fuzz/fuzz_require.hpp"
#include "vmx/pure/guest_modes.hpp"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint64_t raw = 0;
    std::memcpy(&raw, data, size < sizeof raw ? size : sizeof raw);
    const std::uint64_t mem =
        ES_GUEST_MEM_MIN + (raw % (ES_GUEST_MEM_MAX - ES_GUEST_MEM_MIN + 1)) / 4096 * 4096;
    std::uint64_t writes = 0;
    es::build_identity_tables(mem, [&](std::uint64_t gpa, std::uint64_t value) {
        require(gpa % 8 == 0 && gpa >= es::page_tables_base(mem) && gpa + 8 <= mem);
        require((value & 1) != 0);
        ++writes;
    });
    require(writes >= 3);
    const auto g = es::initial_guest_state(es::guest_mode::long64, 0x1000, 0, mem, 0x20, 0x2000);
    require(g.rsp <= mem && g.cr3 == es::page_tables_base(mem));
    return 0;
}
