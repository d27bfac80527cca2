// The run loop: enter the guest, take each exit through the dispatcher, count and time it, and
// return to user space only when the guest stops, a signal arrives, or the console fills.
//
// A "guest section" runs with preemption off, the guest's FPU state loaded and the VMCS current
// on this CPU; host interrupts are taken inside it (external-interrupt exits re-enable them
// briefly). Rescheduling ends the section, so the next one may be on another CPU: every section
// starts with VMPTRLD and VMLAUNCH and ends with VMCLEAR, which makes migration trivial.
#include "arg_checks.hpp"
#include "core.hpp"
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
static_assert(__builtin_offsetof(es_guest_regs, entry_tsc) == ES_REGS_ENTRY_TSC);
static_assert(__builtin_offsetof(es_guest_regs, exit_tsc) == ES_REGS_EXIT_TSC);

// How a guest section ended. vmx_gone: the reboot notifier turned VMX off on this CPU while
// interrupts were briefly enabled; no VMX instruction (not even VMCLEAR) may follow.
enum class section_end { stop, reschedule, signal, vmx_gone };

struct run_totals {
    std::uint64_t exits;
    std::uint64_t cycles;
};

// The instrumentation level is a template parameter: it never changes while the module is
// loaded, and each level's exit path then carries no test for the others.
template <instrument_level Level> struct section {
    es_vm& vm;
    es_run& out;
    std::uint32_t cpu;
    counter_row& row;       // this VM's row for this CPU: the only counters the exit path writes
    cpu_recorder& recorder; // this CPU's flight recorder
    run_totals& totals;
    std::uint32_t pending = no_pending; // the exit whose handling time is still running
    std::uint64_t pending_since = 0;
    es_trace_entry* pending_trace = nullptr;

    // The handling of the pending exit ended at `now`: charge its cycles.
    [[gnu::always_inline]] void charge(std::uint64_t now) {
        if (pending == no_pending)
            return;
        const std::uint64_t cycles = now - pending_since;
        if constexpr (Level != instrument_level::off)
            record_cycles(row, pending, cycles, Level);
        if (Level >= instrument_level::recorder && pending_trace) {
            pending_trace->cycles = cycles;
            if (cycles > core.outlier_cycles) {
                recorder.outliers.next() = *pending_trace;
                recorder.outliers.commit();
            }
            pending_trace = nullptr;
        }
        totals.cycles += cycles;
        pending = no_pending;
    }

    // A VM exit with basic reason `reason` (raw field `raw`) happened at `exit_tsc`.
    [[gnu::always_inline]] void count(std::uint32_t reason, std::uint32_t raw,
                                      std::uint64_t exit_tsc) {
        if constexpr (Level != instrument_level::off)
            record_exit(row, reason);
        if constexpr (Level >= instrument_level::recorder) {
            es_trace_entry& t = recorder.last.next();
            t = {exit_tsc,
                 0,
                 hw::vmread(f::exit_qualification),
                 hw::vmread(f::guest_rip),
                 raw,
                 vm.id,
                 cpu,
                 0};
            recorder.last.commit();
            pending_trace = &t;
        }
        ++totals.exits;
        pending = reason;
        pending_since = exit_tsc;
    }

    void report_entry_failure(std::uint32_t raw_reason) {
        out.stop = ES_STOP_ENTRY_FAILED;
        out.exit_reason = raw_reason;
        out.vm_instruction_error = static_cast<std::uint32_t>(hw::vmread(f::vm_instruction_error));
        out.qualification = hw::vmread(f::exit_qualification);
        out.rip = hw::vmread(f::guest_rip);
    }

    section_end run_exits(bool& launched);
};

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
    // A bound on the run for tests and fuzzing, checked once the last exit is fully handled;
    // the preemption timer guarantees exits even from a guest that causes none.
    const std::uint64_t exit_budget = out.max_exits ? out.max_exits : ~0ull;
    for (;;) {
        if (totals.exits >= exit_budget) {
            out.stop = ES_STOP_EXIT_LIMIT;
            out.rip = hw::vmread(f::guest_rip);
            return section_end::stop;
        }
        if (es_vmx_enter(&vm.regs, launched) != 0) {
            charge(hw::rdtsc());
            report_entry_failure(0);
            return section_end::stop;
        }
        launched = true;
        // The previous exit's handling ended at this entry.
        charge(vm.regs.entry_tsc);
        const auto raw = static_cast<std::uint32_t>(hw::vmread(f::exit_reason));
        const std::uint32_t reason = raw & sdm::exit_reason_basic_mask;
        if (reason < nr_reasons)
            count(reason, raw, vm.regs.exit_tsc);
        if (raw & sdm::exit_reason_entry_failure_bit) {
            report_entry_failure(raw);
            return section_end::stop;
        }
        exit_context ctx{vm, reason, cpu, {}};
        switch (dispatch_exit(ctx)) {
        case exit_action::skip:
            hw::vmwrite(f::guest_rip,
                        hw::vmread(f::guest_rip) + hw::vmread(f::exit_instruction_length));
            // An emulated instruction ends STI/MOV-SS blocking, as executing it would have.
            hw::vmwrite(f::guest_interruptibility, 0);
            continue;
        case exit_action::resume:
            continue;
        case exit_action::check_host: {
            const section_end e = host_check();
            if (es_shim_vmx_going_down())
                return section_end::vmx_gone;
            if (e == section_end::stop)
                continue;
            out.exit_reason = raw;
            out.rip = hw::vmread(f::guest_rip);
            return e;
        }
        case exit_action::stop:
            if (ctx.stop.stop == ES_STOP_HALTED || ctx.stop.stop == ES_STOP_EXIT_REQUEST ||
                ctx.stop.stop == ES_STOP_CONSOLE_FULL)
                hw::vmwrite(f::guest_rip,
                            hw::vmread(f::guest_rip) + hw::vmread(f::exit_instruction_length));
            out.stop = ctx.stop.stop;
            out.exit_reason = raw;
            out.exit_code = ctx.stop.exit_code;
            out.gpa = ctx.stop.gpa;
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
    s.charge(hw::rdtsc());
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
    run_totals totals{};
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
    out->exits = totals.exits;
    out->cycles = totals.cycles;
    // Console bytes go to user space even when the run was interrupted.
    if (vm->console_len && es_shim_copy_to_user(out->console, vm->console, vm->console_len))
        return -err::fault;
    out->console_len = vm->console_len;
    return result;
}
