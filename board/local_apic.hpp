// One vCPU's local APIC, in x2APIC mode (its registers are MSRs 0x800-0x8FF, no MMIO page), with
// IA32_APIC_BASE and IA32_TSC_DEADLINE: the interrupt state (IRR, ISR, TPR, PPR, EOI), the LVT,
// the timer (one-shot, periodic, TSC-deadline) counted from the TSC the caller passes, the ICR
// that turns into an IPI message for the caller to route, and INIT/SIPI start-up. One struct per
// vCPU; the caller owns the other vCPUs and delivers messages between them. Pure: used by the
// module and the CLI's KVM backend, unit-tested on the host. include/sdm/apic.hpp has the facts.
//
// Not modeled, as Linux booted with `noapic` in x2APIC mode never needs them: xAPIC mode's MMIO
// page (after a guest leaves x2APIC mode the x2APIC MSRs are #GP and the caller has no page to
// offer), level-triggered interrupts (TMR stays 0, nothing raises them), LINT1 and NMI sources
// on the board, SMI, the CMCI/thermal/PMI sources (their LVT entries are stored only), APIC base
// relocation, and the arbitration of lowest-priority delivery (the caller gives a
// lowest-priority message to its lowest-numbered destination, as to a fixed one).
#pragma once

#include <array>
#include <cstdint>

#include "sdm/apic.hpp"

