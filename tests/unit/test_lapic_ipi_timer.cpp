// The local APIC model's IPIs and timer (board/local_apic.hpp), with the sequences Linux writes:
// the x2APIC IPI paths (x2apic_send_IPI*, cluster and physical), smpboot's
// wakeup_secondary_cpu_via_init, and the lapic timer (lapic_next_deadline in TSC-deadline mode,
// lapic_next_event one-shot, periodic).
#include <array>

#include "lapic_test_util.hpp"

using namespace es;
using namespace lapic_test;
namespace apic = sdm::apic;

namespace {
struct machine {
    std::array<local_apic, 4> cpu;
    machine() {
        for (std::uint32_t i = 0; i < cpu.size(); ++i) {
            lapic_power_on(cpu[i], i, tsc_khz, bus_khz);
            cpu[i].state = vcpu_run_state::running;
            wr(cpu[i], x2apic_reg::svr, 0x1ff);
        }
    }
    // What the caller does with a sent message: every destination receives it. Returns the
    // destinations as a bit mask.
    unsigned route(const lapic_ipi& m, std::array<lapic_event, 4>* events = nullptr) {
        unsigned mask = 0;
        for (unsigned i = 0; i < cpu.size(); ++i) {
            if (!lapic_is_destination(cpu[i], m))
                continue;
            mask |= 1u << i;
            const lapic_event e = lapic_receive(cpu[i], m);
            if (events)
                (*events)[i] = e;
        }
        return mask;
    }
    unsigned send(unsigned from, std::uint64_t icr, std::array<lapic_event, 4>* events = nullptr) {
        const lapic_wrmsr_result r = wr(cpu[from], x2apic_reg::icr, icr);
        return r.sent_ipi ? route(r.ipi, events) : 0;
    }
};

constexpr std::uint64_t dest(std::uint32_t d) {
    return std::uint64_t{d} << 32;
}
constexpr std::uint64_t reschedule = 0xfd, call_function = 0xfb, local_timer = 0xec;
} // namespace

TEST_CASE("LAPIC IPI: Linux's x2APIC cluster and physical sends") {
    machine m;
    // x2apic_cluster send_IPI: logical destination, the target's LDR.
    CHECK(m.send(0, dest(apic::x2apic_logical_id(1)) | apic::icr::logical | reschedule) == 0b10);
    CHECK(lapic_pending_vector(m.cpu[1]) == reschedule);
    CHECK(lapic_pending_vector(m.cpu[0]) == -1);
    // A cluster mask with several bits: send_IPI_mask.
    CHECK(m.send(1, dest(0b1101) | apic::icr::logical | call_function) == 0b1101);
    // Shorthands: all-but-self, all, self; the destination field is ignored.
    CHECK(m.send(2, dest(7) | (3ull << 18) | call_function) == 0b1011);
    CHECK(m.send(2, (2ull << 18) | call_function) == 0b1111);
    CHECK(m.send(2, (1ull << 18) | call_function) == 0b0100);
    // x2apic_phys: the physical ID; a missing one reaches nobody; all ones is a broadcast.
    CHECK(m.send(0, dest(3) | reschedule) == 0b1000);
    CHECK(m.send(0, dest(9) | reschedule) == 0);
    CHECK(m.send(0, dest(0xffffffff) | reschedule) == 0b1111);
    // Another cluster's bitmap is not ours.
    CHECK(m.send(0, dest((1u << 16) | 0b10) | apic::icr::logical | reschedule) == 0);
    // x2apic_send_IPI_self: the SELF IPI MSR.
    wr(m.cpu[3], x2apic_reg::self_ipi, 0x22);
    CHECK(irr_has(m.cpu[3], 0x22));
    // NMI_VECTOR goes as delivery mode NMI.
    std::array<lapic_event, 4> ev{};
    CHECK(m.send(0, dest(2) | 0x400 | 2, &ev) == 0b100);
    CHECK(ev[2] == lapic_event::nmi);
    // The ICR reads back what was written; its delivery status bit reads 0 ("never pending").
    wr(m.cpu[0], x2apic_reg::icr, dest(1) | apic::icr::delivery_status | reschedule);
    CHECK(rd(m.cpu[0], x2apic_reg::icr) == (dest(1) | reschedule));
    // SMI and the reserved delivery modes send nothing.
    for (std::uint64_t mode : {2ull, 3ull, 7ull})
        CHECK(m.send(0, dest(1) | (mode << 8) | 0x40) == 0);
}

