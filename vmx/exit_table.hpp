// The exit table: for every basic exit reason, which handler takes it and which control makes it
// possible. The dispatcher (exit_dispatch.cpp), the "enabled" flags of the CPUID leaves and of
// `exitscope reasons` all derive from this one list. Pure: unit-tested on the host.
#pragma once

#include <array>
#include <cstdint>

#include "pure/capabilities.hpp"
#include "sdm/exit_reasons.hpp"
#include "sdm/vmx_controls.hpp"

namespace es {

// One handler per concern, each named once here: the enum below, the handlers' declarations
// (exit_handlers.hpp) and the dispatch table (exit_dispatch.cpp) are made from this list.
// Reasons no rule names get `none`, which stops the VM as unexpected.
#define ES_EXIT_HANDLERS(X)                                                                        \
    X(exception_or_nmi)                                                                            \
    X(external_interrupt)                                                                          \
    X(triple_fault)                                                                                \
    X(stop_unsupported) /* defined events we can see but do not emulate (INIT, task switch) */     \
    X(cpuid)                                                                                       \
    X(hlt)                                                                                         \
    X(cache_flush) /* INVD, WBINVD: nothing to do with EPT write-back RAM */                       \
    X(rdpmc)                                                                                       \
    X(vmx_instruction)                                                                             \
    X(cr_access)                                                                                   \
    X(mov_dr)                                                                                      \
    X(io)                                                                                          \
    X(rdmsr)                                                                                       \
    X(wrmsr)                                                                                       \
    X(entry_failure)                                                                               \
    X(monitor_mwait)                                                                               \
    X(pause)                                                                                       \
    X(ept_violation)                                                                               \
    X(ept_misconfig)                                                                               \
    X(preemption_timer)                                                                            \
    X(xsetbv)                                                                                      \
    X(interrupt_window)                                                                            \
    X(invlpg) /* shadow paging only */

enum class handler : std::uint8_t {
    none,
#define ES_HANDLER_ENUM(name) name,
    ES_EXIT_HANDLERS(ES_HANDLER_ENUM)
#undef ES_HANDLER_ENUM
        count
};

// Which control, if any, must be 1 for the processor to produce an exit.
struct produced_by {
    // proc_on_demand: a primary control the run loop sets only while it needs the exit.
    enum class word : std::uint8_t { always, pin, proc, proc2, proc_on_demand };
    word w;
    std::uint32_t bit;
};

struct exit_rule {
    sdm::exit_reason reason;
    handler h;
    produced_by when;
};

namespace detail {
using w = produced_by::word;
inline constexpr produced_by always{w::always, 0};
constexpr produced_by pin(std::uint32_t b) {
    return {w::pin, b};
}
constexpr produced_by proc(std::uint32_t b) {
    return {w::proc, b};
}
constexpr produced_by proc_on_demand(std::uint32_t b) {
    return {w::proc_on_demand, b};
}
constexpr produced_by proc2(std::uint32_t b) {
    return {w::proc2, b};
}
} // namespace detail

// "always": the SDM lists the event as causing a VM exit unconditionally in VMX non-root
// operation ("Instructions That Cause VM Exits Unconditionally", "Other Causes of VM Exits").
inline constexpr exit_rule exit_rules[] = {
    {sdm::exit_reason::exception_or_nmi, handler::exception_or_nmi,
     detail::pin(sdm::pin_ctl::nmi_exiting)},
    {sdm::exit_reason::external_interrupt, handler::external_interrupt,
     detail::pin(sdm::pin_ctl::external_interrupt_exiting)},
    {sdm::exit_reason::triple_fault, handler::triple_fault, detail::always},
    // Only a Linux guest's run asks for it, while the PIC holds an interrupt the guest cannot
    // take yet (platform.cpp).
    {sdm::exit_reason::interrupt_window, handler::interrupt_window,
     detail::proc_on_demand(sdm::proc_ctl::interrupt_window_exiting)},
    {sdm::exit_reason::init_signal, handler::stop_unsupported, detail::always},
    {sdm::exit_reason::task_switch, handler::stop_unsupported, detail::always},
    {sdm::exit_reason::cpuid, handler::cpuid, detail::always},
    {sdm::exit_reason::hlt, handler::hlt, detail::proc(sdm::proc_ctl::hlt_exiting)},
    {sdm::exit_reason::invd, handler::cache_flush, detail::always},
    {sdm::exit_reason::rdpmc, handler::rdpmc, detail::proc(sdm::proc_ctl::rdpmc_exiting)},
    {sdm::exit_reason::vmcall, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmclear, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmlaunch, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmptrld, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmptrst, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmread, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmresume, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmwrite, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmxoff, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::vmxon, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::invlpg, handler::invlpg, detail::proc(sdm::proc_ctl::invlpg_exiting)},
    {sdm::exit_reason::cr_access, handler::cr_access, detail::always},
    {sdm::exit_reason::mov_dr, handler::mov_dr, detail::proc(sdm::proc_ctl::mov_dr_exiting)},
    {sdm::exit_reason::io_instruction, handler::io,
     detail::proc(sdm::proc_ctl::unconditional_io_exiting)},
    {sdm::exit_reason::rdmsr, handler::rdmsr, detail::proc(sdm::proc_ctl::use_msr_bitmaps)},
    {sdm::exit_reason::wrmsr, handler::wrmsr, detail::proc(sdm::proc_ctl::use_msr_bitmaps)},
    {sdm::exit_reason::entry_fail_guest_state, handler::entry_failure, detail::always},
    {sdm::exit_reason::entry_fail_machine_check, handler::entry_failure, detail::always},
    {sdm::exit_reason::mwait, handler::monitor_mwait, detail::proc(sdm::proc_ctl::mwait_exiting)},
    {sdm::exit_reason::monitor, handler::monitor_mwait,
     detail::proc(sdm::proc_ctl::monitor_exiting)},
    {sdm::exit_reason::pause, handler::pause, detail::proc(sdm::proc_ctl::pause_exiting)},
    {sdm::exit_reason::ept_violation, handler::ept_violation,
     detail::proc2(sdm::proc_ctl2::enable_ept)},
    {sdm::exit_reason::ept_misconfig, handler::ept_misconfig,
     detail::proc2(sdm::proc_ctl2::enable_ept)},
    {sdm::exit_reason::invept, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::preemption_timer, handler::preemption_timer,
     detail::pin(sdm::pin_ctl::preemption_timer)},
    {sdm::exit_reason::invvpid, handler::vmx_instruction, detail::always},
    {sdm::exit_reason::wbinvd, handler::cache_flush, detail::proc2(sdm::proc_ctl2::wbinvd_exiting)},
    {sdm::exit_reason::xsetbv, handler::xsetbv, detail::always},
};

struct exit_table {
    std::array<handler, sdm::exit_reason_count> h{};
    std::array<produced_by, sdm::exit_reason_count> when{};
};

constexpr exit_table build_exit_table() {
    exit_table t{};
    for (const auto& r : exit_rules) {
        t.h[sdm::to_number(r.reason)] = r.h;
        t.when[sdm::to_number(r.reason)] = r.when;
    }
    return t;
}

inline constexpr exit_table exit_handlers_table = build_exit_table();

constexpr bool control_allows(produced_by p, const vm_controls& c) {
    switch (p.w) {
    case produced_by::word::always:
        return true;
    case produced_by::word::pin:
        return (c.pin & p.bit) != 0;
    case produced_by::word::proc:
        return (c.proc & p.bit) != 0;
    case produced_by::word::proc2:
        return (c.proc2 & p.bit) != 0;
    case produced_by::word::proc_on_demand:
        return (c.proc_on_demand & p.bit) != 0;
    }
    return false;
}

// "Enabled" in the CPUID contract: this configuration can produce the exit and the table has a
// handler for it.
constexpr bool exit_enabled(std::uint32_t reason, const vm_controls& c) {
    if (!sdm::is_defined_exit_reason(reason))
        return false;
    return exit_handlers_table.h[reason] != handler::none &&
           control_allows(exit_handlers_table.when[reason], c);
}

// Every rule names a defined reason, at most once.
constexpr bool rules_are_consistent() {
    std::array<int, sdm::exit_reason_count> seen{};
    for (const auto& r : exit_rules) {
        const auto n = sdm::to_number(r.reason);
        if (!sdm::is_defined_exit_reason(n) || r.h == handler::none || seen[n]++)
            return false;
    }
    return true;
}
static_assert(rules_are_consistent(), "each exit rule names a defined reason once");

} // namespace es
