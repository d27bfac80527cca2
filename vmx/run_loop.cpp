// The run loop: enter the guest, take each exit through the dispatcher, count and time it, and
// return to user space only when the guest stops, a signal arrives, or the console fills.
//
// A "guest section" runs with preemption off, the guest's FPU state loaded and the VMCS current
// on this CPU; host interrupts are taken inside it (external-interrupt exits re-enable them
// briefly). Rescheduling ends the section, so the next one may be on another CPU: every section
// starts with VMPTRLD and VMLAUNCH and ends with VMCLEAR, which makes migration trivial.
#include "arg_checks.hpp"
#include "core.hpp"
#include "cpuid_answer.hpp"
#include "exit_dispatch.hpp"
#include "exitscope/abi.h"
#include "exitscope/errno.hpp"
#include "vm.hpp"
#include "vmcs_setup.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

using f = sdm::vmcs_field;

constexpr std::uint32_t no_pending = ~0u;

// module/vmenter.S addresses es_guest_regs by these offsets.
static_assert(__builtin_offsetof(es_guest_regs, rax) == ES_REGS_RAX);
static_assert(__builtin_offsetof(es_guest_regs, rdi) == ES_REGS_RDI);
static_assert(__builtin_offsetof(es_guest_regs, r8) == ES_REGS_R8);
static_assert(__builtin_offsetof(es_guest_regs, r15) == ES_REGS_R15);
static_assert(__builtin_offsetof(es_guest_regs, cr2) == ES_REGS_CR2);

// How a guest section ended. vmx_gone: the reboot notifier turned VMX off on this CPU while
// interrupts were briefly enabled; no VMX instruction (not even VMCLEAR) may follow.
enum class section_end { stop, reschedule, signal, vmx_gone };

// Why the exit handler left the entry stub for the section loop.
enum class leave_reason : std::uint8_t { host_work, stop, entry_failure, exit_limit };

// The run's totals for es_run. The exit budget (es_run.max_exits, a bound for tests and fuzzing)
// counts down: one instruction counts an exit and tests the bound.
struct run_totals {
    std::uint64_t exits_left;
    std::uint64_t cycles;
};

// What the exit path knows of an exit at compile time. The table's path reads the guest RIP
// before the handler when the recorder is on (a handler may move it). CPUID's path
// (on_direct_exit) reads it after the handler, which leaves it alone, so nothing has to live
// across the handler; and it stores no qualification: the SDM clears it for CPUID ("Basic
// VM-Exit Information"), and collect_trace reports it as 0.
struct table_exit {
    static constexpr bool rip_read_early = true;
    static constexpr bool has_qualification = true;
};
struct direct_exit {
    static constexpr bool rip_read_early = false;
    static constexpr bool has_qualification = false;
};

