// A thread per vCPU (vcpu_threads.hpp).
#include "vcpu_threads.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include <pthread.h>
#include <sys/ioctl.h>

#include "backend.hpp"
#include "device.hpp"
#include "signals.hpp"

namespace es::cli {

namespace {

// The signal that ends the other vCPUs' run calls (EINTR) once vCPU 0's thread ends the run.
constexpr int kick_signal = SIGUSR2;

void on_kick(int) {}

class vcpu_group {
  public:
    vcpu_group(const std::vector<int>& fds, std::uint64_t max_exits, bool raw)
        : fds_(fds), max_exits_(max_exits), raw_(raw) {
        result_.last.resize(fds.size());
        result_.vcpu_exits.resize(fds.size());
    }

    vcpu_runs run() {
        struct sigaction sa {};
        sa.sa_handler = on_kick;
        sigemptyset(&sa.sa_mask);
        sigaction(kick_signal, &sa, nullptr); // no SA_RESTART: the run ioctl returns EINTR
        // The other threads take no stop signal: SIGINT/SIGTERM come to vCPU 0's.
        sigset_t stops, old;
        sigemptyset(&stops);
        sigaddset(&stops, SIGINT);
        sigaddset(&stops, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stops, &old);
        std::vector<std::thread> threads;
        for (std::size_t i = 1; i < fds_.size(); ++i)
            threads.emplace_back([this, i] { run_one(i); });
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        run_one(0);
        // vCPU 0 is done: the guest stopped (the module stops the others too), a signal came,
        // or an ioctl failed. Kick the others until each has left its run call.
        done_.store(true);
        for (std::thread& t : threads) {
            while (!finished(t)) {
                pthread_kill(t.native_handle(), kick_signal);
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            t.join();
        }
        return result_;
    }

  private:
    bool finished(std::thread& t) {
        const std::lock_guard<std::mutex> g(lock_);
        return exited_.count(t.get_id()) != 0;
    }

    void run_one(std::size_t index) {
        std::vector<char> console(4096);
        std::uint64_t exits = 0;
        for (;;) {
            es_run r{};
            r.size = sizeof r;
            r.console = reinterpret_cast<std::uintptr_t>(console.data());
            r.console_cap = static_cast<std::uint32_t>(console.size());
            if (max_exits_)
                r.max_exits = max_exits_ > exits ? max_exits_ - exits : 1;
            const int rc = checked_ioctl(fds_[index], ES_VCPU_RUN, &r, "running a vCPU");
            const bool eintr = rc < 0 && errno == EINTR;
            exits += r.exits;
            std::unique_lock<std::mutex> g(lock_);
            if (r.console_len)
                write_in_order(g, r, console.data());
            result_.exits += r.exits;
            result_.cycles += r.cycles;
            result_.vcpu_exits[index] += r.exits;
            result_.last[index] = r;
            if (rc < 0 && !eintr)
                result_.ok = false;
            if (index == 0 && (eintr || stop_requested))
                result_.interrupted = true;
            const bool resumable = r.stop == ES_STOP_CONSOLE_FULL && !eintr;
            if (rc < 0 || !resumable || done_.load() || stop_requested) {
                exited_.insert(std::this_thread::get_id());
                return;
            }
        }
    }

    // The vCPUs share one console: each run call's piece starts at its console_seq, and goes
    // out after the pieces before it (a piece lost to a failed copy is waited for only briefly).
    void write_in_order(std::unique_lock<std::mutex>& g, const es_run& r, const char* bytes) {
        written_.wait_for(g, std::chrono::milliseconds(200),
                          [&] { return next_seq_ >= r.console_seq; });
        write_console(bytes, r.console_len, raw_);
        std::fflush(stdout);
        next_seq_ = std::max(next_seq_, r.console_seq + r.console_len);
        written_.notify_all();
    }

    const std::vector<int>& fds_;
    const std::uint64_t max_exits_;
    const bool raw_;
    std::atomic<bool> done_{false};
    std::mutex lock_; // console output, the result, exited_
    std::condition_variable written_;
    std::uint64_t next_seq_ = 0; // the console offset written up to
    std::set<std::thread::id> exited_;
    vcpu_runs result_;
};

} // namespace

const es_run& vcpu_runs::deciding() const {
    for (const es_run& r : last)
        if (r.stop != 0 && r.stop != ES_STOP_VM_STOPPED)
            return r;
    return last.front();
}

vcpu_runs run_vcpu_threads(const std::vector<int>& fds, std::uint64_t max_exits, bool raw) {
    return vcpu_group(fds, max_exits, raw).run();
}

} // namespace es::cli
