// Interprocessor interrupts (local_apic.hpp): the ICR's message, its destinations, and what
// receiving one does. SDM Volume 3, "Issuing Interprocessor Interrupts", "Interrupt Command
// Register (ICR) Operation in x2APIC Mode", "Determining IPI Destination", "Logical Destination
// Mode in x2APIC Mode" and "MP Initialization Protocol Algorithm" (INIT, then start-up IPIs),
// 325462-080US.
#include "lapic_parts.hpp"

namespace es {

namespace apic = sdm::apic;

bool lapic_parts::ipi_from_icr(local_apic& sender, std::uint64_t icr, lapic_ipi& out) {
    const auto mode = static_cast<apic::delivery>((icr & apic::icr::delivery_mode) >>
                                                  apic::icr::delivery_mode_shift);
    const auto vector = static_cast<std::uint8_t>(icr & apic::icr::vector);
    switch (mode) {
    case apic::delivery::fixed:
    case apic::delivery::lowest_priority:
        if (vector < apic::first_legal_vector) {
            raise_error(sender, apic::esr::send_illegal_vector);
            return false;
        }
        break;
    case apic::delivery::init:
        // Level 0 is the INIT level de-assert, which modern processors do not act on (Linux
        // still sends it between INIT and the start-up IPIs).
        if (!(icr & apic::icr::level_assert))
            return false;
        break;
    case apic::delivery::nmi:
    case apic::delivery::startup:
        break;
    default: // SMI, and the reserved modes 3 and 7
        return false;
    }
    out.mode = mode;
    out.shorthand =
        static_cast<apic::shorthand>((icr & apic::icr::shorthand) >> apic::icr::shorthand_shift);
    out.logical = icr & apic::icr::logical;
    out.destination = static_cast<std::uint32_t>(icr >> apic::icr::destination_shift);
    out.vector = vector;
    out.source_id = sender.id;
    return true;
}

bool lapic_is_destination(const local_apic& target, const lapic_ipi& m) {
    if (!(target.apic_base & apic::base::global_enable))
        return false;
    switch (m.shorthand) {
    case apic::shorthand::self:
        return target.id == m.source_id;
    case apic::shorthand::all:
        return true;
    case apic::shorthand::all_but_self:
        return target.id != m.source_id;
    default:
        break;
    }
    if (m.destination == apic::broadcast)
        return true;
    if (!m.logical)
        return m.destination == target.id;
    // A logical destination: the target's cluster, and its bit in the cluster's bitmap.
    const std::uint32_t ldr = apic::x2apic_logical_id(target.id);
    return (m.destination >> 16) == (ldr >> 16) && (m.destination & ldr & 0xffff);
}

lapic_event lapic_receive(local_apic& target, const lapic_ipi& m) {
    switch (m.mode) {
    case apic::delivery::fixed:
    case apic::delivery::lowest_priority:
        return lapic_accept(target, m.vector) ? lapic_event::interrupt : lapic_event::none;
    case apic::delivery::nmi: // a software-disabled APIC still takes NMI, INIT and start-up
        return lapic_event::nmi;
    case apic::delivery::init:
        // The APIC resets as at power-up but for its ID and mode (x2APIC mode survives INIT),
        // and the vCPU waits for a start-up IPI.
        lapic_parts::reset_registers(target);
        target.state = vcpu_run_state::wait_for_sipi;
        return lapic_event::init;
    case apic::delivery::startup:
        // A start-up IPI outside the wait (the second of Linux's two, or a stray one) is
        // ignored.
        if (target.state != vcpu_run_state::wait_for_sipi)
            return lapic_event::none;
        target.state = vcpu_run_state::running;
        target.sipi_vector = m.vector;
        return lapic_event::startup;
    default:
        return lapic_event::none;
    }
}

} // namespace es
