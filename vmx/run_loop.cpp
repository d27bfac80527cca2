// The run loop, in the shape of KVM's vcpu_run/vmx_vcpu_run/vmx_handle_exit: module/vmenter.S
// enters the guest and returns at its next exit; handle_exit counts the exit and dispatches it
// through the exit table; the loop times it and enters again. It returns to user space only when
// the guest stops, a signal arrives, or the console fills.
//
// A "guest section" runs with preemption and interrupts off, the guest's FPU state loaded and the
// VMCS current on this CPU. Interrupts are enabled only for a host turn between two exits, so the
// host takes the interrupt that caused an exit, IPIs and signals. Rescheduling ends the section,
// so the next one may be on another CPU: every section starts with VMPTRLD and VMLAUNCH and ends
// with VMCLEAR, which makes migration trivial.
#include "apic_bus.hpp"
#include "board_guard.hpp"
#include "core.hpp"
#include "exit_dispatch.hpp"
#include "exitscope/abi.h"
#include "exitscope/errno.hpp"
#include "irq_delivery.hpp"
#include "pure/arg_checks.hpp"
#include "sdm/vmx_controls.hpp"
#include "stats.hpp"
#include "stop_reporting.hpp"
#include "vm.hpp"
#include "vmcs_setup.hpp"
#include "vmenter_layout.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

using f = sdm::vmcs_field;

// How a guest section ended. vmx_gone: the reboot notifier turned VMX off on this CPU while
// interrupts were briefly enabled; no VMX instruction (not even VMCLEAR) may follow.
// idle: a Linux guest's HLT waits for its timer (es_vcpu::idle_until), outside the section.
// vm_stopped: another vCPU of the VM stopped it (es_vm::stopped). wait_for_sipi: an INIT
// reached the vCPU (apic_bus.hpp); it waits outside the guest for its SIPI.
enum class section_end {
    none,
    stop,
    reschedule,
    signal,
    vmx_gone,
    idle,
    vm_stopped,
    wait_for_sipi
};

// What the loop does after an exit.
enum class next_step { enter, host_turn, stop, idle };

// A host turn: interrupts on, so the host takes what caused the exit, then a look for signals,
// rescheduling and the VM's stop (a vCPU that stops the VM kicks the others into a host turn).
section_end host_check(const es_vm& vm) {
    es_shim_irq_enable();
    const int work = es_shim_pending_work();
    es_shim_irq_disable();
    if (es_shim_vmx_going_down())
        return section_end::vmx_gone;
    if (work < 0)
        return section_end::signal;
    if (__atomic_load_n(&vm.stopped, __ATOMIC_ACQUIRE)) [[unlikely]]
        return section_end::vm_stopped;
    return work > 0 ? section_end::reschedule : section_end::none;
}

// The next host turn comes after a slice of guest time (the VMX-preemption timer, saved at exits
// so it runs down across them) or a slice of host time, whichever ends first: the timer counts
// only while the guest runs, so a guest that exits all the time would barely move it. Returns the
// host TSC by which the turn is due.
std::uint64_t new_turn() {
    arm_preemption_timer();
    return hw::rdtsc() + (std::uint64_t{1} << core.preemption_slice_log2);
}

// One exit as the loop tracks it between its handling and its accounting.
struct exit_info {
    std::uint64_t tsc;     // read by the entry stub right after the exit
    reason_cell* cell;     // its reason's counters; null for a reason past the table
    es_trace_entry* trace; // its flight-recorder entry (level 3)
};

