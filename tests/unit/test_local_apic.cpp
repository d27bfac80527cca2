// The local APIC model's registers and interrupt state (board/local_apic.hpp), driven with the
// register sequences Linux writes in x2APIC mode: setup_local_APIC and lapic_setup_esr
// (arch/x86/kernel/apic/apic.c), priority and EOI ordering, and the SDM's #GP rules.
#include "lapic_test_util.hpp"

using namespace es;
using namespace lapic_test;
namespace apic = sdm::apic;

TEST_CASE("LAPIC: power-on state, in x2APIC mode as firmware that enabled it leaves it") {
    local_apic bsp, ap;
    lapic_power_on(bsp, 0, tsc_khz, bus_khz);
    lapic_power_on(ap, 17, tsc_khz, bus_khz);
    CHECK(rd(bsp, apic::base_msr) == 0xfee00d00); // base, EN, EXTD, BSP
    CHECK(rd(ap, apic::base_msr) == 0xfee00c00);
    CHECK(bsp.state == vcpu_run_state::running);
    CHECK(ap.state == vcpu_run_state::wait_for_sipi);
    CHECK(rd(ap, x2apic_reg::id) == 17);
    CHECK(rd(ap, x2apic_reg::version) == 0x60014);
    CHECK(rd(ap, x2apic_reg::ldr) == ((1u << 16) | (1u << 1))); // cluster 1, bit 1
    CHECK(rd(bsp, x2apic_reg::ldr) == 1);
    CHECK(rd(bsp, x2apic_reg::svr) == 0xff);
    for (auto r :
         {x2apic_reg::lvt_cmci, x2apic_reg::lvt_timer, x2apic_reg::lvt_thermal, x2apic_reg::lvt_pmi,
          x2apic_reg::lvt_lint0, x2apic_reg::lvt_lint1, x2apic_reg::lvt_error})
        CHECK(rd(bsp, r) == apic::lvt::masked);
    CHECK(lapic_next_deadline(bsp) == lapic::no_deadline);
    CHECK(lapic_pending_vector(bsp) == -1);
    CHECK_FALSE(lapic_pic_input_open(bsp));
    lapic_set_virtual_wire(bsp);
    CHECK(lapic_pic_input_open(bsp)); // the PIT reaches vCPU 0 before Linux sets its APIC up
    CHECK(lapic_handles_msr(0x1b));
    CHECK(lapic_handles_msr(0x6e0));
    CHECK(lapic_handles_msr(0x800));
    CHECK(lapic_handles_msr(0x8ff));
    CHECK_FALSE(lapic_handles_msr(0x7ff));
    CHECK_FALSE(lapic_handles_msr(0x900));
}

namespace {
// setup_local_APIC on CPU `cpu`, with `noapic` (ioapic_is_disabled), x2APIC cluster mode, then
// end_local_APIC_setup's lapic_setup_esr. Returns the last ESR read.
std::uint64_t linux_setup_local_apic(local_apic& l, unsigned cpu) {
    std::uint64_t v = rd(l, x2apic_reg::svr); // soft-disable first (kexec leftovers)
    wr(l, x2apic_reg::svr, v & ~0x100ull);
    rd(l, x2apic_reg::ldr); // x2apic_cluster's init_apic_ldr
    v = rd(l, x2apic_reg::tpr);
    wr(l, x2apic_reg::tpr, (v & ~0xffull) | 0x10); // accept all but vectors 0-31
    for (unsigned i = 7; i-- > 0;) {               // apic_pending_intr_clear
        rd(l, msr(x2apic_reg::isr) + i);
        rd(l, msr(x2apic_reg::irr) + i);
    }
    v = rd(l, x2apic_reg::svr);
    wr(l, x2apic_reg::svr, (v & ~0xffull) | 0x100 | 0xff); // enable, spurious vector 0xFF
    v = rd(l, x2apic_reg::lvt_lint0) & apic::lvt::masked;
    (void)v;
    wr(l, x2apic_reg::lvt_lint0, cpu == 0 ? 0x700 : 0x700 | apic::lvt::masked); // ExtINT
    wr(l, x2apic_reg::lvt_lint1, cpu == 0 ? 0x400 : 0x400 | apic::lvt::masked); // NMI
    // lapic_setup_esr: more than 3 LVT entries, so ESR is written before each read.
    wr(l, x2apic_reg::esr, 0);
    rd(l, x2apic_reg::esr);
    wr(l, x2apic_reg::lvt_error, 0xfe); // ERROR_APIC_VECTOR
    wr(l, x2apic_reg::esr, 0);
    return rd(l, x2apic_reg::esr);
}
} // namespace

