// `exitscope run --backend kvm --kernel ... --cpus N`: a host thread per vCPU, as KVM's API is
// meant to be used (a vCPU's ioctls come from one thread at a time). The calling thread keeps
// SIGINT/SIGTERM (the vCPU threads block them) and the duties of the run: it wakes every
// tick_ms to tick each vCPU (SIGUSR2 makes its KVM_RUN return EINTR: the in-kernel irqchip keeps
// HLT out of user space), kicks vCPU 0 when serial input waits, and ends every vCPU once one of
// them stops the guest, all are halted for good, or a signal asks: immediate_exit in each
// kvm_run, then SIGUSR2 to each thread (the sequence KVM's API documentation gives for kicking
// a vCPU out of KVM_RUN without losing the request).
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <thread>

#include "kvm_internal.hpp"
#include "signals.hpp"

namespace es::cli {

namespace {

constexpr long wait_step_ms = 50;

// What one vCPU's thread ends with.
struct vcpu_result {
    stop_record stop;
    std::uint64_t user_exits = 0;
    int rc = 0; // run_loop's: -1 after a failure
};

void sleep_ms(long ms) {
    timespec t{ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, nullptr); // EINTR (a signal) ends it early, which is wanted
}

// Blocks SIGINT and SIGTERM (the calling thread takes them) and SIGALRM in a vCPU thread.
void block_process_signals() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
}

} // namespace

bool kvm::run_vcpus(const machine& m, const std::vector<exit_hooks>& hooks,
                    const std::vector<std::atomic<bool>*>& done,
                    const std::function<bool()>& input_waiting, stop_record& stop,
                    std::uint64_t& user_exits) {
    const std::size_t n = m.vcpus.size();
    std::vector<kvm_run*> runs;
    for (const auto& v : m.vcpus)
        runs.push_back(v->run());
    kick_runs_on_stop(runs);
    std::atomic<bool> vm_stop{false};
    std::atomic<std::size_t> finished{0};
    std::vector<vcpu_result> results(n);
    std::vector<pthread_t> handles(n);
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            block_process_signals();
            vcpu_result& r = results[i];
            r.rc = run_loop(*m.vcpus[i], hooks[i], r.stop, r.user_exits, &vm_stop);
            if (r.rc < 0 || r.stop.stop)
                vm_stop.store(true); // this vCPU ended the guest: every other one stops
            finished.fetch_add(1);
        });
    for (std::size_t i = 0; i < n; ++i)
        handles[i] = threads[i].native_handle();

    const auto kick = [&](std::size_t i) { pthread_kill(handles[i], SIGUSR2); };
    const auto all_done = [&] {
        for (const std::atomic<bool>* d : done)
            if (!d->load())
                return false;
        return true;
    };
    bool all_halted = false;
    long since_tick = 0;
    while (finished.load() < n) {
        if (stop_requested || vm_stop.load()) {
            vm_stop.store(true);
            for (std::size_t i = 0; i < n; ++i) {
                runs[i]->immediate_exit = 1;
                kick(i);
            }
        } else if (since_tick >= static_cast<long>(hooks.front().tick_ms)) {
            since_tick = 0;
            if (all_done()) {
                all_halted = true;
                vm_stop.store(true);
                continue;
            }
            for (std::size_t i = 0; i < n; ++i)
                kick(i);
        } else if (input_waiting && input_waiting()) {
            kick(0);
        }
        sleep_ms(wait_step_ms);
        since_tick += wait_step_ms;
    }
    for (auto& t : threads)
        t.join();
    forget_kicked_runs();

    // The first vCPU that stopped by itself names the stop; else a signal, or all halted.
    user_exits = 0;
    bool failed = false;
    stop = stop_record{};
    for (const vcpu_result& r : results) {
        user_exits += r.user_exits;
        failed = failed || r.rc < 0;
        if (!stop.stop && r.stop.stop)
            stop = r.stop;
    }
    if (failed)
        return false;
    if (stop.stop)
        return true;
    if (all_halted && !stop_requested) {
        stop.stop = ES_STOP_HALTED;
        stop.rip = results.front().stop.rip;
        return true;
    }
    stop.interrupted = true;
    stop.rip = current_rip(m.bsp());
    return true;
}

} // namespace es::cli