// The counters and recorder one section writes. The instrumentation level is a template
// parameter: it never changes while the module is loaded, so each level's loop carries no test
// for the others. Kept apart from the exit context, whose address the handlers get, so the
// compiler can hold these in registers.
template <instrument_level Level> struct exit_path {
    counter_row& row; // the vCPU's counters: written only here, by this CPU
    cpu_recorder& recorder;
    std::uint32_t vm_id;
    std::uint32_t vcpu_index;

    // Count the exit and dispatch it through the exit table (KVM's __vmx_handle_exit).
    [[gnu::always_inline]] next_step handle_exit(exit_info& e, exit_context& ctx,
                                                 std::uint64_t turn_end) {
        const auto raw = static_cast<std::uint32_t>(hw::vmread(f::exit_reason));
        // Counted before the handler runs: a CPUID exit-leaf query sees itself (CONTRACT.md, 1).
        row.exits += 1;
        if constexpr (Level >= instrument_level::recorder)
            e.trace = start_trace(e.tsc, raw);
        // The bounds check. A raw field at or past the table also covers the flag bits (a failed
        // entry) and reasons this table does not know.
        if (raw >= nr_reasons) [[unlikely]]
            return unusual_exit(raw, e, ctx, turn_end);
        return dispatch(array_index_nospec(raw, nr_reasons), e, ctx, turn_end);
    }

    // `reason` is clamped: a mispredicted bounds check cannot steer the table or counter index.
    [[gnu::always_inline]] next_step dispatch(std::size_t reason, exit_info& e, exit_context& ctx,
                                              std::uint64_t turn_end) {
        e.cell = &row.cell[reason];
        if constexpr (Level != instrument_level::off)
            record_exit(*e.cell);
        ctx.reason = static_cast<std::uint32_t>(reason);
        const exit_action action = handler_by_reason[reason](ctx);
        if (action == exit_action::skip) [[likely]]
            skip_instruction(e);
        else if (action == exit_action::check_host)
            return next_step::host_turn;
        else if (action == exit_action::stop)
            return next_step::stop;
        else if (action == exit_action::idle) {
            skip_instruction(e);
            return next_step::idle;
        }
        if (e.tsc >= turn_end) [[unlikely]]
            return next_step::host_turn;
        return next_step::enter;
    }

    // A raw exit-reason field with more than a basic reason in it: a failed entry (bit 31), or a
    // reason past the table (a newer CPU's, or a corrupt field), which stops the VM uncounted.
    [[gnu::always_inline]] next_step unusual_exit(std::uint32_t raw, exit_info& e,
                                                  exit_context& ctx, std::uint64_t turn_end) {
        const std::uint32_t basic = raw & sdm::exit_reason_basic_mask;
        if (basic >= nr_reasons) {
            e.cell = nullptr;
            ctx.stop = {ES_STOP_UNHANDLED, 0, 0};
            return next_step::stop;
        }
        if (raw & sdm::exit_reason_entry_failure_bit) {
            e.cell = &row.cell[array_index_nospec(basic, nr_reasons)];
            if constexpr (Level != instrument_level::off)
                record_exit(*e.cell);
            ctx.stop = {ES_STOP_ENTRY_FAILED, 0, 0};
            return next_step::stop;
        }
        // Other flag bits (none of the features that set them is in use) do not change what the
        // basic reason asks for.
        return dispatch(array_index_nospec(basic, nr_reasons), e, ctx, turn_end);
    }

    // The exit's flight-recorder entry, written as the exit arrives; its cycles stay 0 until
    // the handling ends (what ES_IOC_TRACE shows of an exit still being handled).
    [[gnu::always_inline]] es_trace_entry* start_trace(std::uint64_t tsc, std::uint32_t raw) {
        es_trace_entry& t = recorder.last.next();
        recorder.last.commit();
        t.tsc = tsc;
        t.cycles = 0;
        t.reason = raw;
        t.vm = vm_id; // t.cpu is left to collect_trace (the ring is the CPU's)
        t.vcpu = vcpu_index;
        t.rip = hw::vmread(f::guest_rip);
        t.qualification = hw::vmread(f::exit_qualification);
        return &t;
    }

    // The instruction was emulated: the guest goes on after it, in one place for every handler.
    [[gnu::always_inline]] void skip_instruction(const exit_info& e) {
        std::uint64_t rip;
        if constexpr (Level >= instrument_level::recorder)
            rip = e.trace->rip;
        else
            rip = hw::vmread(f::guest_rip);
        hw::vmwrite_current(f::guest_rip, rip + hw::vmread(f::exit_instruction_length));
        // Executing the instruction would have ended STI/MOV-SS blocking: so does emulating it.
        hw::vmwrite_current(f::guest_interruptibility, 0);
    }

    // The exit's handling ended at `end_tsc`: its cycles go to the row and the recorder.
    // `counted`: the reason has a cell (only a stop can come from a reason past the table). No
    // VMX instruction here: after a host turn VMX may be off (reboot).
    [[gnu::always_inline]] void account(const exit_info& e, std::uint64_t end_tsc,
                                        bool counted = true) {
        const std::uint64_t cycles = end_tsc - e.tsc;
        row.cycles += cycles;
        if constexpr (Level != instrument_level::off)
            if (counted)
                record_cycles(*e.cell, cycles, Level);
        if constexpr (Level >= instrument_level::recorder) {
            e.trace->cycles = cycles;
            if (cycles > core.outlier_cycles) [[unlikely]] {
                recorder.outliers.next() = *e.trace;
                recorder.outliers.commit();
            }
        }
    }
};

