// libFuzzer target: two vCPUs' local APICs (board/local_apic.hpp) under any stream of RDMSR and
// WRMSR (x2APIC range, IA32_APIC_BASE, IA32_TSC_DEADLINE; values random or shaped like Linux's),
// interrupts, acknowledges, EOIs, TSC steps (forward, backwards, to the TSC's end), timer
// expiries at the named deadline, and the IPIs the ICR sends routed between the two. After
// every step:
// - no vector below 16 is in IRR or ISR (accepting one sets ESR's received-illegal bit instead);
// - ISR gains at most one bit at an acknowledge (the vector it returned) and none elsewhere;
// - a vector lapic_pending_vector names has a priority class above PPR's;
// - after an expiry at or past the deadline, an armed deadline lies after the TSC;
// - a write that faults changes nothing.
// ASan and UBSan catch any access out of bounds and any undefined arithmetic.
#include <cstddef>
#include <cstdint>

#include "board/local_apic.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tests/fuzz/fuzz_require.hpp"

namespace {
using fuzz::input;
using fuzz::require;
namespace apic = sdm::apic;

// The x2APIC registers, their neighbours and the other MSRs the model answers.
constexpr std::uint32_t msrs[] = {
    0x1b,  0x6e0, 0x800, 0x802, 0x803, 0x808, 0x80a, 0x80b, 0x80d, 0x80f, 0x810, 0x817,
    0x818, 0x820, 0x827, 0x828, 0x82f, 0x830, 0x831, 0x832, 0x833, 0x834, 0x835, 0x836,
    0x837, 0x838, 0x839, 0x83e, 0x83f, 0x840, 0x8ff, 0x801, 0x80c, 0x829,
};

std::uint32_t pick_msr(input& in) {
    const auto sel = static_cast<std::uint8_t>(in.take(1));
    if (sel < 0xe0)
        return msrs[sel % (sizeof msrs / sizeof msrs[0])];
    return 0x800 + static_cast<std::uint32_t>(in.take(1));
}

// Values Linux writes, so that the interesting states (enabled, timer modes, ICR modes) come
// quickly; or anything.
std::uint64_t pick_value(input& in, std::uint32_t msr) {
    const auto shape = static_cast<std::uint8_t>(in.take(1));
    switch (shape & 7) {
    case 0:
        return in.take(8);
    case 1:
        return in.take(1);
    case 2: // an LVT entry: vector, mode, mask, timer mode
        return (in.take(1) & 0xff) | (in.take(1) & 7) << 8 | (shape >> 3 & 1) << 16 |
               (shape >> 4 & 3) << 17;
    case 3: // an ICR: vector, delivery mode, logical, assert, level, shorthand, destination
        return in.take(1) | (in.take(1) & 7) << 8 | (shape >> 3 & 1) << 11 |
               (shape >> 4 & 1) << 14 | (shape >> 5 & 1) << 15 | (in.take(1) & 3) << 18 |
               (in.take(1) & 3) << 32;
    case 4: // the SVR enabled
        return 0x100 | in.take(1);
    case 5: // IA32_APIC_BASE: base and the mode bits
        return 0xfee00000 | (in.take(1) & 0xd00);
    case 6: // a count or a deadline near now
        return msr == apic::tsc_deadline_msr ? in.take(4) : in.take(2);
    default:
        return 0;
    }
}

unsigned popcount32(std::uint32_t v) {
    unsigned n = 0;
    for (; v; v &= v - 1)
        ++n;
    return n;
}

bool same(const es::local_apic& a, const es::local_apic& b) {
    return a.apic_base == b.apic_base && a.id == b.id && a.tpr == b.tpr && a.svr == b.svr &&
           a.esr == b.esr && a.esr_pending == b.esr_pending && a.icr == b.icr && a.irr == b.irr &&
           a.isr == b.isr && a.tmr == b.tmr && a.lvt == b.lvt &&
           a.timer_initial == b.timer_initial && a.timer_divide == b.timer_divide &&
           a.timer_start == b.timer_start && a.timer_shift == b.timer_shift &&
           a.timer_deadline == b.timer_deadline && a.tsc_deadline == b.tsc_deadline &&
           a.tsc_khz == b.tsc_khz && a.bus_khz == b.bus_khz && a.state == b.state &&
           a.sipi_vector == b.sipi_vector;
}

struct world {
    es::local_apic cpu[2];
    std::uint64_t now = 0;
};

void check(const world& w) {
    for (const es::local_apic& l : w.cpu) {
        require((l.irr[0] & 0xffff) == 0 && (l.isr[0] & 0xffff) == 0);
        const int v = es::lapic_pending_vector(l);
        if (v >= 0)
            require((static_cast<std::uint32_t>(v) & 0xf0) > (es::lapic_ppr(l) & 0xf0));
        const es::lapic_rdmsr_result icr = es::lapic_rdmsr(l, 0x830, w.now);
        require(icr.gp || !(icr.value & apic::icr::delivery_status));
    }
}

// ISR after an operation that is not an acknowledge: no bit gained.
void no_isr_gain(const es::local_apic& before, const es::local_apic& after) {
    for (unsigned i = 0; i < 8; ++i)
        require((after.isr[i] & ~before.isr[i]) == 0);
}

void route(world& w, unsigned from, const es::lapic_ipi& m) {
    require(m.mode != apic::delivery::fixed || m.vector >= 16);
    for (es::local_apic& target : w.cpu) {
        if (!es::lapic_is_destination(target, m))
            continue;
        const es::local_apic before = target;
        const es::lapic_event e = es::lapic_receive(target, m);
        if (e != es::lapic_event::init)
            no_isr_gain(before, target);
        if (e == es::lapic_event::startup)
            require(before.state == es::vcpu_run_state::wait_for_sipi);
    }
    (void)from;
}

// The TSC moves: forward a little or a lot, backwards (another CPU's TSC, a little behind), or
// anywhere, the end of the TSC included.
std::uint64_t step_tsc(std::uint64_t now, std::uint8_t op, input& in) {
    const unsigned how = (op & 3) | (op >> 2 & 4);
    if (how == 0 || how == 4)
        return now + in.take(2);
    if (how == 1 || how == 5)
        return now + in.take(4);
    if (how == 2 || how == 6)
        return now - in.take(2);
    return how == 3 ? in.take(8) : ~0ull - in.take(4);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in{data, size};
    world w;
    // 0 (time stands still) up to 10 GHz; the timer clock anywhere up to it.
    const std::uint64_t tsc_khz = in.take(4) % (es::lapic::max_tsc_khz + 1);
    const std::uint64_t bus_khz = in.take(4);
    es::lapic_power_on(w.cpu[0], 0, tsc_khz, bus_khz);
    es::lapic_power_on(w.cpu[1], 1, tsc_khz, bus_khz);
    if (in.take(1) & 1)
        es::lapic_set_virtual_wire(w.cpu[0]);
    w.now = in.take(8);
    check(w);
    while (!in.empty()) {
        const auto op = static_cast<std::uint8_t>(in.take(1));
        es::local_apic& l = w.cpu[op >> 7];
        const es::local_apic before = l;
        switch (op & 0x0f) {
        case 0:
        case 1: { // RDMSR
            const std::uint32_t m = pick_msr(in);
            es::lapic_rdmsr(l, m, w.now);
            require(same(before, l));
            break;
        }
        case 2:
        case 3:
        case 4: { // WRMSR
            const std::uint32_t m = pick_msr(in);
            const es::lapic_wrmsr_result r = es::lapic_wrmsr(l, m, pick_value(in, m), w.now);
            if (r.gp)
                require(same(before, l) && !r.sent_ipi);
            else
                no_isr_gain(before, l);
            if (r.sent_ipi)
                route(w, op >> 7, r.ipi);
            break;
        }
        case 5: { // a device's or another CPU's fixed interrupt, any vector
            const auto v = static_cast<std::uint8_t>(in.take(1));
            const bool taken = es::lapic_accept(l, v);
            if (v < 16) {
                require(!taken && (l.esr_pending & apic::esr::received_illegal_vector));
            }
            no_isr_gain(before, l);
            break;
        }
        case 6: { // the CPU takes the pending interrupt
            const int expected = es::lapic_pending_vector(l);
            const int v = es::lapic_acknowledge(l);
            require(v == expected);
            unsigned gained = 0;
            for (unsigned i = 0; i < 8; ++i)
                gained += popcount32(l.isr[i] & ~before.isr[i]);
            require(gained == (v >= 0 ? 1u : 0u));
            if (v >= 0)
                require(l.isr[v / 32] >> (v % 32) & 1);
            break;
        }
        case 7: // EOI, as Linux writes it
            es::lapic_wrmsr(l, 0x80b, 0, w.now);
            no_isr_gain(before, l);
            break;
        case 8:
        case 9:
        case 10:
        case 11:
            w.now = step_tsc(w.now, op, in);
            break;
        case 12:   // the timer expires at the deadline it named
        case 13: { // or at the TSC as it is
            const std::uint64_t d = es::lapic_next_deadline(l);
            if ((op & 0x0f) == 12 && d != es::lapic::no_deadline)
                w.now = d;
            const bool due = d != es::lapic::no_deadline && w.now >= d;
            es::lapic_expire(l, w.now);
            no_isr_gain(before, l);
            const std::uint64_t next = es::lapic_next_deadline(l);
            if (due)
                require(next == es::lapic::no_deadline || next > w.now);
            break;
        }
        default: // an interrupt from the PIC through LINT0 is only a question here
            es::lapic_pic_input_open(l);
            break;
        }
        check(w);
    }
    return 0;
}
