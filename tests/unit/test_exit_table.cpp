// The exit table and the "enabled" flags derived from it, on the controls choose_controls picks
// for real capability sets (tests/unit/capability_sets.hpp), not on a hand-built set.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "capability_sets.hpp"
#include "exitscope/abi.h"
#include "sdm/vmx_controls.hpp"
#include "vmx/exit_table.hpp"
#include "vmx/pure/capabilities.hpp"

using namespace es;

namespace {

// What every VM runs with on a CPU with these capability MSRs; the CPU must be able to host it.
vm_controls controls_on(const vmx_msrs& msrs) {
    const controls_choice ch = choose_controls(parse_capabilities(msrs));
    INFO("choose_controls refused: " << (ch.problem ? ch.problem : ""));
    REQUIRE(ch.problem == nullptr);
    return ch.controls;
}

std::set<std::uint32_t> enabled_set(const vm_controls& c) {
    std::set<std::uint32_t> s;
    for (std::uint32_t r = 0; r < 300; ++r)
        if (exit_enabled(r, c))
            s.insert(r);
    return s;
}

// The reasons a Haswell-class CPU (Bochs 2.7's model) can give an Exitscope guest, from the SDM's
// causes of VM exits and the controls choose_controls sets; written out, not derived from the
// table, so that a rule or control gone missing shows here:
//   0 exception/NMI (NMI exiting), 1 external interrupt, 2 triple fault, 3 INIT, 7 interrupt
//   window (on demand), 9 task switch, 10 CPUID, 12 HLT, 13 INVD, 15 RDPMC, 18-27 the VMX
//   instructions, 28 CR access, 29 MOV DR, 30 I/O, 31/32 RDMSR/WRMSR (MSR bitmaps), 33 and 41
//   entry failures, 36 MWAIT, 39 MONITOR, 40 PAUSE, 48/49 EPT, 50 INVEPT, 52 preemption timer,
//   53 INVVPID, 54 WBINVD, 55 XSETBV.
const std::set<std::uint32_t> haswell_enabled = {0,  1,  2,  3,  7,  9,  10, 12, 13, 15, 18, 19, 20,
                                                 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
                                                 36, 39, 40, 41, 48, 49, 50, 52, 53, 54, 55};

std::set<std::uint32_t> without(std::set<std::uint32_t> s, std::uint32_t r) {
    s.erase(r);
    return s;
}

} // namespace

TEST_CASE("Haswell: the reasons the chosen controls enable, exactly") {
    CHECK(enabled_set(controls_on(test::haswell())) == haswell_enabled);
}

TEST_CASE("Haswell: undefined numbers are never enabled") {
    const vm_controls c = controls_on(test::haswell());
    for (std::uint32_t r : {35u, 38u, 42u, 78u, 200u, 0xffffu, 0x80000000u, 0xffffffffu})
        CHECK_FALSE(exit_enabled(r, c));
}

TEST_CASE("a reason whose control the CPU lacks is not enabled; the rest stay") {
    using namespace sdm;
    struct row {
        const char* cpu;
        vmx_msrs msrs;
        std::uint32_t reason;
    };
    const row rows[] = {
        {"no PAUSE exiting",
         test::without_control(test::haswell(), ES_MSR_TRUE_PROCBASED, proc_ctl::pause_exiting),
         40},
        {"no WBINVD exiting",
         test::without_control(test::haswell(), ES_MSR_PROCBASED2, proc_ctl2::wbinvd_exiting), 54},
        {"no VMX-preemption timer",
         test::without_control(test::haswell(), ES_MSR_TRUE_PINBASED, pin_ctl::preemption_timer),
         52},
        {"no interrupt-window exiting",
         test::without_control(test::haswell(), ES_MSR_TRUE_PROCBASED,
                               proc_ctl::interrupt_window_exiting),
         7},
    };
    for (const auto& r : rows) {
        INFO(r.cpu);
        CHECK(enabled_set(controls_on(r.msrs)) == without(haswell_enabled, r.reason));
    }
}

TEST_CASE("interrupt-window exiting is on demand only, never in the base primary controls") {
    const vm_controls c = controls_on(test::haswell());
    CHECK((c.proc & sdm::proc_ctl::interrupt_window_exiting) == 0);
    CHECK((c.proc_on_demand & sdm::proc_ctl::interrupt_window_exiting) != 0);
}

TEST_CASE("no unrestricted guest: the same enabled set as Haswell's") {
    // Unrestricted guest adds no exit of its own: such a CPU runs paged guests with every exit
    // Haswell has (real-mode and unpaged guests are refused at SET_STATE instead).
    CHECK(enabled_set(controls_on(test::haswell_without_unrestricted_guest())) ==
          enabled_set(controls_on(test::haswell())));
}

TEST_CASE("no EPT: EPT violations and misconfigurations are not enabled") {
    vmx_msrs m = test::haswell();
    m.value[ES_MSR_PROCBASED2] &= ~(std::uint64_t{sdm::proc_ctl2::enable_ept} << 32);
    const auto set = enabled_set(controls_on(m));
    CHECK(set.count(48) == 0);
    CHECK(set.count(49) == 0);
    CHECK(set.count(54) == 1); // WBINVD exiting stays
}

TEST_CASE("reasons without a handler are not enabled, even when their control is on") {
    vm_controls c = controls_on(test::haswell());
    // RDTSC exiting: a control this CPU allows and Exitscope does not use.
    const capabilities caps = parse_capabilities(test::haswell());
    REQUIRE((caps.proc.may_be_one & sdm::proc_ctl::rdtsc_exiting) != 0);
    c.proc |= sdm::proc_ctl::rdtsc_exiting;
    CHECK(exit_handlers_table.h[16] == handler::none);
    CHECK_FALSE(exit_enabled(16, c));
    // Every control bit on: still only the reasons that have a handler.
    const vm_controls all{~0u, ~0u, ~0u, ~0u, ~0u, ~0u};
    for (std::uint32_t r = 0; r < sdm::exit_reason_count; ++r)
        if (exit_handlers_table.h[r] == handler::none)
            CHECK_FALSE(exit_enabled(r, all));
    // INVLPG (14) has a handler for shadow-paging VMs, whose controls turn it on.
    std::set<std::uint32_t> with_invlpg = haswell_enabled;
    with_invlpg.insert(14);
    CHECK(enabled_set(all) == with_invlpg);
}

TEST_CASE("INVLPG is enabled under shadow paging only; #PF and CR exits in both") {
    const capabilities caps = parse_capabilities(test::haswell());
    const vm_controls ept = choose_controls(caps).controls;
    const controls_choice shadow = shadow_paging_controls(caps, ept);
    REQUIRE(shadow.problem == nullptr);
    CHECK(exit_handlers_table.h[14] == handler::invlpg);
    CHECK_FALSE(exit_enabled(14, ept));
    CHECK(exit_enabled(14, shadow.controls));
    for (const vm_controls& c : {ept, shadow.controls}) {
        CHECK(exit_enabled(0, c));  // exception or NMI
        CHECK(exit_enabled(28, c)); // control-register access
    }
    CHECK(exit_enabled(48, ept));
    CHECK_FALSE(exit_enabled(48, shadow.controls)); // no EPT violations without EPT
    for (std::uint32_t r = 0; r < sdm::exit_reason_count; ++r)
        if (r != 14 && r != 48 && r != 49)
            CHECK(exit_enabled(r, ept) == exit_enabled(r, shadow.controls));
}