// The exits of one guest section: enter, handle, account, until the run stops or the host needs
// the CPU. Interrupts are off but for host turns.
template <instrument_level Level>
[[gnu::noinline]] section_end run_section(es_vcpu& vcpu, es_run& out, std::uint32_t cpu,
                                          std::uint64_t exit_limit) {
    es_vm& vm = *vcpu.vm;
    stop_report stop{};
    exit_context ctx{vcpu, vm, 0, cpu, stop};
    exit_path<Level> path{*vcpu.row, recorder_of(cpu), vm.id, vcpu.index};
    std::uint64_t turn_end = new_turn();
    bool launched = false;
    // L1TF: host code ran before this section (and runs in each host turn), so the L1D may hold
    // host data the guest could read; the exits handled here touch only this VM's state.
    bool flush_l1d = core.l1d_flush != l1d_flush_rule::never;
    exit_info e; // the exit in hand: filled in as it is handled
    for (;;) {
        if (path.row.exits == exit_limit) {
            out.stop = ES_STOP_EXIT_LIMIT;
            out.rip = hw::vmread(f::guest_rip);
            return section_end::stop;
        }
        if (vm.has_board && !deliver_board_interrupts(vcpu, vm)) [[unlikely]]
            return section_end::wait_for_sipi;
        if (flush_l1d) [[unlikely]] {
            es_shim_flush_l1d();
            flush_l1d = core.l1d_flush == l1d_flush_rule::every_entry;
        }
        e.tsc = es_vmx_enter(&vcpu.regs, launched);
        if (e.tsc == 0) {
            report_entry_failure(out, 0);
            return section_end::stop;
        }
        launched = true;
        switch (path.handle_exit(e, ctx, turn_end)) {
        case next_step::enter:
            break;
        case next_step::host_turn: {
            // A host turn is part of the exit's handling time: it ends at the next entry.
            const section_end end = host_check(vm);
            if (end == section_end::none) {
                turn_end = new_turn();
                flush_l1d = core.l1d_flush != l1d_flush_rule::never;
                break;
            }
            if (end != section_end::vmx_gone) {
                out.exit_reason = static_cast<std::uint32_t>(hw::vmread(f::exit_reason));
                out.rip = hw::vmread(f::guest_rip);
            }
            path.account(e, hw::rdtsc());
            return end;
        }
        case next_step::stop:
            report_stop(out, stop, static_cast<std::uint32_t>(hw::vmread(f::exit_reason)));
            path.account(e, hw::rdtsc(), e.cell != nullptr);
            return section_end::stop;
        case next_step::idle:
            // The wait is not the exit's handling time: it ends here, before the sleep.
            path.account(e, hw::rdtsc());
            return section_end::idle;
        }
        path.account(e, hw::rdtsc());
    }
}

// Start of a section: make the VMCS current here and bring it up to date.
bool load_vmcs(es_vcpu& vcpu) {
    if (!hw::vmptrld(vcpu.vmcs.pa))
        return false;
    // Drop any translations a previous VM with the same EPT root or VPID left on this CPU.
    if (core.caps.invept_single)
        hw::invept(hw::invept_single_context, vcpu.vm->ept.eptp);
    else if (core.caps.invept_all)
        hw::invept(hw::invept_all_context, 0);
    if (vcpu.vpid && core.caps.invvpid_single)
        hw::invvpid(hw::invvpid_single_context, vcpu.vpid);
    else if (vcpu.vpid && core.caps.invvpid_all)
        hw::invvpid(hw::invvpid_all_context, 0);
    if (!vcpu.vmcs_ready) {
        if (!write_controls_and_host_constants(vcpu))
            return false;
        vcpu.vmcs_ready = true;
    }
    if (vcpu.guest_dirty) {
        if (!write_guest_start_state(vcpu))
            return false;
        vcpu.guest_dirty = false;
    }
    return write_host_per_section(vcpu);
}

