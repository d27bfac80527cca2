// `exitscope run --backend kvm`: the run loop and its summary, shared with --kernel
// (kvm_linux.cpp: its own port I/O, an in-kernel irqchip, a tick that finds the halted vCPU).
//
// A toy image: one VM with one vCPU and no in-kernel irqchip, so every HLT exits to user space:
// an HLT with RFLAGS.IF=0 ends the run (halted), one with IF=1 simply resumes after the HLT, as
// under Exitscope (no interrupt is ever delivered to the guest). Port 0xE9 is the console, 0xF4
// ends the run with the value, other OUTs are dropped and INs read all ones; an access outside
// guest RAM reaches user space as KVM_EXIT_MMIO and ends the run like Exitscope's EPT violation.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "exitscope/ports.hpp"
#include "kvm_internal.hpp"
#include "sdm/cpu_bits.hpp"
#include "vmx/pure/arg_checks.hpp"

namespace es::cli {

namespace {

// The vCPU's shared run structure, for the signal handler: immediate_exit makes a KVM_RUN that
// starts after the signal return at once with EINTR (no lost wake-up).
kvm_run* volatile signal_run = nullptr;
volatile std::sig_atomic_t interrupted = 0;

void on_alarm(int) {} // only makes a blocked KVM_RUN return EINTR

void on_signal(int) {
    interrupted = 1;
    if (kvm_run* r = signal_run)
        r->immediate_exit = 1;
}

// SIGALRM every `ms` milliseconds while it lives (none for 0), without SA_RESTART so that a
// KVM_RUN blocked in the kernel returns EINTR.
class interval_timer {
  public:
    explicit interval_timer(unsigned ms) : armed_(ms != 0) {
        if (!armed_)
            return;
        struct sigaction sa {};
        sa.sa_handler = on_alarm;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, &old_);
        itimerval t{};
        t.it_interval.tv_sec = ms / 1000;
        t.it_interval.tv_usec = static_cast<suseconds_t>(ms % 1000) * 1000;
        t.it_value = t.it_interval;
        setitimer(ITIMER_REAL, &t, nullptr);
    }
    interval_timer(const interval_timer&) = delete;
    interval_timer& operator=(const interval_timer&) = delete;
    ~interval_timer() {
        if (!armed_)
            return;
        itimerval off{};
        setitimer(ITIMER_REAL, &off, nullptr);
        sigaction(SIGALRM, &old_, nullptr);
    }