namespace es {

namespace lapic {
// The version register: an integrated APIC (0x14, as the MP table's processor entries say) with
// seven LVT entries (CMCI, timer, thermal, PMI, LINT0, LINT1, error).
inline constexpr std::uint8_t version_id = 0x14;
inline constexpr unsigned lvt_entries = 7;
inline constexpr std::uint32_t version_register =
    version_id | ((lvt_entries - 1) << sdm::apic::version::max_lvt_shift);
inline constexpr std::uint64_t no_deadline = ~0ull;
// The shortest period of the periodic timer, in microseconds: a guest may program a count of 1,
// and each expiry costs the host an injection; as KVM's min_timer_period_us. One-shot and
// TSC-deadline expiries are one per guest write and need no floor.
inline constexpr std::uint64_t min_period_us = 200;
// The most the TSC may tick per millisecond for the timer arithmetic to stay in 64 bits
// (10 GHz), as board/pit8254.
inline constexpr std::uint64_t max_tsc_khz = 10'000'000;
} // namespace lapic

// The LVT entries, in the order of lapic::version_register's count.
enum class lvt_entry : std::uint8_t { cmci, timer, thermal, pmi, lint0, lint1, error };

// What the vCPU does: runs, or waits for a start-up IPI after INIT (an AP from power-on, or any
// vCPU an INIT reached: there is no BIOS for a BSP to restart in).
enum class vcpu_run_state : std::uint8_t { running, wait_for_sipi };

struct local_apic {
    std::uint64_t apic_base; // IA32_APIC_BASE as the guest reads it
    std::uint32_t id;        // x2APIC ID: the vCPU index
    std::uint32_t tpr, svr;
    std::uint32_t esr;         // what ESR reads: the errors latched by the last write of ESR
    std::uint32_t esr_pending; // errors seen since
    std::uint64_t icr;
    std::array<std::uint32_t, 8> irr, isr, tmr; // 256 bits each, vector v at [v / 32] bit v % 32
    std::array<std::uint32_t, lapic::lvt_entries> lvt;
    std::uint32_t timer_initial, timer_divide;
    std::uint64_t timer_start;    // TSC the current count started from (one-shot, periodic)
    std::uint8_t timer_shift;     // log2 of the divider the current count runs with
    std::uint64_t timer_deadline; // TSC of the next expiry, or lapic::no_deadline
    std::uint64_t tsc_deadline;   // IA32_TSC_DEADLINE as written (TSC-deadline mode)
    std::uint64_t tsc_khz;        // TSC ticks a millisecond
    std::uint64_t bus_khz;        // the timer's input clock, before the divider
    vcpu_run_state state;
    std::uint8_t sipi_vector; // of the start-up IPI that ended the last wait
};

// Power-on: x2APIC mode (IA32_APIC_BASE = default base | EN | EXTD, and BSP for vCPU 0), as
// firmware that enabled x2APIC leaves it: Linux then keeps x2APIC mode ("x2apic: enabled by
// BIOS") and, booted with `noapic`, never tries to leave it. The BSP runs, an AP waits for its
// SIPI. Registers as at power-up: LVTs masked, SVR 0xFF (software disabled). The timer counts
// `bus_khz` input clocks a millisecond (clamped to `tsc_khz`; 0 stops it); `tsc_khz` up to
// lapic::max_tsc_khz (clamped), 0 stops time.
void lapic_power_on(local_apic& l, std::uint32_t id, std::uint64_t tsc_khz, std::uint64_t bus_khz);
// What PC firmware leaves on the BSP (MP spec "Virtual Wire Mode"): the APIC software enabled,
// LINT0 ExtINT and LINT1 NMI unmasked, so the 8259A's INTR reaches vCPU 0 before Linux sets up
// its APIC.
void lapic_set_virtual_wire(local_apic& l);

// MSRs the model answers: IA32_APIC_BASE, IA32_TSC_DEADLINE and 0x800-0x8FF. Inline: the MSR
// exit handlers ask it first, and a call there would cost every MSR exit a stack frame.
constexpr bool lapic_handles_msr(std::uint32_t msr) {
    namespace apic = sdm::apic;
    return msr == apic::base_msr || msr == apic::tsc_deadline_msr ||
           (msr >= apic::x2apic_msr_first && msr <= apic::x2apic_msr_last);
}

struct lapic_rdmsr_result {
    bool gp; // inject #GP(0) instead
    std::uint64_t value;
};
lapic_rdmsr_result lapic_rdmsr(const local_apic& l, std::uint32_t msr, std::uint64_t now_tsc);

// An IPI the ICR sent, for the caller to deliver to every vCPU lapic_is_destination accepts
// (the sender included, for the shorthands self and all).
struct lapic_ipi {
    sdm::apic::delivery mode; // fixed, lowest_priority, nmi, init (assert) or startup
    sdm::apic::shorthand shorthand;
    bool logical; // destination is a logical ID (cluster and bitmap)
    std::uint32_t destination;
    std::uint8_t vector;     // fixed: the vector; startup: the start page (address >> 12)
    std::uint32_t source_id; // the sender's x2APIC ID
};

struct lapic_wrmsr_result {
    bool gp;       // inject #GP(0) instead; nothing changed
    bool sent_ipi; // an ICR write produced `ipi`
    lapic_ipi ipi;
};
// Writes follow the SDM's x2APIC table: a read-only register, a reserved MSR, a set reserved bit,
// a non-zero EOI or ESR write, or any x2APIC MSR outside x2APIC mode is #GP. An ICR write with
// an illegal vector (fixed, below 16) sends nothing and sets ESR's send-illegal-vector bit; an
// INIT de-assert (level 0) and SMI or reserved delivery modes send nothing.
lapic_wrmsr_result lapic_wrmsr(local_apic& l, std::uint32_t msr, std::uint64_t value,
                               std::uint64_t now_tsc);

// Whether `target` is one of `m`'s destinations ("Determining IPI Destination").
bool lapic_is_destination(const local_apic& target, const lapic_ipi& m);

// What receiving a message asks of the caller.
enum class lapic_event : std::uint8_t {
    none,      // dropped or ignored (a SIPI outside wait-for-SIPI, a fixed vector below 16, ...)
    interrupt, // a vector entered IRR: see lapic_pending_vector
    nmi,       // inject an NMI
    init,      // the APIC was reset and the vCPU waits for a SIPI: reset its registers
    startup,   // the wait ended: start in real mode at CS = sipi_vector << 8, IP = 0
};
lapic_event lapic_receive(local_apic& target, const lapic_ipi& m);

// Accept a fixed interrupt (an IPI, the timer, an error, a device): set IRR. A vector below 16
// is not accepted and sets ESR's received-illegal-vector bit. Dropped while the APIC is disabled
// (globally or in software). True when the vector entered IRR.
bool lapic_accept(local_apic& l, std::uint8_t vector);

// PPR from TPR and the highest in-service vector ("Processor Priority Register").
std::uint32_t lapic_ppr(const local_apic& l);
// The highest vector in IRR whose priority class is above PPR's, or -1: what to inject next.
int lapic_pending_vector(const local_apic& l);
// The CPU takes the interrupt lapic_pending_vector named: it moves from IRR to ISR. Returns it,
// or -1 when there was none (nothing changes).
int lapic_acknowledge(local_apic& l);
// Whether the 8259A's INTR reaches this vCPU: LINT0 unmasked in ExtINT mode on an enabled APIC,
// or the APIC globally disabled (the INTR pin is then the CPU's own). An ExtINT bypasses PPR.
bool lapic_pic_input_open(const local_apic& l);

// The timer (lapic_timer.cpp). TSC of its next expiry, or lapic::no_deadline.
std::uint64_t lapic_next_deadline(const local_apic& l);
// Call at or after the deadline: true when the timer's vector entered IRR (the LVT unmasked).
// One-shot and TSC-deadline expiries disarm (IA32_TSC_DEADLINE reads 0 after); periodic ones
// re-arm at the first period boundary after `now_tsc` (missed periods coalesce). A deadline armed
// after an expiry always lies after `now_tsc`. Before the deadline: false, nothing changes.
bool lapic_expire(local_apic& l, std::uint64_t now_tsc);

} // namespace es