// The instrumentation level is a template parameter: it never changes while the module is
// loaded, and each level's exit path then carries no test for the others.
template <instrument_level Level> struct section {
    es_vm& vm;
    es_run& out;
    std::uint32_t cpu;
    counter_row& row;       // this VM's row for this CPU: the only counters the exit path writes
    cpu_recorder& recorder; // this CPU's flight recorder
    run_totals totals;      // the section's copy, handed back when it ends

    // Filled in when on_exit leaves the entry stub.
    leave_reason leave = leave_reason::stop;
    std::uint32_t leave_raw = 0;
    stop_report stop{};
    exit_context ctx{vm, 0, cpu, stop};
    // A leaving exit's handling time runs on (host work, the return to user space) until the
    // section loop charges it.
    std::uint32_t pending = no_pending;
    std::uint64_t pending_since = 0;
    es_trace_entry* pending_trace = nullptr;
    // The VM id in the upper half of a trace entry's reason/vm pair, stored in one go.
    std::uint64_t vm_tag = std::uint64_t{vm.id} << 32;
    // CPUID's reason/vm pair, ready for on_direct_exit.
    std::uint64_t direct_tag = vm_tag | direct_reason;

    // Flight-recorder entry for an exit; the caller adds the qualification if the reason has one.
    // t.cpu is left to collect_trace (the ring is the CPU's).
    [[gnu::always_inline]] es_trace_entry* trace(std::uint64_t reason_and_vm,
                                                 std::uint64_t exit_tsc, std::uint64_t rip,
                                                 std::uint64_t cycles) {
        auto& ring = recorder.last;
        es_trace_entry& t = ring.next();
        t.tsc = exit_tsc;
        t.cycles = cycles;
        t.rip = rip;
        __builtin_memcpy(&t.reason, &reason_and_vm, sizeof(reason_and_vm));
        ring.commit();
        return &t;
    }

    [[gnu::always_inline]] void outlier(const es_trace_entry& t, std::uint64_t cycles) {
        if (cycles > core.outlier_cycles) {
            recorder.outliers.next() = t;
            recorder.outliers.commit();
        }
    }

    // The handling of an exit counted in `cell` took `cycles`.
    [[gnu::always_inline]] void charge(reason_cell& cell, std::uint64_t cycles) {
        if constexpr (Level != instrument_level::off)
            record_cycles(cell, cycles, Level);
        totals.cycles += cycles;
    }

    // The pending exit's handling ended at `now`.
    void charge_pending(std::uint64_t now) {
        if (pending == no_pending)
            return;
        const std::uint64_t cycles = now - pending_since;
        charge(row.cell[pending], cycles);
        if (Level >= instrument_level::recorder && pending_trace) {
            pending_trace->cycles = cycles;
            outlier(*pending_trace, cycles);
        }
        pending = no_pending;
        pending_trace = nullptr;
    }

    // Leave the entry stub; the exit's handling time keeps running. `reason` is no_pending for
    // a reason past the table.
    int leave_with(leave_reason why, std::uint32_t raw, std::uint32_t reason,
                   std::uint64_t exit_tsc, std::uint64_t rip) {
        totals.exits_left -= 1;
        leave = why;
        leave_raw = raw;
        pending = reason;
        pending_since = exit_tsc;
        if constexpr (Level >= instrument_level::recorder) {
            pending_trace = trace(vm_tag | raw, exit_tsc, rip, 0);
            pending_trace->qualification = hw::vmread(f::exit_qualification);
        }
        return 0;
    }

    // Act on what the handler of basic reason `reason` (counted in `cell`) returned. `tag` is
    // the exit's reason/vm pair for the recorder; `rip` is the guest RIP if
    // Exit::rip_read_early and the recorder is on.
    template <typename Exit>
    [[gnu::always_inline]] int finish(exit_action action, std::uint32_t raw, std::uint32_t reason,
                                      reason_cell& cell, std::uint64_t tag, std::uint64_t exit_tsc,
                                      std::uint64_t rip) {
        if constexpr (!Exit::rip_read_early)
            rip = hw::vmread(f::guest_rip);
        switch (action) {
        case exit_action::skip:
            if constexpr (Level < instrument_level::recorder && Exit::rip_read_early)
                rip = hw::vmread(f::guest_rip);
            hw::vmwrite_current(f::guest_rip, rip + hw::vmread(f::exit_instruction_length));
            // An emulated instruction ends STI/MOV-SS blocking, as executing it would have.
            hw::vmwrite_current(f::guest_interruptibility, 0);
            break;
        case exit_action::resume:
            break;
        case exit_action::check_host:
            return leave_with(leave_reason::host_work, raw, reason, exit_tsc, rip);
        case exit_action::stop:
            return leave_with(leave_reason::stop, raw, reason, exit_tsc, rip);
        }
        // Handled: the handling time ends here, and the guest is re-entered at once unless this
        // was the last exit of the budget.
        const std::uint64_t cycles = hw::rdtsc() - exit_tsc;
        charge(cell, cycles);
        if constexpr (Level >= instrument_level::recorder) {
            es_trace_entry* t = trace(tag, exit_tsc, rip, cycles);
            if constexpr (Exit::has_qualification)
                t->qualification = hw::vmread(f::exit_qualification);
            outlier(*t, cycles);
        }
        if (--totals.exits_left != 0) [[likely]]
            return 1;
        leave = leave_reason::exit_limit;
        return 0;
    }

    // A raw exit-reason field with more than a basic reason in it: a failed entry (bit 31), or
    // a reason past the table (a newer CPU's, or a corrupt field), which is neither counted nor
    // handled.
    int unusual_exit(std::uint32_t raw, std::uint64_t exit_tsc, std::uint64_t rip) {
        const std::uint32_t reason = raw & sdm::exit_reason_basic_mask;
        if (reason >= nr_reasons) {
            stop = {ES_STOP_UNHANDLED, 0, 0};
            return leave_with(leave_reason::stop, raw, no_pending, exit_tsc, rip);
        }
        if constexpr (Level != instrument_level::off)
            record_exit(row, reason);
        if (raw & sdm::exit_reason_entry_failure_bit)
            return leave_with(leave_reason::entry_failure, raw, reason, exit_tsc, rip);
        // Other flag bits (none of the features that set them is in use) do not change what
        // the basic reason asks for.
        ctx.reason = reason;
        return finish<table_exit>(dispatch_exit(ctx), raw, reason, row.cell[reason], vm_tag | raw,
                                  exit_tsc, rip);
    }

    int on_exit(std::uint64_t exit_tsc);
    int on_direct_exit(std::uint64_t exit_tsc);
    int on_table_exit(std::uint64_t exit_tsc, std::uint32_t raw);
    void report_entry_failure(std::uint32_t raw_reason) {
        out.stop = ES_STOP_ENTRY_FAILED;
        out.exit_reason = raw_reason;
        out.vm_instruction_error = static_cast<std::uint32_t>(hw::vmread(f::vm_instruction_error));
        out.qualification = hw::vmread(f::exit_qualification);
        out.rip = hw::vmread(f::guest_rip);
    }

    section_end run_exits(bool& launched);
};

