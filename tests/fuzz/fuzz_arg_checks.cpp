// libFuzzer target: ioctl argument validation. Any bytes become the four argument structs; a
// check that accepts must also guarantee what the module then relies on (no overflow, in RAM).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "exitscope/abi.h"
#include "tests/fuzz/fuzz_require.hpp"
#include "vmx/pure/arg_checks.hpp"
#include "vmx/pure/guest_modes.hpp"

namespace {
using fuzz::require;

template <typename T> T take(const std::uint8_t*& data, std::size_t& size) {
    T v{};
    const std::size_t n = size < sizeof v ? size : sizeof v;
    std::memcpy(&v, data, n);
    data += n;
    size -= n;
    return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto create = take<es_vm_create>(data, size);
    const auto load = take<es_vm_load>(data, size);
    const auto state = take<es_vcpu_state>(data, size);
    const auto run = take<es_run>(data, size);
    if (es::check_create(create) == 0) {
        require(create.mem_bytes % ES_PAGE_SIZE == 0);
        require(create.mem_bytes >= ES_GUEST_MEM_MIN && create.mem_bytes <= ES_GUEST_MEM_MAX);
    }
    const std::uint64_t mem = (create.mem_bytes % ES_GUEST_MEM_MAX) & ~std::uint64_t{4095};
    if (es::check_load(load, mem) == 0) {
        require(load.len > 0 && load.gpa < mem && load.len <= mem - load.gpa);
        require(load.data != 0);
    }
    if (es::check_state(state, mem) == 0) {
        require(state.mode <= ES_MODE_LINUX64 && state.entry < mem && state.stack <= mem);
        if (state.mode == ES_MODE_LONG)
            require(state.entry < es::page_tables_base(mem));
        // The zero page is the Linux entry's alone, and lies below the host's GDT and tables.
        require((state.mode == ES_MODE_LINUX64) == (state.boot_params != 0));
        if (state.mode == ES_MODE_LINUX64)
            require(state.boot_params % ES_PAGE_SIZE == 0 &&
                    state.boot_params < es::linux64_host_base(mem) &&
                    state.entry < es::linux64_host_base(mem));
    }
    if (es::check_run(run) == 0)
        require(run.flags == 0 && (run.console_cap == 0 || run.console != 0));
    return 0;
}
