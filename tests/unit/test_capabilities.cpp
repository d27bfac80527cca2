// Capability parsing and the allowed-0/allowed-1 control rule, as pure functions over MSRs.
#include <catch2/catch.hpp>
#include <string>

#include "capability_sets.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "sdm/vmx_controls.hpp"
#include "vmx/pure/capabilities.hpp"

using namespace es;

using es::test::ctl_msr;
using es::test::haswell;
using es::test::without_control;

TEST_CASE("adjust_controls: forced bits are added, impossible optional bits dropped") {
    const control_caps caps{0x0000000f, 0x000000ff};
    const auto r = adjust_controls(caps, 0x10, 0x100, 0);
    CHECK(r.ok());
    CHECK(r.value == 0x1f); // must-be-one 0xf, required 0x10, optional 0x100 not allowed
}

TEST_CASE("adjust_controls: a required bit the CPU cannot set is reported") {
    const control_caps caps{0, 0x0f};
    const auto r = adjust_controls(caps, 0x30, 0, 0);
    CHECK_FALSE(r.ok());
    CHECK(r.missing == 0x30);
}

TEST_CASE("adjust_controls: a forbidden bit the CPU forces is reported, otherwise cleared") {
    const control_caps caps{0x1, 0xff};
    const auto forced = adjust_controls(caps, 0, 0, 0x1);
    CHECK_FALSE(forced.ok());
    CHECK(forced.forced == 0x1);
    const auto cleared = adjust_controls(caps, 0, 0x2, 0x2);
    CHECK(cleared.ok());
    CHECK((cleared.value & 0x2) == 0);
}