static_assert(__builtin_offsetof(es_trace_entry, vm) ==
                  __builtin_offsetof(es_trace_entry, reason) + 4,
              "a trace entry's reason and VM id are stored as one 64-bit word");

// The exit path, called by the entry stub after every VM exit with the guest's registers saved
// and interrupts off. Each returns 1 to re-enter the guest at once, 0 to leave for the section
// loop. CPUID, the exit every benchmark and every exit-counter query takes, has a path of its own
// with the handler inline (see direct_reason): separate functions keep the registers each needs
// (and so the prologue it saves) to a minimum.
template <instrument_level Level>
[[gnu::no_instrument_function]] int section<Level>::on_exit(std::uint64_t exit_tsc) {
    const auto raw = static_cast<std::uint32_t>(hw::vmread(f::exit_reason));
    if (raw == direct_reason)
        return on_direct_exit(exit_tsc);
    return on_table_exit(exit_tsc, raw);
}

template <instrument_level Level>
[[gnu::no_instrument_function, gnu::noinline]] int
section<Level>::on_direct_exit(std::uint64_t exit_tsc) {
    // Counted before handling: a CPUID exit-leaf query sees itself (CONTRACT.md, section 1).
    if constexpr (Level != instrument_level::off)
        record_exit(row, direct_reason);
    const exit_action action = cpuid_exit::handle(ctx);
    // Read the section's fields again rather than keep them in callee-saved registers across
    // the handler: a load costs less than the push and pop.
    asm volatile("" ::: "memory");
    return finish<direct_exit>(action, direct_reason, direct_reason, row.cell[direct_reason],
                               direct_tag, exit_tsc, 0);
}

template <instrument_level Level>
[[gnu::no_instrument_function, gnu::noinline]] int
section<Level>::on_table_exit(std::uint64_t exit_tsc, std::uint32_t raw) {
    std::uint64_t rip = 0;
    if constexpr (Level >= instrument_level::recorder)
        rip = hw::vmread(f::guest_rip);
    // A plain basic reason within the table: one comparison for the common case.
    if (raw >= nr_reasons) [[unlikely]]
        return unusual_exit(raw, exit_tsc, rip);
    if constexpr (Level != instrument_level::off)
        record_exit(row, raw);
    ctx.reason = raw;
    return finish<table_exit>(dispatch_exit(ctx), raw, raw, row.cell[raw], vm_tag | raw, exit_tsc,
                              rip);
}

// The entry stub's callback: no ftrace hook on the exit path (as KVM's noinstr entry code).
template <instrument_level Level>
[[gnu::no_instrument_function]] int on_exit_entry(void* s, std::uint64_t exit_tsc) {
    return static_cast<section<Level>*>(s)->on_exit(exit_tsc);
}

// Host work pending? Interrupts are enabled for the check so the host takes what caused the exit.
section_end host_check() {
    es_shim_irq_enable();
    const int work = es_shim_pending_work();
    es_shim_irq_disable();
    if (work < 0)
        return section_end::signal;
    return work > 0 ? section_end::reschedule : section_end::stop;
}

template <instrument_level Level> section_end section<Level>::run_exits(bool& launched) {
    for (;;) {
        if (totals.exits_left == 0) {
            out.stop = ES_STOP_EXIT_LIMIT;
            out.rip = hw::vmread(f::guest_rip);
            return section_end::stop;
        }
        arm_preemption_timer();
        if (es_vmx_enter(&vm.regs, launched, &on_exit_entry<Level>, this) != 0) {
            report_entry_failure(0);
            return section_end::stop;
        }
        launched = true;
        switch (leave) {
        case leave_reason::exit_limit:
            continue; // stops at the top
        case leave_reason::entry_failure:
            report_entry_failure(leave_raw);
            return section_end::stop;
        case leave_reason::host_work: {
            const section_end e = host_check();
            if (es_shim_vmx_going_down())
                return section_end::vmx_gone;
            if (e == section_end::stop) {
                charge_pending(hw::rdtsc());
                continue;
            }
            out.exit_reason = leave_raw;
            out.rip = hw::vmread(f::guest_rip);
            return e;
        }
        case leave_reason::stop:
            if (stop.stop == ES_STOP_HALTED || stop.stop == ES_STOP_EXIT_REQUEST ||
                stop.stop == ES_STOP_CONSOLE_FULL)
                hw::vmwrite(f::guest_rip,
                            hw::vmread(f::guest_rip) + hw::vmread(f::exit_instruction_length));
            out.stop = stop.stop;
            out.exit_reason = leave_raw;
            out.exit_code = stop.exit_code;
            out.gpa = stop.gpa;
            out.qualification = hw::vmread(f::exit_qualification);
            out.rip = hw::vmread(f::guest_rip);
            return section_end::stop;
        }
    }
}

