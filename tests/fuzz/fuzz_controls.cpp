// libFuzzer target: capability parsing and control choice over arbitrary MSR values. Whatever
// the MSRs say, a chosen control word must honour allowed-0 and allowed-1, and the traps the
// hypervisor relies on for isolation must be set; EPT is on exactly when guests can run.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "exitscope/abi.h"
#include "sdm/vmx_controls.hpp"
#include "tests/fuzz/fuzz_require.hpp"
#include "vmx/pure/capabilities.hpp"

namespace {
using fuzz::require;
bool legal(std::uint32_t v, es::control_caps c) {
    return (v & c.must_be_one) == c.must_be_one && (v & ~c.may_be_one) == 0;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    es::vmx_msrs m{};
    std::memcpy(&m, data, size < sizeof m ? size : sizeof m);
    const es::capabilities caps = es::parse_capabilities(m);
    const es::controls_choice ch = es::choose_controls(caps);
    if (ch.problem)
        return 0;
    require(legal(ch.controls.pin, caps.pin));
    require(legal(ch.controls.proc, caps.proc));
    require(legal(ch.controls.proc2, caps.proc2));
    require(legal(ch.controls.exit, caps.exit));
    require(legal(ch.controls.entry, caps.entry));
    using namespace sdm;
    require(ch.controls.pin & pin_ctl::external_interrupt_exiting);
    require(ch.controls.proc & proc_ctl::use_msr_bitmaps);
    require(ch.controls.proc & proc_ctl::unconditional_io_exiting);
    // Without EPT the module still loads, but no VM can be created (can_run_guests says so).
    require(es::can_run_guests(caps) == ((ch.controls.proc2 & proc_ctl2::enable_ept) != 0));
    require(!(ch.controls.exit & exit_ctl::ack_interrupt_on_exit));
    return 0;
}