TEST_CASE("adjust_controls: an MSR that forces a bit it does not allow is refused") {
    // Found by tests/fuzz/fuzz_controls.cpp: must-be-one bits outside the allowed-1 set.
    const control_caps caps{0x0212'00ff, 0x00ff'ee26};
    const auto r = adjust_controls(caps, 0, 0, 0);
    CHECK_FALSE(r.ok());
    CHECK(r.inconsistent == 0x0200'00d9);
}

TEST_CASE("adjust_controls: every result respects allowed-0 and allowed-1") {
    for (std::uint32_t must : {0u, 0x5u, 0xf0u})
        for (std::uint32_t may : {0xffu, 0xf5u, 0x0fu})
            for (std::uint32_t want : {0u, 0x3u, 0xffu}) {
                const control_caps caps{must, may | must};
                const auto r = adjust_controls(caps, 0, want, 0);
                CHECK((r.value & caps.must_be_one) == caps.must_be_one);
                CHECK((r.value & ~caps.may_be_one) == 0);
            }
}

TEST_CASE("parse_capabilities reads true controls, EPT, VPID and the timer rate") {
    const capabilities c = parse_capabilities(haswell());
    CHECK(c.vmcs_revision == 43);
    CHECK(c.vmcs_region_size == 4096);
    CHECK(c.true_controls);
    CHECK(c.vmcs_write_back);
    CHECK(c.pin.must_be_one == 0x16);
    CHECK(c.proc.must_be_one == 0x04006172); // the TRUE MSR, not the default-1 one
    CHECK(c.ept);
    CHECK(c.ept_4_level);
    CHECK(c.ept_write_back);
    CHECK(c.vpid);
    CHECK(c.unrestricted_guest);
    CHECK(c.preemption_timer);
    CHECK(c.preemption_timer_rate == 5);
}

TEST_CASE("without true controls the default MSRs are used") {
    vmx_msrs m = haswell();
    m.value[ES_MSR_BASIC] &= ~(1ull << 55);
    const capabilities c = parse_capabilities(m);
    CHECK_FALSE(c.true_controls);
    CHECK(c.proc.must_be_one == 0x0401e172);
    // The default-1 CR3 exiting bits are then forced, and Exitscope refuses.
    CHECK(std::string(choose_controls(c).problem) == "primary processor-based controls");
}

TEST_CASE("choose_controls on a capable CPU traps what it must") {
    const controls_choice ch = choose_controls(parse_capabilities(haswell()));
    REQUIRE(ch.problem == nullptr);
    using namespace sdm;
    CHECK(ch.controls.pin & pin_ctl::external_interrupt_exiting);
    CHECK(ch.controls.pin & pin_ctl::nmi_exiting);
    CHECK(ch.controls.pin & pin_ctl::preemption_timer);
    CHECK(ch.controls.proc & proc_ctl::hlt_exiting);
    CHECK(ch.controls.proc & proc_ctl::use_msr_bitmaps);
    CHECK(ch.controls.proc & proc_ctl::unconditional_io_exiting);
    CHECK_FALSE(ch.controls.proc & proc_ctl::cr3_load_exiting);
    CHECK(ch.controls.proc2 & proc_ctl2::enable_ept);
    CHECK(ch.controls.proc2 & proc_ctl2::unrestricted_guest);
    CHECK(ch.controls.proc2 & proc_ctl2::enable_vpid);
    CHECK(ch.controls.exit & exit_ctl::host_address_space_size);
    CHECK_FALSE(ch.controls.exit & exit_ctl::ack_interrupt_on_exit);
    CHECK(ch.controls.exit & exit_ctl::save_preemption_timer);
    CHECK(ch.controls.entry & entry_ctl::load_efer);
    CHECK_FALSE(ch.controls.entry & entry_ctl::ia32e_mode_guest);
}

TEST_CASE("the preemption timer's value is saved only while the timer is active") {
    using namespace sdm;
    vmx_msrs m = haswell();
    // A CPU without the timer: the save control must stay 0 (SDM checks on VM-exit controls).
    const std::uint64_t pin = m.value[ES_MSR_TRUE_PINBASED];
    m.value[ES_MSR_TRUE_PINBASED] = pin & ~(std::uint64_t{pin_ctl::preemption_timer} << 32);
    const controls_choice ch = choose_controls(parse_capabilities(m));
    REQUIRE(ch.problem == nullptr);
    CHECK_FALSE(ch.controls.pin & pin_ctl::preemption_timer);
    CHECK_FALSE(ch.controls.exit & exit_ctl::save_preemption_timer);
}

TEST_CASE("a CPU without EPT, unrestricted guest or secondary controls loads, with less") {
    using namespace sdm;
    SECTION("no EPT: no EPT or unrestricted guest in the controls, shadow-paging guests only") {
        vmx_msrs m = haswell();
        m.value[ES_MSR_PROCBASED2] = ctl_msr(0, 0xff & ~0x2u);
        const capabilities caps = parse_capabilities(m);
        const controls_choice ch = choose_controls(caps);
        REQUIRE(ch.problem == nullptr);
        CHECK_FALSE(ch.controls.proc2 & (proc_ctl2::enable_ept | proc_ctl2::unrestricted_guest));
        CHECK(ch.controls.proc2 & proc_ctl2::enable_vpid);
        CHECK(can_run_guests(caps));
        CHECK(why_no_guests(caps) == nullptr);
        CHECK_FALSE(runs_ept_guests(caps));
        CHECK(std::string(why_no_ept_guests(caps)).find("shadow paging only") != std::string::npos);
        CHECK_FALSE(runs_unpaged_modes(caps));
        CHECK((cr0_guest_fixed1_bits(caps) & (cr0::pe | cr0::pg)) == (cr0::pe | cr0::pg));
        const controls_choice sh = shadow_paging_controls(caps, ch.controls);
        REQUIRE(sh.problem == nullptr);
        CHECK(
            (sh.controls.proc & (proc_ctl::invlpg_exiting | proc_ctl::cr3_load_exiting |
                                 proc_ctl::cr3_store_exiting)) ==
            (proc_ctl::invlpg_exiting | proc_ctl::cr3_load_exiting | proc_ctl::cr3_store_exiting));
    }
    SECTION("no EPT and no CR3 or INVLPG exiting: no guest can run") {
        vmx_msrs m = haswell();
        m.value[ES_MSR_PROCBASED2] = ctl_msr(0, 0xff & ~0x2u);
        m = without_control(m, ES_MSR_TRUE_PROCBASED, proc_ctl::cr3_load_exiting);
        const capabilities caps = parse_capabilities(m);
        CHECK_FALSE(can_run_guests(caps));
        CHECK(std::string(why_no_guests(caps)).find("cannot make INVLPG and CR3") !=
              std::string::npos);
    }
    SECTION("no unrestricted guest: EPT on, paged modes only, CR0.PE and PG fixed to 1") {
        const capabilities caps =
            parse_capabilities(es::test::haswell_without_unrestricted_guest());
        const controls_choice ch = choose_controls(caps);
        REQUIRE(ch.problem == nullptr);
        CHECK(ch.controls.proc2 & proc_ctl2::enable_ept);
        CHECK_FALSE(ch.controls.proc2 & proc_ctl2::unrestricted_guest);
        CHECK(can_run_guests(caps));
        CHECK_FALSE(runs_unpaged_modes(caps));
        CHECK((cr0_guest_fixed1_bits(caps) & (cr0::pe | cr0::pg)) == (cr0::pe | cr0::pg));
        CHECK((cr0_guest_fixed1_bits(parse_capabilities(haswell())) & (cr0::pe | cr0::pg)) == 0);
    }
    SECTION("no EFER entry/exit controls (Core 2): EFER controls off, EPT guests still run") {
        vmx_msrs m = without_control(haswell(), ES_MSR_TRUE_EXIT, exit_ctl::load_efer);
        const capabilities caps = parse_capabilities(m);
        const controls_choice ch = choose_controls(caps);
        REQUIRE(ch.problem == nullptr);
        CHECK_FALSE(caps.efer_controls);
        CHECK_FALSE(ch.controls.exit & (exit_ctl::load_efer | exit_ctl::save_efer));
        CHECK_FALSE(ch.controls.entry & entry_ctl::load_efer);
        // EFER goes through the MSR-load areas instead (vmx/efer_switch.cpp).
        CHECK(ch.controls.proc2 & proc_ctl2::enable_ept);
        CHECK(why_no_guests(caps) == nullptr);
        CHECK(why_no_guests(parse_capabilities(haswell())) == nullptr);
        const controls_choice with = choose_controls(parse_capabilities(haswell()));
        CHECK(with.controls.exit & exit_ctl::load_efer);
        CHECK(with.controls.entry & entry_ctl::load_efer);
    }
    SECTION("no secondary controls: none activated") {
        vmx_msrs m = haswell();
        m.value[ES_MSR_TRUE_PROCBASED] = ctl_msr(0x04006172, 0x7ff9fffe);
        const capabilities caps = parse_capabilities(m);
        const controls_choice ch = choose_controls(caps);
        REQUIRE(ch.problem == nullptr);
        CHECK_FALSE(ch.controls.proc & proc_ctl::activate_secondary);
        CHECK(ch.controls.proc2 == 0);
        CHECK_FALSE(runs_ept_guests(caps));
        CHECK(can_run_guests(caps)); // under shadow paging
    }
}

TEST_CASE("choose_controls names what a CPU lacks") {
    SECTION("VMCS not write-back") {
        vmx_msrs m = haswell();
        m.value[ES_MSR_BASIC] &= ~(0xfull << 50);
        CHECK(std::string(choose_controls(parse_capabilities(m)).problem) ==
              "VMCS memory type is not write-back");
    }
    SECTION("HLT exiting impossible") {
        vmx_msrs m = haswell();
        m.value[ES_MSR_TRUE_PROCBASED] = ctl_msr(0x04006172, 0xfff9fffe & ~(1u << 7));
        CHECK(std::string(choose_controls(parse_capabilities(m)).problem) ==
              "primary processor-based controls");
    }
    SECTION("EPT forced on without a 4-level walk: refused, not run without an EPT pointer") {
        vmx_msrs m = haswell();
        m.value[ES_MSR_PROCBASED2] = ctl_msr(sdm::proc_ctl2::enable_ept, 0xff);
        m.value[ES_MSR_EPT_VPID_CAP] &= ~(1ull << 6);
        CHECK(std::string(choose_controls(parse_capabilities(m)).problem) ==
              "secondary processor-based controls");
    }
    SECTION("all zero MSRs") {
        CHECK(std::string(choose_controls(parse_capabilities(vmx_msrs{})).problem) ==
              "VMCS region size is not between 1 and 4096 bytes");
    }
}

TEST_CASE("guest CR0 fixed bits exclude PE and PG under unrestricted guest") {
    const capabilities c = parse_capabilities(haswell());
    CHECK(cr0_guest_fixed1_bits(c) == 0x20);   // NE only
    CHECK(cr4_guest_fixed1_bits(c) == 0x2000); // VMXE
}

TEST_CASE("a shadow-paging VM: EPT and unrestricted guest off, CR3 and INVLPG exit") {
    const capabilities caps = parse_capabilities(haswell());
    const controls_choice base = choose_controls(caps);
    REQUIRE(base.problem == nullptr);
    const controls_choice sh = shadow_paging_controls(caps, base.controls);
    REQUIRE(sh.problem == nullptr);
    using namespace sdm;
    const std::uint32_t added =
        proc_ctl::invlpg_exiting | proc_ctl::cr3_load_exiting | proc_ctl::cr3_store_exiting;
    CHECK((sh.controls.proc & added) == added);
    CHECK((sh.controls.proc & ~added) == (base.controls.proc & ~added));
    CHECK_FALSE(sh.controls.proc2 & proc_ctl2::enable_ept);
    CHECK_FALSE(sh.controls.proc2 & proc_ctl2::unrestricted_guest);
    CHECK(sh.controls.proc2 & proc_ctl2::enable_vpid);
    CHECK(sh.controls.proc2 ==
          (base.controls.proc2 & ~(proc_ctl2::enable_ept | proc_ctl2::unrestricted_guest)));
    CHECK(sh.controls.pin == base.controls.pin);
    CHECK(sh.controls.exit == base.controls.exit);
    CHECK(sh.controls.entry == base.controls.entry);
    CHECK(sh.controls.proc_on_demand == base.controls.proc_on_demand);
}

TEST_CASE("shadow paging is refused where VMX cannot give it its exits") {
    vmx_msrs m = haswell();
    // INVLPG exiting (bit 9) not allowed.
    m.value[ES_MSR_TRUE_PROCBASED] = ctl_msr(0x04006172, 0xfff9fffe & ~(1u << 9));
    capabilities caps = parse_capabilities(m);
    CHECK(shadow_paging_controls(caps, choose_controls(caps).controls).problem != nullptr);
    // EPT forced on.
    m = haswell();
    m.value[ES_MSR_PROCBASED2] =
        ctl_msr(1u << 1, 0x000000ff | (1u << 10) | (1u << 11) | (1u << 12));
    caps = parse_capabilities(m);
    CHECK(shadow_paging_controls(caps, vm_controls{}).problem != nullptr);
}
