// The local APIC's registers and interrupt state (local_apic.hpp). Section names are those of
// the Intel SDM, Volume 3, chapter "Advanced Programmable Interrupt Controller (APIC)",
// 325462-080US.
#include "local_apic.hpp"

#include "lapic_parts.hpp"

namespace es {

namespace {

namespace apic = sdm::apic;
using apic::x2apic_reg;

constexpr std::uint32_t msb32(std::uint32_t v) {
    unsigned n = 31;
    while (!(v >> n))
        --n;
    return n;
}

// The highest vector set in a 256-bit register, or -1.
int highest(const std::array<std::uint32_t, 8>& r) {
    for (unsigned i = r.size(); i-- > 0;)
        if (r[i])
            return static_cast<int>(i * 32 + msb32(r[i]));
    return -1;
}

void set_bit(std::array<std::uint32_t, 8>& r, unsigned v) {
    r[v / 32] |= 1u << (v % 32);
}

void clear_bit(std::array<std::uint32_t, 8>& r, unsigned v) {
    r[v / 32] &= ~(1u << (v % 32));
}

// The LVT entry of an LVT register other than the timer's.
unsigned lvt_index(x2apic_reg r) {
    switch (r) {
    case x2apic_reg::lvt_cmci:
        return static_cast<unsigned>(lvt_entry::cmci);
    case x2apic_reg::lvt_thermal:
        return static_cast<unsigned>(lvt_entry::thermal);
    case x2apic_reg::lvt_pmi:
        return static_cast<unsigned>(lvt_entry::pmi);
    case x2apic_reg::lvt_lint0:
        return static_cast<unsigned>(lvt_entry::lint0);
    case x2apic_reg::lvt_lint1:
        return static_cast<unsigned>(lvt_entry::lint1);
    default:
        return static_cast<unsigned>(lvt_entry::error);
    }
}

// "Spurious-Interrupt Vector Register": software disabling sets every LVT mask bit.
void write_svr(local_apic& l, std::uint32_t value) {
    l.svr = value;
    if (!(value & apic::svr::software_enable))
        for (std::uint32_t& e : l.lvt)
            e |= apic::lvt::masked;
}

// "x2APIC State Transitions": EN and EXTD move disabled <-> xAPIC -> x2APIC -> disabled; EXTD
// without EN, x2APIC straight to xAPIC, and disabled straight to x2APIC are #GP, as is a set
// reserved bit. The base cannot move (not modeled) and the BSP flag is the model's.
bool write_apic_base(local_apic& l, std::uint64_t value) {
    constexpr std::uint64_t mode_bits = apic::base::global_enable | apic::base::x2apic_enable;
    if ((value & ~(mode_bits | apic::base::bsp | apic::base::address_mask)) ||
        (value & apic::base::address_mask) != apic::default_base)
        return false;
    const std::uint64_t from = l.apic_base & mode_bits, to = value & mode_bits;
    if (to == apic::base::x2apic_enable)
        return false;
    if (from == mode_bits && to == apic::base::global_enable)
        return false;
    if (from == 0 && to == mode_bits)
        return false;
    l.apic_base = (l.apic_base & ~mode_bits) | to;
    if (!to) // a globally disabled APIC comes back as after power-up
        lapic_parts::reset_registers(l);
    return true;
}

std::uint32_t bank(const std::array<std::uint32_t, 8>& r, std::uint32_t msr, x2apic_reg first) {
    return r[msr - apic::to_number(first)];
}

std::uint64_t read_register(const local_apic& l, std::uint32_t msr, std::uint64_t now) {
    const auto r = apic::find_x2apic_register(msr)->first;
    switch (r) {
    case x2apic_reg::id:
        return l.id;
    case x2apic_reg::version:
        return lapic::version_register;
    case x2apic_reg::tpr:
        return l.tpr;
    case x2apic_reg::ppr:
        return lapic_ppr(l);
    case x2apic_reg::ldr:
        return apic::x2apic_logical_id(l.id);
    case x2apic_reg::svr:
        return l.svr;
    case x2apic_reg::isr:
        return bank(l.isr, msr, r);
    case x2apic_reg::tmr:
        return bank(l.tmr, msr, r);
    case x2apic_reg::irr:
        return bank(l.irr, msr, r);
    case x2apic_reg::esr:
        return l.esr;
    case x2apic_reg::icr:
        return l.icr;
    case x2apic_reg::lvt_timer:
        return l.lvt[static_cast<unsigned>(lvt_entry::timer)];
    case x2apic_reg::timer_initial_count:
        return l.timer_initial;
    case x2apic_reg::timer_current_count:
        return lapic_parts::timer_current_count(l, now);
    case x2apic_reg::timer_divide:
        return l.timer_divide;
    default:
        return l.lvt[lvt_index(r)];
    }
}

void write_register(local_apic& l, x2apic_reg r, std::uint64_t value, std::uint64_t now,
                    lapic_wrmsr_result& out) {
    const auto v32 = static_cast<std::uint32_t>(value);
    // Read-only bits of the LVT (delivery status, remote IRR) keep the model's value: 0.
    constexpr std::uint32_t lvt_read_only = apic::lvt::delivery_status | apic::lvt::remote_irr;
    const std::uint32_t forced_mask = lapic_parts::software_enabled(l) ? 0 : apic::lvt::masked;
    switch (r) {
    case x2apic_reg::tpr:
        l.tpr = v32;
        return;
    case x2apic_reg::eoi: {
        // "EOI": the highest in-service vector is done.
        const int v = highest(l.isr);
        if (v >= 0)
            clear_bit(l.isr, static_cast<unsigned>(v));
        return;
    }
    case x2apic_reg::svr:
        write_svr(l, v32);
        return;
    case x2apic_reg::esr: // "Error Status Register": a write latches the errors seen and clears
                          // them
        l.esr = l.esr_pending;
        l.esr_pending = 0;
        return;
    case x2apic_reg::icr:
        l.icr = value & ~apic::icr::delivery_status;
        out.sent_ipi = lapic_parts::ipi_from_icr(l, l.icr, out.ipi);
        return;
    case x2apic_reg::lvt_timer:
        lapic_parts::timer_write_lvt(l, (v32 & ~lvt_read_only) | forced_mask, now);
        return;
    case x2apic_reg::timer_initial_count:
        lapic_parts::timer_write_initial(l, v32, now);
        return;
    case x2apic_reg::timer_divide:
        lapic_parts::timer_write_divide(l, v32, now);
        return;
    case x2apic_reg::self_ipi: // "SELF IPI Register": a fixed interrupt to this APIC
        lapic_accept(l, static_cast<std::uint8_t>(v32));
        return;
    default:
        l.lvt[lvt_index(r)] = (v32 & ~lvt_read_only) | forced_mask;
        return;
    }
}

} // namespace

namespace lapic_parts {

bool software_enabled(const local_apic& l) {
    return (l.apic_base & apic::base::global_enable) && (l.svr & apic::svr::software_enable);
}

bool x2apic_mode(const local_apic& l) {
    constexpr std::uint64_t on = apic::base::global_enable | apic::base::x2apic_enable;
    return (l.apic_base & on) == on;
}

void reset_registers(local_apic& l) {
    l.tpr = 0;
    l.svr = apic::svr::reset_value;
    l.esr = l.esr_pending = 0;
    l.icr = 0;
    l.irr = l.isr = l.tmr = {};
    for (std::uint32_t& e : l.lvt)
        e = apic::lvt::masked;
    l.timer_initial = l.timer_divide = 0;
    l.timer_start = 0;
    l.timer_shift = 0;
    l.timer_deadline = lapic::no_deadline;
    l.tsc_deadline = 0;
}

void raise_error(local_apic& l, std::uint32_t esr_bit) {
    l.esr_pending |= esr_bit;
    // "Error Handling": the error LVT entry's vector, when unmasked (and legal: an illegal one
    // would only raise the same error again).
    const std::uint32_t e = l.lvt[static_cast<unsigned>(lvt_entry::error)];
    const std::uint32_t v = e & apic::lvt::vector;
    if (!(e & apic::lvt::masked) && v >= apic::first_legal_vector)
        lapic_accept(l, static_cast<std::uint8_t>(v));
}

} // namespace lapic_parts

void lapic_power_on(local_apic& l, std::uint32_t id, std::uint64_t tsc_khz, std::uint64_t bus_khz) {
    l = local_apic{};
    l.id = id;
    l.apic_base = apic::default_base | apic::base::global_enable | apic::base::x2apic_enable |
                  (id == 0 ? apic::base::bsp : 0);
    l.tsc_khz = tsc_khz < lapic::max_tsc_khz ? tsc_khz : lapic::max_tsc_khz;
    l.bus_khz = bus_khz < l.tsc_khz ? bus_khz : l.tsc_khz;
    l.state = id == 0 ? vcpu_run_state::running : vcpu_run_state::wait_for_sipi;
    lapic_parts::reset_registers(l);
}

void lapic_set_virtual_wire(local_apic& l) {
    l.svr = apic::svr::reset_value | apic::svr::software_enable;
    constexpr auto mode = [](apic::delivery d) {
        return static_cast<std::uint32_t>(d) << apic::lvt::delivery_mode_shift;
    };
    l.lvt[static_cast<unsigned>(lvt_entry::lint0)] = mode(apic::delivery::ext_int);
    l.lvt[static_cast<unsigned>(lvt_entry::lint1)] = mode(apic::delivery::nmi);
}

lapic_rdmsr_result lapic_rdmsr(const local_apic& l, std::uint32_t msr, std::uint64_t now_tsc) {
    if (msr == apic::base_msr)
        return {false, l.apic_base};
    if (msr == apic::tsc_deadline_msr)
        return {false, lapic_parts::timer_read_tsc_deadline(l)};
    const apic::x2apic_register* r = apic::find_x2apic_register(msr);
    if (!r || r->how == apic::access::write_only || !lapic_parts::x2apic_mode(l))
        return {true, 0};
    return {false, read_register(l, msr, now_tsc)};
}

lapic_wrmsr_result lapic_wrmsr(local_apic& l, std::uint32_t msr, std::uint64_t value,
                               std::uint64_t now_tsc) {
    lapic_wrmsr_result out{};
    if (msr == apic::base_msr) {
        out.gp = !write_apic_base(l, value);
        return out;
    }
    if (msr == apic::tsc_deadline_msr) {
        lapic_parts::timer_write_tsc_deadline(l, value);
        return out;
    }
    const apic::x2apic_register* r = apic::find_x2apic_register(msr);
    if (!r || r->how == apic::access::read_only || !lapic_parts::x2apic_mode(l) ||
        (value & ~r->writable)) {
        out.gp = true;
        return out;
    }
    // "APIC Timer": mode 3 of the timer LVT is reserved.
    if (r->first == x2apic_reg::lvt_timer &&
        ((value & apic::lvt::timer_mode) >> apic::lvt::timer_mode_shift) == 3) {
        out.gp = true;
        return out;
    }
    write_register(l, r->first, value, now_tsc, out);
    return out;
}

bool lapic_accept(local_apic& l, std::uint8_t vector) {
    if (vector < apic::first_legal_vector) {
        lapic_parts::raise_error(l, apic::esr::received_illegal_vector);
        return false;
    }
    if (!lapic_parts::software_enabled(l))
        return false;
    set_bit(l.irr, vector);
    return true;
}

std::uint32_t lapic_ppr(const local_apic& l) {
    const int isrv = highest(l.isr);
    const std::uint32_t isr_class = isrv < 0 ? 0 : static_cast<std::uint32_t>(isrv) & 0xf0;
    return (l.tpr & apic::priority_class) >= isr_class ? l.tpr : isr_class;
}

int lapic_pending_vector(const local_apic& l) {
    const int v = highest(l.irr);
    if (v < 0 || (static_cast<std::uint32_t>(v) & apic::priority_class) <=
                     (lapic_ppr(l) & apic::priority_class))
        return -1;
    return v;
}

int lapic_acknowledge(local_apic& l) {
    const int v = lapic_pending_vector(l);
    if (v < 0)
        return -1;
    clear_bit(l.irr, static_cast<unsigned>(v));
    set_bit(l.isr, static_cast<unsigned>(v));
    return v;
}

bool lapic_pic_input_open(const local_apic& l) {
    if (!(l.apic_base & apic::base::global_enable))
        return true;
    const std::uint32_t lint0 = l.lvt[static_cast<unsigned>(lvt_entry::lint0)];
    const auto mode = (lint0 & apic::lvt::delivery_mode) >> apic::lvt::delivery_mode_shift;
    return lapic_parts::software_enabled(l) && !(lint0 & apic::lvt::masked) &&
           mode == static_cast<std::uint32_t>(apic::delivery::ext_int);
}

} // namespace es