// One guest section on this CPU, interrupts off.
section_end run_on_this_cpu(es_vcpu& vcpu, es_run& out, std::uint32_t cpu,
                            std::uint64_t exit_limit) {
    if (es_shim_vmx_going_down())
        return section_end::vmx_gone; // VMX is gone for a reboot: nothing to do
    if (!load_vmcs(vcpu)) {
        out.stop = ES_STOP_ENTRY_FAILED; // VMPTRLD or a VMWRITE failed: our bug, reported
        return section_end::stop;
    }
    begin_section(vcpu, cpu);
    section_end end = section_end::stop;
    switch (core.instrument) {
    case instrument_level::off:
        end = run_section<instrument_level::off>(vcpu, out, cpu, exit_limit);
        break;
    case instrument_level::counters:
        end = run_section<instrument_level::counters>(vcpu, out, cpu, exit_limit);
        break;
    case instrument_level::histograms:
        end = run_section<instrument_level::histograms>(vcpu, out, cpu, exit_limit);
        break;
    default:
        end = run_section<instrument_level::recorder>(vcpu, out, cpu, exit_limit);
        break;
    }
    end_section(vcpu, cpu);
    if (end != section_end::vmx_gone)
        hw::vmclear(vcpu.vmcs.pa);
    return end;
}

// Sleep until the Linux guest's HLT wakes: the PIT deadline es_vcpu::idle_until, in host TSC.
// A wake-up (serial input for the BSP, the VM's stop) ends the sleep early.
int idle_wait(es_vcpu& vcpu) {
    es_vm& vm = *vcpu.vm;
    const std::uint32_t wake_seen = __atomic_load_n(&vcpu.wake_seq, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&vm.stopped, __ATOMIC_ACQUIRE))
        return 0;
    const std::uint64_t now = hw::rdtsc();
    {
        const board_guard g{vm};
        if (wakeup_pending_locked(vcpu, now))
            return 0;
    }
    if (now >= vcpu.idle_until || core.tsc_khz == 0)
        return 0;
    // A PIT deadline is at most 65,537 input ticks (55 ms) away, but one the board clamped near
    // the TSC's end of range is not: the sleep is bounded to 100 ms, so the product fits.
    const std::uint64_t ticks = vcpu.idle_until - now;
    const std::uint64_t max_ticks = std::uint64_t{core.tsc_khz} * 100;
    const std::uint64_t ns = (ticks < max_ticks ? ticks : max_ticks) * 1000000 / core.tsc_khz;
    return es_shim_idle_wait(ns, vcpu.waker, &vcpu.wake_seq, wake_seen);
}

// An AP (or a vCPU an INIT reached) waits for its start-up IPI. False when it may run: it was
// not waiting, or its SIPI came and it starts over in real mode at the vector. True while it
// still waits, after a sleep until a wake-up (a signal's -EINTR goes to `error`).
bool waits_for_sipi(es_vcpu& vcpu, int& error) {
    es_vm& vm = *vcpu.vm;
    const std::uint32_t wake_seen = __atomic_load_n(&vcpu.wake_seq, __ATOMIC_SEQ_CST);
    {
        const board_guard g{vm};
        if (vcpu.sipi_pending) {
            vcpu.sipi_pending = false;
            start_from_sipi(vcpu);
            return false;
        }
        if (vcpu.apic.state != vcpu_run_state::wait_for_sipi)
            return false;
    }
    if (__atomic_load_n(&vm.stopped, __ATOMIC_ACQUIRE))
        return true; // the loop's top reports it
    // No deadline: only a SIPI, the VM's stop or a signal end it (bounded, to look again).
    constexpr std::uint64_t recheck_ns = 1'000'000'000;
    error = es_shim_idle_wait(recheck_ns, vcpu.waker, &vcpu.wake_seq, wake_seen);
    return true;
}

// At the end of a run call: the VM's console bytes (up to `cap`) move to the vCPU's bounce
// buffer, the rest moving up; `seq` gets the VM-wide offset of the first. Returns how many.
std::uint32_t take_console(es_vcpu& vcpu, std::uint32_t cap, es_u64& seq) {
    es_vm& vm = *vcpu.vm;
    const board_guard g{vm};
    const std::uint32_t n = vm.console_len < cap ? vm.console_len : cap;
    for (std::uint32_t i = 0; i < n; ++i)
        vcpu.console_out[i] = vm.console[i];
    for (std::uint32_t i = n; i < vm.console_len; ++i)
        vm.console[i - n] = vm.console[i];
    vm.console_len -= n;
    seq = vm.console_seq;
    vm.console_seq += n;
    return n;
}