TEST_CASE("LAPIC IPI: smpboot's wakeup_secondary_cpu_via_init starts an AP once") {
    local_apic bsp, ap;
    lapic_power_on(bsp, 0, tsc_khz, bus_khz);
    lapic_power_on(ap, 1, tsc_khz, bus_khz);
    wr(bsp, x2apic_reg::svr, 0x1ff);
    const auto send = [&](std::uint64_t icr) {
        const lapic_wrmsr_result r = wr(bsp, x2apic_reg::icr, icr);
        if (!r.sent_ipi)
            return lapic_event::none;
        CHECK(lapic_is_destination(ap, r.ipi));
        CHECK_FALSE(lapic_is_destination(bsp, r.ipi));
        return lapic_receive(ap, r.ipi);
    };
    wr(bsp, x2apic_reg::esr, 0);
    rd(bsp, x2apic_reg::esr);
    // INIT assert: level-triggered, asserted.
    CHECK(send(dest(1) | apic::icr::level_triggered | apic::icr::level_assert | 0x500) ==
          lapic_event::init);
    CHECK(ap.state == vcpu_run_state::wait_for_sipi);
    // INIT de-assert: nothing.
    CHECK(send(dest(1) | apic::icr::level_triggered | 0x500) == lapic_event::none);
    // Two start-up IPIs for the trampoline at 0x9A000: the first starts it, the second is
    // ignored; ESR stays clear (accept_status = ESR & 0xEF).
    constexpr std::uint64_t start_eip = 0x9a000;
    for (int j = 1; j <= 2; ++j) {
        wr(bsp, x2apic_reg::esr, 0);
        rd(bsp, x2apic_reg::esr);
        CHECK(send(dest(1) | 0x600 | (start_eip >> 12)) ==
              (j == 1 ? lapic_event::startup : lapic_event::none));
        wr(bsp, x2apic_reg::esr, 0);
        CHECK((rd(bsp, x2apic_reg::esr) & 0xef) == 0);
    }
    CHECK(ap.state == vcpu_run_state::running);
    CHECK(ap.sipi_vector == 0x9a);
    CHECK(rd(ap, apic::base_msr) == 0xfee00c00); // still x2APIC, still not the BSP
}

TEST_CASE("LAPIC IPI: INIT resets the target's APIC but its ID and mode") {
    machine m;
    local_apic& l = m.cpu[2];
    wr(l, x2apic_reg::tpr, 0x20);
    wr(l, x2apic_reg::lvt_timer, 0x200ec);
    wr(l, x2apic_reg::timer_initial_count, 1000, 5);
    lapic_accept(l, 0x80);
    std::array<lapic_event, 4> ev{};
    // INIT to self, as a hostile guest would.
    CHECK(m.send(2, dest(2) | apic::icr::level_assert | 0x500, &ev) == 0b100);
    CHECK(ev[2] == lapic_event::init);
    CHECK(l.state == vcpu_run_state::wait_for_sipi);
    CHECK(rd(l, x2apic_reg::id) == 2);
    CHECK(rd(l, apic::base_msr) == 0xfee00c00);
    CHECK(rd(l, x2apic_reg::tpr) == 0);
    CHECK(rd(l, x2apic_reg::svr) == 0xff);
    CHECK(rd(l, x2apic_reg::lvt_timer) == apic::lvt::masked);
    CHECK(lapic_pending_vector(l) == -1);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
    // A SIPI to a missing vCPU reaches nobody; to a running one, it is ignored.
    CHECK(m.send(0, dest(5) | 0x600 | 0x9a) == 0);
    CHECK(m.send(0, dest(1) | 0x600 | 0x9a, &ev) == 0b10);
    CHECK(ev[1] == lapic_event::none);
    CHECK(m.cpu[1].state == vcpu_run_state::running);
}

TEST_CASE("LAPIC timer: TSC-deadline mode as lapic_next_deadline and lapic_timer_shutdown use it") {
    local_apic l;
    lapic_power_on(l, 0, tsc_khz, bus_khz);
    wr(l, x2apic_reg::svr, 0x1ff);
    // Outside TSC-deadline mode the MSR reads 0 and ignores writes.
    wr(l, apic::tsc_deadline_msr, 12345);
    CHECK(rd(l, apic::tsc_deadline_msr) == 0);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
    wr(l, x2apic_reg::lvt_timer, local_timer | (2u << 17)); // __setup_APIC_LVTT, oneshot
    const std::uint64_t now = 1'000'000, delta = 5000;
    wr(l, apic::tsc_deadline_msr, now + delta * 8, now); // TSC_DIVISOR
    CHECK(rd(l, apic::tsc_deadline_msr) == now + delta * 8);
    CHECK(lapic_next_deadline(l) == now + 40000);
    CHECK_FALSE(lapic_expire(l, now + 39999));
    CHECK(lapic_expire(l, now + 40000));
    CHECK(lapic_pending_vector(l) == local_timer);
    CHECK(rd(l, apic::tsc_deadline_msr) == 0);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
    CHECK_FALSE(lapic_expire(l, now + 50000));
    // A deadline already past fires at the next expiry; 0 disarms.
    wr(l, apic::tsc_deadline_msr, 10);
    CHECK(lapic_next_deadline(l) == 10);
    wr(l, apic::tsc_deadline_msr, 0);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
    // Shutdown: mask the LVT (same mode) and write 0 to the initial count, ignored here.
    wr(l, apic::tsc_deadline_msr, now * 2);
    wr(l, x2apic_reg::lvt_timer, rd(l, x2apic_reg::lvt_timer) | apic::lvt::masked | local_timer);
    wr(l, x2apic_reg::timer_initial_count, 0);
    CHECK(rd(l, x2apic_reg::timer_initial_count) == 0);
    CHECK(lapic_next_deadline(l) == now * 2); // still armed, but masked: no interrupt
    wr(l, x2apic_reg::eoi, 0);
    lapic_acknowledge(l);
    wr(l, x2apic_reg::eoi, 0);
    CHECK_FALSE(lapic_expire(l, now * 2));
    CHECK(lapic_pending_vector(l) == -1);
    // Leaving TSC-deadline mode disarms it.
    wr(l, apic::tsc_deadline_msr, now * 3);
    wr(l, x2apic_reg::lvt_timer, local_timer);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
}

