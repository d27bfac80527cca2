// The exit table and the "enabled" flags derived from it.
#include <catch2/catch.hpp>
#include <set>

#include "sdm/vmx_controls.hpp"
#include "vmx/exit_table.hpp"

using namespace es;

namespace {

vm_controls all_used() {
    using namespace sdm;
    return {pin_ctl::external_interrupt_exiting | pin_ctl::nmi_exiting | pin_ctl::preemption_timer,
            proc_ctl::hlt_exiting | proc_ctl::unconditional_io_exiting | proc_ctl::use_msr_bitmaps |
                proc_ctl::mov_dr_exiting | proc_ctl::rdpmc_exiting | proc_ctl::mwait_exiting |
                proc_ctl::monitor_exiting | proc_ctl::pause_exiting | proc_ctl::activate_secondary,
            proc_ctl2::enable_ept | proc_ctl2::unrestricted_guest | proc_ctl2::wbinvd_exiting,
            0,
            0,
            proc_ctl::interrupt_window_exiting};
}

} // namespace

TEST_CASE("undefined numbers are never enabled") {
    const vm_controls c = all_used();
    for (std::uint32_t r : {35u, 38u, 42u, 78u, 200u, 0xffffffffu})
        CHECK_FALSE(exit_enabled(r, c));
}

TEST_CASE("the reasons this configuration enables, exactly") {
    const vm_controls c = all_used();
    const std::set<std::uint32_t> expected = {0,  1,  2,  3,  7,  9,  10, 12, 13, 15, 18, 19, 20,
                                              21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
                                              36, 39, 40, 41, 48, 49, 50, 52, 53, 54, 55};
    for (std::uint32_t r = 0; r < sdm::exit_reason_count; ++r)
        CHECK(exit_enabled(r, c) == (expected.count(r) == 1));
}

TEST_CASE("a reason whose control is off is not enabled") {
    vm_controls c = all_used();
    c.proc &= ~sdm::proc_ctl::hlt_exiting;
    c.pin &= ~sdm::pin_ctl::preemption_timer;
    c.proc2 &= ~sdm::proc_ctl2::wbinvd_exiting;
    CHECK_FALSE(exit_enabled(12, c));
    CHECK_FALSE(exit_enabled(52, c));
    CHECK_FALSE(exit_enabled(54, c));
    CHECK(exit_enabled(10, c)); // CPUID always exits
}

TEST_CASE("interrupt windows are enabled when the processor allows the on-demand control") {
    vm_controls c = all_used();
    CHECK(exit_enabled(7, c));
    c.proc_on_demand = 0; // a processor without interrupt-window exiting
    CHECK_FALSE(exit_enabled(7, c));
    // The base primary controls never carry it: only a Linux guest's run turns it on.
    CHECK((c.proc & sdm::proc_ctl::interrupt_window_exiting) == 0);
}

TEST_CASE("reasons without a handler are not enabled even when possible") {
    vm_controls c = all_used();
    c.proc |= sdm::proc_ctl::rdtsc_exiting | sdm::proc_ctl::invlpg_exiting;
    CHECK_FALSE(exit_enabled(16, c));
    CHECK_FALSE(exit_enabled(14, c));
}

TEST_CASE("every table entry with a handler names a defined reason") {
    for (std::uint32_t r = 0; r < sdm::exit_reason_count; ++r)
        if (exit_handlers_table.h[r] != handler::none)
            CHECK(sdm::is_defined_exit_reason(r));
}