// Whether a run that ended with `stop` ends the guest for every vCPU: not a full console or an
// exit budget, which leave it resumable.
bool stops_the_vm(std::uint32_t stop) {
    return stop != 0 && stop != ES_STOP_CONSOLE_FULL && stop != ES_STOP_EXIT_LIMIT &&
           stop != ES_STOP_VM_STOPPED;
}

// This vCPU stopped the guest: the VM's other vCPUs end their runs. A running one is kicked into
// a host turn (which sees the flag), a sleeping one woken; one between the two sees the flag at
// its next host turn, at most a time slice later.
void stop_other_vcpus(es_vcpu& self) {
    es_vm& vm = *self.vm;
    __atomic_store_n(&vm.stopped, 1u, __ATOMIC_SEQ_CST);
    for (std::uint32_t i = 0; i < vm.nr_vcpus; ++i) {
        es_vcpu& other = vm.vcpus[i];
        if (&other == &self)
            continue;
        kick_vcpu(other);
    }
}

} // namespace

} // namespace es

using namespace es;

extern "C" int es_core_vcpu_run(es_vm* vm, es_u32 index, es_run* out) {
    if (int e = check_run(*out))
        return e;
    es_vcpu& vcpu = vm->vcpus[index];
    out->stop = 0;
    out->console_len = 0;
    out->exit_code = out->qualification = out->gpa = out->rip = 0;
    out->vm_instruction_error = 0;
    out->vm_id = vm->id;
    out->vcpu = index;
    const std::uint64_t exits_before = vcpu.row->exits;
    const std::uint64_t cycles_before = vcpu.row->cycles;
    // No budget: 2^64 - 1 exits, more than any run makes.
    const std::uint64_t exit_limit = exits_before + (out->max_exits ? out->max_exits : ~0ull);
    int result = 0;
    {
        const board_guard g{*vm};
        vm->console_limit =
            out->console_cap < console_capacity ? out->console_cap : console_capacity;
    }

    for (;;) {
        if (__atomic_load_n(&vm->stopped, __ATOMIC_ACQUIRE)) [[unlikely]] {
            out->stop = ES_STOP_VM_STOPPED;
            break;
        }
        if (int error = 0; vm->has_lapic && waits_for_sipi(vcpu, error)) [[unlikely]] {
            if (error) {
                result = -err::intr;
                break;
            }
            continue;
        }
        if (vcpu.idle_pending) {
            vcpu.idle_pending = false;
            if (idle_wait(vcpu) != 0) {
                result = -err::intr;
                break;
            }
            continue; // the stop flag first
        }
        es_shim_begin_guest_section(&vcpu.host);
        const auto cpu = static_cast<std::uint32_t>(es_shim_this_cpu());
        // Every VMX instruction of the section runs with interrupts off, after the reboot
        // notifier's flag is checked: its IPI can only arrive while they are on (host turns),
        // and the loop checks again right after each.
        es_shim_irq_disable();
        const section_end end = run_on_this_cpu(vcpu, *out, cpu, exit_limit);
        es_shim_irq_enable();
        out->cpu = cpu;
        es_shim_end_guest_section(&vcpu.host);
        if (end == section_end::vmx_gone) {
            result = -err::shutdown;
            break;
        }
        if (end == section_end::reschedule) {
            es_shim_reschedule();
            continue;
        }
        if (end == section_end::vm_stopped || end == section_end::wait_for_sipi)
            continue; // both at the top
        if (end == section_end::idle) {
            // The HLT's sleep comes at the top of the loop. Console bytes the guest sent before
            // it went idle (a shell's prompt, the echo of a key) go to user space first, not
            // when the buffer fills: the run returns them, and the next run call sleeps.
            vcpu.idle_pending = true;
            if (__atomic_load_n(&vm->console_len, __ATOMIC_RELAXED) == 0)
                continue;
            out->stop = ES_STOP_CONSOLE_FULL;
            break;
        }
        if (end == section_end::signal)
            result = -err::intr;
        else if (vm->nr_vcpus > 1 && stops_the_vm(out->stop))
            stop_other_vcpus(vcpu);
        break;
    }
    out->exits = vcpu.row->exits - exits_before;
    out->cycles = vcpu.row->cycles - cycles_before;
    // Console bytes go to user space even when the run was interrupted.
    const std::uint32_t n = take_console(vcpu, out->console_cap, out->console_seq);
    if (n && es_shim_copy_to_user(out->console, vcpu.console_out, n))
        return -err::fault;
    out->console_len = n;
    return result;
}