TEST_CASE("LAPIC: Linux's setup_local_APIC on the BSP and on an AP") {
    local_apic bsp, ap;
    lapic_power_on(bsp, 0, tsc_khz, bus_khz);
    lapic_power_on(ap, 1, tsc_khz, bus_khz);
    lapic_set_virtual_wire(bsp);
    CHECK(linux_setup_local_apic(bsp, 0) == 0);
    CHECK(linux_setup_local_apic(ap, 1) == 0);
    CHECK(rd(bsp, x2apic_reg::svr) == 0x1ff);
    CHECK(rd(bsp, x2apic_reg::tpr) == 0x10);
    CHECK(rd(bsp, x2apic_reg::ppr) == 0x10);
    CHECK(rd(bsp, x2apic_reg::lvt_lint0) == 0x700);
    CHECK(rd(bsp, x2apic_reg::lvt_error) == 0xfe);
    CHECK(lapic_pic_input_open(bsp)); // the 8259A through LINT0 on CPU 0 only
    CHECK_FALSE(lapic_pic_input_open(ap));
}

TEST_CASE("LAPIC: priority classes, acknowledge and EOI in order") {
    local_apic l;
    lapic_power_on(l, 0, tsc_khz, bus_khz);
    wr(l, x2apic_reg::svr, 0x1ff);
    CHECK(lapic_accept(l, 0x31));
    CHECK(lapic_accept(l, 0x41));
    CHECK(lapic_accept(l, 0xec));
    CHECK(lapic_pending_vector(l) == 0xec);
    wr(l, x2apic_reg::tpr, 0xe0); // class 0xE is not above TPR's class 0xE
    CHECK(lapic_pending_vector(l) == -1);
    CHECK(lapic_acknowledge(l) == -1);
    wr(l, x2apic_reg::tpr, 0xdf);
    CHECK(lapic_pending_vector(l) == 0xec);
    wr(l, x2apic_reg::tpr, 0);
    CHECK(lapic_acknowledge(l) == 0xec);
    CHECK(isr_has(l, 0xec));
    CHECK_FALSE(irr_has(l, 0xec));
    CHECK(rd(l, x2apic_reg::ppr) == 0xe0);
    CHECK(lapic_pending_vector(l) == -1); // 0x41 waits below the in-service class
    CHECK(rd(l, msr(x2apic_reg::isr) + 7) == 1u << (0xec % 32));
    CHECK(rd(l, msr(x2apic_reg::irr) + 2) == (1u << (0x41 % 32)));
    wr(l, x2apic_reg::eoi, 0);
    CHECK_FALSE(isr_has(l, 0xec));
    CHECK(lapic_acknowledge(l) == 0x41);
    CHECK(lapic_accept(l, 0x51)); // a higher class nests
    CHECK(lapic_acknowledge(l) == 0x51);
    CHECK(rd(l, x2apic_reg::ppr) == 0x50);
    wr(l, x2apic_reg::eoi, 0); // clears the highest in service first
    CHECK_FALSE(isr_has(l, 0x51));
    CHECK(isr_has(l, 0x41));
    wr(l, x2apic_reg::eoi, 0);
    CHECK(lapic_acknowledge(l) == 0x31);
    wr(l, x2apic_reg::eoi, 0);
    wr(l, x2apic_reg::eoi, 0); // with nothing in service, nothing happens
    CHECK(lapic_pending_vector(l) == -1);
    CHECK(rd(l, x2apic_reg::ppr) == 0);
}

TEST_CASE("LAPIC: vectors below 16 are never delivered; ESR latches on write") {
    local_apic l;
    lapic_power_on(l, 0, tsc_khz, bus_khz);
    wr(l, x2apic_reg::svr, 0x1ff);
    CHECK_FALSE(lapic_accept(l, 15));
    wr(l, x2apic_reg::self_ipi, 3);
    CHECK(l.irr == decltype(l.irr){});
    CHECK(rd(l, x2apic_reg::esr) == 0); // not latched until ESR is written
    wr(l, x2apic_reg::esr, 0);
    CHECK(rd(l, x2apic_reg::esr) == apic::esr::received_illegal_vector);
    // Sending one: nothing goes out, the sender's send-illegal-vector bit.
    const lapic_wrmsr_result r = wr(l, x2apic_reg::icr, (1ull << 32) | 0x05);
    CHECK_FALSE(r.sent_ipi);
    wr(l, x2apic_reg::esr, 0);
    CHECK(rd(l, x2apic_reg::esr) == apic::esr::send_illegal_vector);
    wr(l, x2apic_reg::esr, 0);
    CHECK(rd(l, x2apic_reg::esr) == 0);
    // With the error LVT entry unmasked, an error interrupts.
    wr(l, x2apic_reg::lvt_error, 0xfe);
    lapic_accept(l, 1);
    CHECK(lapic_pending_vector(l) == 0xfe);
}

