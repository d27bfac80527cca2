// libFuzzer target: capability parsing and control choice over arbitrary MSR values. Whatever
// the MSRs say, a chosen control word must honour allowed-0 and allowed-1, and the traps the
// hypervisor relies on for isolation must be set; EPT is on exactly when guests can run; a
// shadow-paging VM's controls are as legal.
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
    // Without EPT the module still loads, and guests run under shadow paging only.
    require(es::runs_ept_guests(caps) == ((ch.controls.proc2 & proc_ctl2::enable_ept) != 0));
    require(!(ch.controls.exit & exit_ctl::ack_interrupt_on_exit));
    // A shadow-paging VM's controls, where there are any: as legal, with EPT and unrestricted
    // guest off and the CR3 and INVLPG exits on.
    const es::controls_choice sh = es::shadow_paging_controls(caps, ch.controls);
    if (!sh.problem) {
        require(legal(sh.controls.proc, caps.proc));
        require(legal(sh.controls.proc2, caps.proc2));
        require(!(sh.controls.proc2 & (proc_ctl2::enable_ept | proc_ctl2::unrestricted_guest)));
        const std::uint32_t exits =
            proc_ctl::invlpg_exiting | proc_ctl::cr3_load_exiting | proc_ctl::cr3_store_exiting;
        require((sh.controls.proc & exits) == exits);
        require(sh.controls.pin == ch.controls.pin && sh.controls.exit == ch.controls.exit &&
                sh.controls.entry == ch.controls.entry);
    }
    return 0;
}
