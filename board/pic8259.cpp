// The 8259A pair (pic8259.hpp). Section names are those of the Intel 8259A data sheet.
#include "pic8259.hpp"

namespace es {

namespace {

constexpr unsigned no_irq = 8;
constexpr std::uint8_t spurious_ir = 7;

// OCW2 commands, bits 7-5 (R, SL, EOI).
enum class ocw2 : std::uint8_t {
    clear_rotate_aeoi = 0,
    non_specific_eoi = 1,
    nop = 2,
    specific_eoi = 3,
    set_rotate_aeoi = 4,
    rotate_non_specific_eoi = 5,
    set_priority = 6,
    rotate_specific_eoi = 7,
};

pic8259& master(pic_pair& p) {
    return p.chip[0];
}
pic8259& slave(pic_pair& p) {
    return p.chip[1];
}

std::uint8_t bit(unsigned ir) {
    return static_cast<std::uint8_t>(1u << (ir & 7));
}

// Priority 0 is the highest; rotation moves which IR holds it ("Interrupt Priority Modes").
unsigned best_priority(const pic8259& c, std::uint8_t mask) {
    for (unsigned prio = 0; prio < 8; ++prio)
        if (mask & bit(prio + c.highest))
            return prio;
    return no_irq;
}

unsigned ir_of_priority(const pic8259& c, unsigned prio) {
    return (prio + c.highest) & 7;
}

// The IR this chip would raise INT for, or no_irq. `cascade` is the slave's INT output seen at
// the master's IR2 (0 for the slave): a request that is not latched in IRR.
unsigned pending_ir(const pic8259& c, std::uint8_t cascade, bool is_master) {
    const unsigned request =
        best_priority(c, static_cast<std::uint8_t>((c.irr | cascade) & ~c.imr));
    if (request == no_irq)
        return no_irq;
    std::uint8_t in_service = c.isr;
    // Special mask mode: a masked level no longer holds back the levels below it.
    if (c.special_mask)
        in_service &= static_cast<std::uint8_t>(~c.imr);
    // Special fully nested mode (master only): the slave may interrupt again while IR2 is in
    // service, for a higher priority request of its own. Linux uses plain fully nested mode.
    if (is_master && (c.icw4 & pic::icw4_sfnm))
        in_service &= static_cast<std::uint8_t>(~bit(pic::cascade_irq));
    return request < best_priority(c, in_service) ? ir_of_priority(c, request) : no_irq;
}

std::uint8_t cascade_request(const pic_pair& p) {
    return pending_ir(p.chip[1], 0, false) != no_irq ? bit(pic::cascade_irq) : 0;
}

std::uint8_t vector(const pic8259& c, unsigned ir) {
    // ICW2 bits 7-3 are the vector's; the 8259A fills in the IR number (x86 mode, "ICW2").
    return static_cast<std::uint8_t>((c.icw2 & 0xf8) | (ir & 7));
}

// The first INTA pulse: the request moves to in-service, or is retired at once in auto-EOI mode
// ("Automatic End of Interrupt (AEOI) Mode"), which Linux's init_8259A(1) selects.
void intack(pic8259& c, unsigned ir) {
    c.irr &= static_cast<std::uint8_t>(~bit(ir));
    if (!(c.icw4 & pic::icw4_aeoi))
        c.isr |= bit(ir);
    else if (c.rotate_on_aeoi)
        c.highest = static_cast<std::uint8_t>((ir + 1) & 7);
}

void write_icw1(pic8259& c, std::uint8_t value) {
    // "Initialization Command Words": the edge sense circuit is reset (so `levels` stays: a line
    // already high must go low and high again), IMR is cleared, IR7 gets the lowest priority,
    // special mask mode is cleared and IRR is selected for status reads. IRR and ISR are cleared
    // too, as Linux reinitializes the chips on resume and expects nothing left over.
    const std::uint8_t levels = c.levels, elcr = c.elcr;
    c = pic8259{};
    c.levels = levels;
    c.elcr = elcr;
    c.icw1 = value;
    c.init_step = 2;
}

void write_ocw2(pic8259& c, std::uint8_t value) {
    const unsigned level = value & 7;
    switch (static_cast<ocw2>(value >> 5)) {
    case ocw2::clear_rotate_aeoi:
        c.rotate_on_aeoi = false;
        break;
    case ocw2::set_rotate_aeoi:
        c.rotate_on_aeoi = true;
        break;
    case ocw2::non_specific_eoi:
    case ocw2::rotate_non_specific_eoi: {
        // Retires the highest priority level in service: in fully nested mode, the last one
        // acknowledged. Linux's i8259 uses specific EOIs but other code sends 0x20.
        const unsigned prio = best_priority(c, c.isr);
        if (prio == no_irq)
            break;
        const unsigned ir = ir_of_priority(c, prio);
        c.isr &= static_cast<std::uint8_t>(~bit(ir));
        if (static_cast<ocw2>(value >> 5) == ocw2::rotate_non_specific_eoi)
            c.highest = static_cast<std::uint8_t>((ir + 1) & 7);
        break;
    }
    case ocw2::specific_eoi:
        c.isr &= static_cast<std::uint8_t>(~bit(level));
        break;
    case ocw2::rotate_specific_eoi:
        c.isr &= static_cast<std::uint8_t>(~bit(level));
        c.highest = static_cast<std::uint8_t>((level + 1) & 7);
        break;
    case ocw2::set_priority:
        c.highest = static_cast<std::uint8_t>((level + 1) & 7);
        break;
    case ocw2::nop:
        break;
    }
}

void write_command(pic8259& c, std::uint8_t value) {
    if (value & pic::icw1_select) {
        write_icw1(c, value);
    } else if (value & pic::ocw3_select) {
        if (value & pic::ocw3_poll)
            c.poll = true;
        if (value & pic::ocw3_read)
            c.read_isr = value & pic::ocw3_ris;
        if (value & pic::ocw3_special_mask)
            c.special_mask = value & pic::ocw3_smm;
    } else {
        write_ocw2(c, value);
    }
}

void write_data(pic8259& c, std::uint8_t value) {
    const bool single = c.icw1 & pic::icw1_single, icw4 = c.icw1 & pic::icw1_ic4;
    switch (c.init_step) {
    case 2:
        c.icw2 = value;
        c.init_step = single ? (icw4 ? 4 : 0) : 3;
        break;
    case 3: // ICW3: the cascade wiring of a PC is fixed (slave on IR2), nothing to keep
        c.init_step = icw4 ? 4 : 0;
        break;
    case 4:
        c.icw4 = value;
        c.init_step = 0;
        break;
    default: // OCW1
        c.imr = value;
        break;
    }
}

// Poll command ("The Poll Command"): the read acknowledges like INTA and returns bit 7 set with
// the level, or 0. The slave's requests appear as level 2, as on the real master.
std::uint8_t poll(pic8259& c, std::uint8_t cascade, bool is_master) {
    c.poll = false;
    const unsigned ir = pending_ir(c, cascade, is_master);
    if (ir == no_irq)
        return 0;
    intack(c, ir);
    return static_cast<std::uint8_t>(0x80 | ir);
}

} // namespace

bool pic_handles(std::uint16_t port) {
    switch (port) {
    case pic::master_command:
    case pic::master_data:
    case pic::slave_command:
    case pic::slave_data:
    case pic::elcr_master:
    case pic::elcr_slave:
        return true;
    default:
        return false;
    }
}

std::uint8_t pic_read(pic_pair& p, std::uint16_t port) {
    switch (port) {
    case pic::master_command: {
        // The master's IR2 is the slave's INT output, not a latched request of its own.
        const std::uint8_t cascade = cascade_request(p);
        if (master(p).poll)
            return poll(master(p), cascade, true);
        return master(p).read_isr ? master(p).isr : (master(p).irr | cascade);
    }
    case pic::slave_command:
        if (slave(p).poll)
            return poll(slave(p), 0, false);
        return slave(p).read_isr ? slave(p).isr : slave(p).irr;
    case pic::master_data:
        return master(p).imr;
    case pic::slave_data:
        return slave(p).imr;
    case pic::elcr_master:
        return master(p).elcr;
    case pic::elcr_slave:
        return slave(p).elcr;
    default:
        return 0xff;
    }
}

void pic_write(pic_pair& p, std::uint16_t port, std::uint8_t value) {
    switch (port) {
    case pic::master_command:
        write_command(master(p), value);
        break;
    case pic::slave_command:
        write_command(slave(p), value);
        break;
    case pic::master_data:
        write_data(master(p), value);
        break;
    case pic::slave_data:
        write_data(slave(p), value);
        break;
    case pic::elcr_master:
        master(p).elcr = value;
        break;
    case pic::elcr_slave:
        slave(p).elcr = value;
        break;
    default:
        break;
    }
}

void pic_set_irq(pic_pair& p, unsigned irq, bool level) {
    if (irq >= pic::irq_count)
        return;
    if (irq == pic::cascade_irq)
        irq = pic::irq2_redirect;
    pic8259& c = p.chip[irq >> 3];
    const std::uint8_t b = bit(irq);
    // Edge triggered ("Edge and Level Triggered Modes"): only the rising edge latches a request.
    // A falling line does not withdraw it, as KVM's and QEMU's models also do; Linux's handlers do
    // not depend on the difference.
    if (level && !(c.levels & b))
        c.irr |= b;
    c.levels = level ? (c.levels | b) : (c.levels & static_cast<std::uint8_t>(~b));
}

void pic_pulse_irq(pic_pair& p, unsigned irq) {
    pic_set_irq(p, irq, true);
    pic_set_irq(p, irq, false);
}

bool pic_has_interrupt(const pic_pair& p) {
    return pending_ir(p.chip[0], cascade_request(p), true) != no_irq;
}

std::uint8_t pic_acknowledge(pic_pair& p) {
    const unsigned ir = pending_ir(master(p), cascade_request(p), true);
    // The request went away (masked or retired) between INTR and INTA: the chip answers with its
    // IR7 vector and sets no ISR bit ("Interrupt Sequence"); Linux counts it as spurious.
    if (ir == no_irq)
        return vector(master(p), spurious_ir);
    intack(master(p), ir);
    if (ir != pic::cascade_irq)
        return vector(master(p), ir);
    // IR2: the master releases the slave to put its vector on the bus ("Cascading").
    const unsigned slave_ir = pending_ir(slave(p), 0, false);
    if (slave_ir == no_irq)
        return vector(slave(p), spurious_ir);
    intack(slave(p), slave_ir);
    return vector(slave(p), slave_ir);
}

} // namespace es