  private:
    bool armed_;
    struct sigaction old_ {};
};

std::string internal_error_text(const kvm_run& r) {
    std::string s = "KVM_EXIT_INTERNAL_ERROR, suberror " + std::to_string(r.internal.suberror);
    switch (r.internal.suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
        s += " (instruction emulation failed)";
        break;
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        s += " (exception while delivering an exception)";
        break;
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        s += " (exit during event delivery)";
        break;
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        s += " (exit reason KVM does not handle)";
        break;
    default:
        break;
    }
    const std::uint32_t n = r.internal.ndata < 16 ? r.internal.ndata : 16;
    for (std::uint32_t i = 0; i < n; ++i)
        s += (i ? " " : ", data ") + hex(r.internal.data[i]);
    return s;
}

// The same argument checks as the Exitscope module, with the same messages.
bool check_arguments(const run_options& o, const std::string& image) {
    es_vm_create create{};
    create.size = sizeof create;
    create.mem_bytes = o.mem_bytes;
    es_vm_load load{};
    load.size = sizeof load;
    load.gpa = o.load;
    load.data = reinterpret_cast<std::uintptr_t>(image.data());
    load.len = image.size();
    es_vcpu_state state{};
    state.size = sizeof state;
    state.mode = o.mode;
    state.entry = *o.entry;
    const auto explained = explain_state_error(state, o.mem_bytes);
    const struct {
        int err;
        const char* what;
    } checks[] = {{es::check_create(create), "creating the VM"},
                  {es::check_load(load, o.mem_bytes), "loading the image"},
                  {es::check_state(state, o.mem_bytes), "setting the start state"}};
    for (const auto& c : checks)
        if (c.err) {
            const bool state_check = &c == &checks[2];
            report_failure(kvm::tag, c.what, -c.err,
                           state_check && explained ? *explained : errno_advice(-c.err));
            return false;
        }
    return true;
}

std::uint64_t current_rip(const kvm::machine& m) {
    kvm_regs r{};
    return ioctl(m.vcpu.get(), KVM_GET_REGS, &r) == 0 ? r.rip : 0;
}

bool handle_io(const kvm::machine& m, kvm_stop& stop) {
    const kvm_run& run = *m.run();
    std::uint8_t* data = m.run_map.bytes() + run.io.data_offset;
    const std::size_t bytes = std::size_t{run.io.size} * run.io.count;
    if (run.io.direction == KVM_EXIT_IO_IN) {
        std::memset(data, 0xff, bytes); // unknown ports read as all ones
    } else if (run.io.port == ports::exit_request) {
        std::uint32_t v = 0;
        std::memcpy(&v, data, run.io.size <= 4 ? run.io.size : 4);
        stop.stop = ES_STOP_EXIT_REQUEST;
        stop.exit_code = v;
    } else if (run.io.port == ports::console) {
        std::fwrite(data, 1, bytes, stdout);
    }
    return true;
}

// One exit that reached user space; false when reading registers failed.
bool handle_exit(const kvm::machine& m, const kvm::exit_hooks& hooks, kvm_stop& stop) {
    const kvm_run& run = *m.run();
    switch (run.exit_reason) {
    case KVM_EXIT_IO:
        return hooks.io(stop);
    case KVM_EXIT_HLT: {
        kvm_regs r{};
        if (kvm::checked(m.vcpu.get(), KVM_GET_REGS, &r, "reading registers after HLT") < 0)
            return false;
        // IF=1: nothing will ever interrupt the HLT; resume after it, as Exitscope does.
        if (!(r.rflags & sdm::rflags::intf)) {
            stop.stop = ES_STOP_HALTED;
            stop.rip = r.rip;
        }
        return true;
    }
    case KVM_EXIT_INTR: // a signal: the loop's next KVM_RUN returns EINTR at once
        return true;
    case KVM_EXIT_SHUTDOWN:
        stop = {ES_STOP_TRIPLE_FAULT, 0, 0, 0, "KVM_EXIT_SHUTDOWN"};
        break;
    case KVM_EXIT_MMIO:
        stop = {ES_STOP_EPT_VIOLATION, 0, run.mmio.phys_addr, 0,
                std::string("KVM_EXIT_MMIO, ") + (run.mmio.is_write ? "write" : "read") + " of " +
                    std::to_string(run.mmio.len) + " bytes"};
        break;
    case KVM_EXIT_FAIL_ENTRY:
        stop = {ES_STOP_ENTRY_FAILED, 0, 0, 0,
                "KVM_EXIT_FAIL_ENTRY, hardware entry failure reason " +
                    hex(run.fail_entry.hardware_entry_failure_reason)};
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        stop = {ES_STOP_UNHANDLED, 0, 0, 0, internal_error_text(run)};
        break;
    default:
        stop = {ES_STOP_UNHANDLED, 0, 0, 0, kvm_exit_name(run.exit_reason)};
        break;
    }
    stop.rip = current_rip(m);
    return true;
}

// Runs until a stop or a signal; -1 after a failure (printed), else 0, `was_interrupted` set.
int run_loop(const kvm::machine& m, const kvm::exit_hooks& hooks, kvm_stop& stop,
             std::uint64_t& user_exits, bool& was_interrupted) {
    while (!stop.stop) {
        if (ioctl(m.vcpu.get(), KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                if (interrupted) {
                    was_interrupted = true;
                    return 0;
                }
                if (hooks.tick && !hooks.tick(stop))
                    return -1;
                continue;
            }
            const int e = errno;
            report_failure(kvm::tag, "running the guest (KVM_RUN)", e, kvm::errno_advice(e));
            return -1;
        }
        ++user_exits;
        if (!handle_exit(m, hooks, stop))
            return -1;
    }
    return 0;
}

} // namespace

int run_kvm(const run_options& o) {
    if (!o.kernel.empty() && !o.max_exits)
        return run_kvm_linux(o);
    if (o.max_exits) {
        std::fprintf(stderr,
                     "%s: --max-exits is not supported with --backend kvm (KVM handles most exits "
                     "in the kernel, out of user space's sight)\n",
                     kvm::tag);
        return status_usage;
    }
    const auto image = read_image(o, kvm::tag);
    if (!image)
        return status_usage;
    if (!check_arguments(o, *image))
        return status_error;
    kvm::machine m;
    if (!kvm::set_up(o, *image, m))
        return status_error;
    kvm::exit_hooks hooks;
    hooks.io = [&m](kvm_stop& stop) { return handle_io(m, stop); };
    return kvm::run_vcpu(m, hooks);
}

int kvm::run_vcpu(const machine& m, const exit_hooks& hooks) {
    install_interrupt_handler(on_signal);
    signal_run = m.run();
    struct forget_run {
        ~forget_run() { signal_run = nullptr; }
    } forget;
    if (interrupted)
        m.run()->immediate_exit = 1;
    kvm_stop stop;
    std::uint64_t user_exits = 0;
    bool was_interrupted = false;
    interval_timer timer(hooks.tick ? hooks.tick_ms : 0);
    if (run_loop(m, hooks, stop, user_exits, was_interrupted) < 0)
        return status_error;
    std::fflush(stdout);
    if (was_interrupted)
        stop.rip = current_rip(m);
    const stop_summary s =
        summarize_kvm_stop(stop, user_exits, kvm::read_stats(m.stats.get()), was_interrupted);
    std::fprintf(stderr, "%s\n", s.line.c_str());
    if (hooks.all_stats) {
        const std::string all = format_nonzero_kvm_stats(kvm::read_stats(m.stats.get()));
        if (!all.empty())
            std::fprintf(stderr, "%s: KVM's nonzero vCPU statistics: %s\n", kvm::tag, all.c_str());
    }
    return s.status;
}

} // namespace es::cli