// The exits of one guest section; interrupts are off (the host checks for work between exits).
template <instrument_level Level>
section_end run_section(es_vm& vm, es_run& out, std::uint32_t cpu, run_totals& totals) {
    section<Level> s{vm, out, cpu, vm.rows[cpu], core.recorders[cpu], totals};
    bool launched = false;
    const section_end end = s.run_exits(launched);
    s.charge_pending(hw::rdtsc());
    totals = s.totals;
    return end;
}

// Start of a section: make the VMCS current here and bring it up to date.
bool load_vmcs(es_vm& vm) {
    if (!hw::vmptrld(vm.vmcs.pa))
        return false;
    // Drop any translations a previous VM with the same EPT root or VPID left on this CPU.
    if (core.caps.invept_single)
        hw::invept(hw::invept_single_context, vm.eptp);
    else if (core.caps.invept_all)
        hw::invept(hw::invept_all_context, 0);
    if (vm.vpid && core.caps.invvpid_single)
        hw::invvpid(hw::invvpid_single_context, vm.vpid);
    else if (vm.vpid && core.caps.invvpid_all)
        hw::invvpid(hw::invvpid_all_context, 0);
    if (!vm.vmcs_ready) {
        if (!write_controls_and_host_constants(vm))
            return false;
        vm.vmcs_ready = true;
    }
    if (vm.guest_dirty) {
        if (!write_guest_start_state(vm))
            return false;
        vm.guest_dirty = false;
    }
    return write_host_per_section(vm);
}

} // namespace

} // namespace es

using namespace es;

extern "C" int es_core_vm_run(es_vm* vm, es_run* out) {
    if (int e = check_run(*out))
        return e;
    out->stop = 0;
    out->console_len = 0;
    out->exit_code = out->qualification = out->gpa = out->rip = 0;
    out->vm_instruction_error = 0;
    out->vm_id = vm->id;
    // No budget: 2^64 - 1 exits, more than any run makes.
    const std::uint64_t budget = out->max_exits ? out->max_exits : ~0ull;
    run_totals totals{budget, 0};
    int result = 0;
    vm->console_len = 0;
    vm->console_limit = out->console_cap < console_capacity ? out->console_cap : console_capacity;

    for (;;) {
        es_shim_begin_guest_section(&vm->host);
        const auto cpu = static_cast<std::uint32_t>(es_shim_this_cpu());
        // Every VMX instruction of the section runs with interrupts off, after this check: the
        // reboot notifier's IPI can only arrive while they are on (between exits), and the run
        // loop checks again right after.
        es_shim_irq_disable();
        section_end end = section_end::vmx_gone;
        if (es_shim_vmx_going_down()) {
            // VMX is gone for a reboot: nothing to do.
        } else if (!load_vmcs(*vm)) {
            out->stop = ES_STOP_ENTRY_FAILED; // VMPTRLD or a VMWRITE failed: our bug, reported
            end = section_end::stop;
        } else {
            switch (core.instrument) {
            case instrument_level::off:
                end = run_section<instrument_level::off>(*vm, *out, cpu, totals);
                break;
            case instrument_level::counters:
                end = run_section<instrument_level::counters>(*vm, *out, cpu, totals);
                break;
            case instrument_level::histograms:
                end = run_section<instrument_level::histograms>(*vm, *out, cpu, totals);
                break;
            default:
                end = run_section<instrument_level::recorder>(*vm, *out, cpu, totals);
                break;
            }
        }
        if (end != section_end::vmx_gone)
            hw::vmclear(vm->vmcs.pa);
        es_shim_irq_enable();
        out->cpu = cpu;
        es_shim_end_guest_section(&vm->host);
        if (end == section_end::vmx_gone) {
            result = -err::shutdown;
            break;
        }
        if (end == section_end::reschedule) {
            es_shim_reschedule();
            continue;
        }
        if (end == section_end::signal)
            result = -err::intr;
        break;
    }
    out->exits = budget - totals.exits_left;
    out->cycles = totals.cycles;
    // Console bytes go to user space even when the run was interrupted.
    if (vm->console_len && es_shim_copy_to_user(out->console, vm->console, vm->console_len))
        return -err::fault;
    out->console_len = vm->console_len;
    return result;
}
