// `exitscope run --backend kvm`: the run loop, shared with --kernel (kvm_linux.cpp: its own port
// I/O, an in-kernel irqchip, a tick that finds the halted vCPU), and a toy image's ports.
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

#include "backend.hpp"
#include "exitscope/ports.hpp"
#include "kvm_internal.hpp"
#include "sdm/cpu_bits.hpp"
#include "signals.hpp"

namespace es::cli {

namespace {

// The vCPUs' shared run structures, for the stop handler: immediate_exit makes a KVM_RUN that
// starts after the signal return at once with EINTR (no lost wake-up).
constexpr std::size_t max_kicked = 64;
kvm_run* volatile signal_runs[max_kicked] = {};

void on_alarm(int) {} // only makes a blocked KVM_RUN return EINTR

void kick_vcpus(int) {
    for (kvm_run* volatile& slot : signal_runs)
        if (kvm_run* r = slot)
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

bool handle_io(const kvm::vcpu& v, bool console_raw, stop_record& stop) {
    const kvm_run& run = *v.run();
    kvm::port_conventions(run.io.direction == KVM_EXIT_IO_IN, run.io.port,
                          v.run_map.bytes() + run.io.data_offset, run.io.size, run.io.count,
                          console_raw, stop);
    return true;
}

// One exit that reached user space; false when reading registers failed.
bool handle_exit(const kvm::vcpu& v, const kvm::exit_hooks& hooks, stop_record& stop) {
    const kvm_run& run = *v.run();
    switch (run.exit_reason) {
    case KVM_EXIT_IO:
        return hooks.io(stop);
    case KVM_EXIT_HLT: {
        kvm_regs r{};
        if (checked_ioctl(v.fd.get(), KVM_GET_REGS, &r, "reading registers after HLT", kvm::tag,
                          kvm::errno_advice) < 0)
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
        stop = {.stop = ES_STOP_TRIPLE_FAULT, .detail = "KVM_EXIT_SHUTDOWN"};
        break;
    case KVM_EXIT_MMIO:
        stop = {.stop = ES_STOP_EPT_VIOLATION,
                .gpa = run.mmio.phys_addr,
                .detail = std::string("KVM_EXIT_MMIO, ") + (run.mmio.is_write ? "write" : "read") +
                          " of " + std::to_string(run.mmio.len) + " bytes"};
        break;
    case KVM_EXIT_FAIL_ENTRY:
        stop = {.stop = ES_STOP_ENTRY_FAILED,
                .detail = "KVM_EXIT_FAIL_ENTRY, hardware entry failure reason " +
                          hex(run.fail_entry.hardware_entry_failure_reason)};
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        stop = {.stop = ES_STOP_UNHANDLED, .detail = internal_error_text(run)};
        break;
    default:
        stop = {.stop = ES_STOP_UNHANDLED, .detail = kvm_exit_name(run.exit_reason)};
        break;
    }
    stop.rip = kvm::current_rip(v);
    return true;
}

} // namespace

std::uint64_t kvm::current_rip(const vcpu& v) {
    kvm_regs r{};
    return ioctl(v.fd.get(), KVM_GET_REGS, &r) == 0 ? r.rip : 0;
}

void kvm::kick_runs_on_stop(const std::vector<kvm_run*>& runs) {
    for (std::size_t i = 0; i < max_kicked; ++i)
        signal_runs[i] = i < runs.size() ? runs[i] : nullptr;
    install_stop_handler(kick_vcpus);
}

void kvm::forget_kicked_runs() {
    for (kvm_run* volatile& slot : signal_runs)
        slot = nullptr;
}

int kvm::run_loop(const vcpu& v, const exit_hooks& hooks, stop_record& stop,
                  std::uint64_t& user_exits, const std::atomic<bool>* vm_stop) {
    while (!stop.stop) {
        if (ioctl(v.fd.get(), KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                if (stop_requested || (vm_stop && vm_stop->load())) {
                    stop.interrupted = true;
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
        if (!handle_exit(v, hooks, stop))
            return -1;
    }
    return 0;
}

void kvm::port_conventions(bool in, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
                           std::uint32_t count, bool console_raw, stop_record& stop) {
    const std::size_t bytes = std::size_t{size} * count;
    if (in) {
        std::memset(data, 0xff, bytes); // unknown ports read as all ones
    } else if (port == ports::exit_request) {
        std::uint32_t v = 0;
        std::memcpy(&v, data, size <= 4 ? size : 4);
        stop.stop = ES_STOP_EXIT_REQUEST;
        stop.exit_code = v;
    } else if (port == ports::console) {
        write_console(reinterpret_cast<const char*>(data), bytes, console_raw);
    }
}

kvm::exit_hooks kvm::image_exit_hooks(const vcpu& v, bool console_raw) {
    exit_hooks hooks;
    hooks.io = [&v, console_raw](stop_record& stop) { return handle_io(v, console_raw, stop); };
    return hooks;
}

bool kvm::run_vcpu(const vcpu& v, const exit_hooks& hooks, stop_record& stop,
                   std::uint64_t& user_exits) {
    kick_runs_on_stop({v.run()});
    struct forget_run {
        ~forget_run() { forget_kicked_runs(); }
    } forget;
    if (stop_requested)
        v.run()->immediate_exit = 1;
    interval_timer timer(hooks.tick ? hooks.tick_ms : 0);
    if (run_loop(v, hooks, stop, user_exits) < 0)
        return false;
    if (stop.interrupted)
        stop.rip = current_rip(v);
    return true;
}

} // namespace es::cli