TEST_CASE("LAPIC timer: one-shot (lapic_next_event) and periodic, divided by 16") {
    local_apic l;
    lapic_power_on(l, 0, tsc_khz, bus_khz);
    wr(l, x2apic_reg::svr, 0x1ff);
    // __setup_APIC_LVTT without TSC deadline: the divider, read-modify-write, to 16.
    const std::uint64_t dcr = rd(l, x2apic_reg::timer_divide);
    wr(l, x2apic_reg::timer_divide, (dcr & ~0xfull) | 0x3);
    wr(l, x2apic_reg::lvt_timer, local_timer);
    const std::uint64_t t0 = 7'000'000;
    wr(l, x2apic_reg::timer_initial_count, 25'000, t0); // 400,000 clocks: 16 ms at 25 MHz
    constexpr std::uint64_t tsc_16ms = 32'000'000;
    CHECK(lapic_next_deadline(l) == t0 + tsc_16ms);
    CHECK(rd(l, x2apic_reg::timer_current_count, t0) == 25'000);
    CHECK(rd(l, x2apic_reg::timer_current_count, t0 + tsc_16ms / 2) == 12'500);
    CHECK_FALSE(lapic_expire(l, t0 + tsc_16ms - 1));
    CHECK(lapic_expire(l, t0 + tsc_16ms));
    CHECK(rd(l, x2apic_reg::timer_current_count, t0 + tsc_16ms) == 0);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
    CHECK(lapic_acknowledge(l) == local_timer);
    wr(l, x2apic_reg::eoi, 0);

    // Periodic; missed periods coalesce into one interrupt.
    wr(l, x2apic_reg::lvt_timer, local_timer | (1u << 17));
    CHECK(rd(l, x2apic_reg::timer_initial_count) == 0); // the mode change stopped it
    wr(l, x2apic_reg::timer_initial_count, 25'000, t0);
    CHECK(lapic_expire(l, t0 + tsc_16ms));
    CHECK(lapic_next_deadline(l) == t0 + 2 * tsc_16ms);
    CHECK(lapic_expire(l, t0 + 5 * tsc_16ms + 7));
    CHECK(lapic_next_deadline(l) == t0 + 6 * tsc_16ms);
    CHECK(rd(l, x2apic_reg::timer_current_count, t0 + 5 * tsc_16ms + tsc_16ms / 4) == 18'750);
    // A count of 0 stops it.
    wr(l, x2apic_reg::timer_initial_count, 0, t0);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
    // The periodic floor: a count of 1 still interrupts at most every 200 us.
    wr(l, x2apic_reg::timer_divide, 0xb); // divide by 1
    wr(l, x2apic_reg::timer_initial_count, 1, t0);
    CHECK(lapic_next_deadline(l) == t0 + 400'000);
    // Near the TSC's end the deadline is clamped, and after it the timer stops.
    wr(l, x2apic_reg::timer_initial_count, 0xffffffff, ~0ull - 1000);
    CHECK(lapic_next_deadline(l) == ~0ull - 1);
    CHECK(lapic_expire(l, ~0ull - 1));
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
}

TEST_CASE("LAPIC timer: time stands still without a clock") {
    local_apic l;
    lapic_power_on(l, 0, tsc_khz, 0);
    wr(l, x2apic_reg::svr, 0x1ff);
    wr(l, x2apic_reg::lvt_timer, local_timer);
    wr(l, x2apic_reg::timer_initial_count, 100, 5);
    CHECK(lapic_next_deadline(l) == lapic::no_deadline);
    CHECK(rd(l, x2apic_reg::timer_current_count, 1'000'000) == 100);
}
