// The local APIC model's files call one another through these (local_apic.hpp is the interface
// its users see): local_apic.cpp holds the registers and interrupt state, lapic_timer.cpp the
// timer, lapic_ipi.cpp the ICR, destinations and INIT/SIPI.
#pragma once

#include <cstdint>

#include "local_apic.hpp"

namespace es::lapic_parts {

// Registers as at power-up or INIT: all but the ID and IA32_APIC_BASE.
void reset_registers(local_apic& l);
// ESR: an error the APIC saw, reported through the error LVT entry when unmasked.
void raise_error(local_apic& l, std::uint32_t esr_bit);
bool software_enabled(const local_apic& l);
bool x2apic_mode(const local_apic& l);

// Timer register accesses (lapic_timer.cpp).
void timer_write_lvt(local_apic& l, std::uint32_t value, std::uint64_t now);
void timer_write_initial(local_apic& l, std::uint32_t value, std::uint64_t now);
void timer_write_divide(local_apic& l, std::uint32_t value, std::uint64_t now);
void timer_write_tsc_deadline(local_apic& l, std::uint64_t value);
std::uint64_t timer_read_tsc_deadline(const local_apic& l);
std::uint32_t timer_current_count(const local_apic& l, std::uint64_t now);

// An ICR write (lapic_ipi.cpp): true with `out` filled when it sends a message.
bool ipi_from_icr(local_apic& sender, std::uint64_t icr, lapic_ipi& out);

} // namespace es::lapic_parts