TEST_CASE("LAPIC: software disabled, LVTs stay masked and fixed interrupts are dropped") {
    local_apic l;
    lapic_power_on(l, 0, tsc_khz, bus_khz);
    wr(l, x2apic_reg::lvt_lint0, 0x700); // ignored unmask: SVR bit 8 is clear
    CHECK(rd(l, x2apic_reg::lvt_lint0) == (0x700 | apic::lvt::masked));
    CHECK_FALSE(lapic_accept(l, 0x40));
    CHECK(lapic_pending_vector(l) == -1);
    wr(l, x2apic_reg::svr, 0x1ff);
    wr(l, x2apic_reg::lvt_lint0, 0x700);
    CHECK(rd(l, x2apic_reg::lvt_lint0) == 0x700);
    wr(l, x2apic_reg::svr, 0xff); // disabling masks every entry again
    CHECK(rd(l, x2apic_reg::lvt_lint0) == (0x700 | apic::lvt::masked));
    // Read-only LVT bits (delivery status, remote IRR) read as the model keeps them: 0.
    wr(l, x2apic_reg::svr, 0x1ff);
    wr(l, x2apic_reg::lvt_lint1, 0x400 | apic::lvt::delivery_status | apic::lvt::remote_irr);
    CHECK(rd(l, x2apic_reg::lvt_lint1) == 0x400);
}

TEST_CASE("LAPIC: #GP exactly where the SDM's x2APIC table says") {
    local_apic l;
    lapic_power_on(l, 0, tsc_khz, bus_khz);
    // Read-only registers.
    for (auto r : {x2apic_reg::id, x2apic_reg::version, x2apic_reg::ppr, x2apic_reg::ldr,
                   x2apic_reg::timer_current_count})
        CHECK(wr_gp(l, msr(r), 0));
    for (unsigned i = 0; i < 8; ++i) {
        CHECK(wr_gp(l, msr(x2apic_reg::isr) + i, 0));
        CHECK(wr_gp(l, msr(x2apic_reg::tmr) + i, 0));
        CHECK(wr_gp(l, msr(x2apic_reg::irr) + i, 0));
    }
    // Write-only ones.
    CHECK(rd_gp(l, msr(x2apic_reg::eoi)));
    CHECK(rd_gp(l, msr(x2apic_reg::self_ipi)));
    // Reserved MSRs, the xAPIC's ICR high half (0x831) included.
    for (std::uint32_t m : {0x800u, 0x801u, 0x804u, 0x809u, 0x80cu, 0x80eu, 0x829u, 0x82eu, 0x831u,
                            0x83au, 0x83du, 0x840u, 0x8ffu}) {
        CAPTURE(m);
        CHECK(rd_gp(l, m));
        CHECK(wr_gp(l, m, 0));
    }
    // Reserved bits.
    CHECK(wr_gp(l, msr(x2apic_reg::eoi), 1));
    CHECK(wr_gp(l, msr(x2apic_reg::esr), 1));
    CHECK(wr_gp(l, msr(x2apic_reg::self_ipi), 0x100));
    CHECK(wr_gp(l, msr(x2apic_reg::tpr), 0x100));
    CHECK(wr_gp(l, msr(x2apic_reg::svr), 1ull << 32));
    CHECK(wr_gp(l, msr(x2apic_reg::svr), 0x1000)); // no EOI-broadcast suppression
    CHECK(wr_gp(l, msr(x2apic_reg::timer_divide), 0x4));
    CHECK(wr_gp(l, msr(x2apic_reg::timer_initial_count), 1ull << 32));
    CHECK(wr_gp(l, msr(x2apic_reg::lvt_timer), 3u << 17)); // timer mode 3 is reserved
    CHECK(wr_gp(l, msr(x2apic_reg::lvt_timer), 0x700));    // the timer has no delivery mode
    CHECK(wr_gp(l, msr(x2apic_reg::lvt_error), 0x2000));
    for (unsigned bit : {13u, 16u, 17u, 20u, 31u}) {
        CAPTURE(bit);
        CHECK(wr_gp(l, msr(x2apic_reg::icr), (1ull << bit) | 0x40));
    }
    CHECK(l.icr == 0); // a faulting write changes nothing
    // IA32_APIC_BASE transitions.
    CHECK(wr_gp(l, 0x1b, 0xfee00000 | apic::base::x2apic_enable)); // EXTD without EN
    CHECK(wr_gp(l, 0x1b, 0xfee00000 | apic::base::global_enable)); // x2APIC -> xAPIC
    CHECK(wr_gp(l, 0x1b, 0xfee00c01));                             // reserved bit 0
    CHECK(wr_gp(l, 0x1b, 0xfed00c00));                             // moving the base
    CHECK(rd(l, 0x1b) == 0xfee00d00);
    wr(l, 0x1b, 0xfee00000); // disabled: the x2APIC MSRs fault
    CHECK(rd_gp(l, msr(x2apic_reg::id)));
    CHECK(wr_gp(l, msr(x2apic_reg::tpr), 0));
    CHECK(lapic_pic_input_open(l));    // the CPU's own INTR pin
    CHECK(wr_gp(l, 0x1b, 0xfee00c00)); // disabled -> x2APIC
    wr(l, 0x1b, 0xfee00800);           // -> xAPIC: still no x2APIC MSRs
    CHECK(rd_gp(l, msr(x2apic_reg::id)));
    wr(l, 0x1b, 0xfee00c00); // xAPIC -> x2APIC
    CHECK(rd(l, x2apic_reg::id) == 0);
    CHECK(rd(l, 0x1b) == 0xfee00d00); // the BSP flag is the model's
}
