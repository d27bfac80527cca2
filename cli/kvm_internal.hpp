// What the KVM backend (kvm_backend.cpp) and its set-up, run loop, Linux board and statistics
// share (not used outside them).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <vector>

#include "device.hpp"
#include "kvm_backend.hpp"

namespace es::cli::kvm {

inline constexpr const char* tag = "exitscope[kvm]";

// An mmap'ed region, unmapped on destruction.
class mapping {
  public:
    mapping() = default;
    mapping(const mapping&) = delete;
    mapping& operator=(const mapping&) = delete;
    ~mapping() {
        if (valid())
            munmap(p_, len_);
    }
    // Takes over mmap's result (MAP_FAILED: stays invalid).
    void reset(void* p, std::size_t len) {
        p_ = p;
        len_ = len;
    }
    bool valid() const { return p_ != MAP_FAILED; }
    std::uint8_t* bytes() const { return static_cast<std::uint8_t*>(p_); }

  private:
    void* p_ = MAP_FAILED;
    std::size_t len_ = 0;
};

// One vCPU: its descriptor, its statistics file (-1 before Linux 5.14) and its kvm_run.
struct vcpu {
    std::uint32_t index = 0; // KVM's vCPU id, which is also its APIC ID
    fd_handle fd, stats;
    mapping run_map;
    kvm_run* run() const { return reinterpret_cast<kvm_run*>(run_map.bytes()); }
};

// One VM with its vCPUs (vCPU 0 the bootstrap processor), ready to run.
struct machine {
    fd_handle kvm, vm;
    mapping ram;
    std::vector<std::unique_ptr<vcpu>> vcpus; // each stays where it is: kvm_run is mapped
    const vcpu& bsp() const { return *vcpus.front(); }
};

// errno advice for KVM's ioctls (checked_ioctl's `advice` for a KVM descriptor).
std::string errno_advice(int e);

// The pieces of the backend's steps, each false after printing why: /dev/kvm and an empty VM;
// `mem_bytes` of anonymous guest RAM at GPA 0; the next vCPU (id = vcpus.size()) with its kvm_run
// and statistics file;
// KVM's supported CPUID (KVM_GET_SUPPORTED_CPUID) and a CPUID for the vCPU (KVM_SET_CPUID2); a
// start state.
bool create_vm(machine& m);
bool map_ram(std::uint64_t mem_bytes, machine& m);
bool create_vcpu(machine& m);
std::optional<std::vector<kvm_cpuid_entry2>> supported_cpuid(int kvm_fd);
bool set_cpuid(int vcpu, const std::vector<kvm_cpuid_entry2>& entries);
bool set_start_state(const es::guest_start_state& g, const vcpu& v);

// How a run treats what reaches user space, besides the common exits (HLT, shutdown, MMIO,
// failures). `io` handles KVM_EXIT_IO; `tick`, when set, runs every tick_ms while the guest runs
// (a SIGALRM interval timer makes a blocked KVM_RUN return), for what KVM never reports, such as
// a vCPU halted for good inside an in-kernel irqchip. Both set `stop` to end the run and return
// false after a failure they printed.
struct exit_hooks {
    std::function<bool(stop_record&)> io;
    std::function<bool(stop_record&)> tick;
    unsigned tick_ms = 500;
};

// A toy image's ports (kvm_run.cpp): 0xE9 the console, 0xF4 the exit request, the rest dropped
// or all ones.
exit_hooks image_exit_hooks(const vcpu& v, bool console_raw);

// The toy port conventions for `count` accesses of `size` bytes at `data` (a string I/O exit's
// elements): 0xE9 the console, 0xF4 the exit request (from the first element), other writes
// dropped, reads all ones. Toy images use them for every port, Linux guests for the ports the
// board does not claim (as the module's handlers_io.cpp does).
void port_conventions(bool in, std::uint16_t port, std::uint8_t* data, std::uint32_t size,
                      std::uint32_t count, bool console_raw, stop_record& stop);

// Serial input for a Linux guest's COM1: offer_input's bytes, from the reader thread to the
// vCPU's loop, which moves them into the UART as its FIFO has room.
struct serial_queue {
    static constexpr std::size_t capacity = ES_INPUT_RING_BYTES; // as the module's ring
    std::mutex lock;
    std::string bytes;
};

// A Linux guest's board (kvm_linux.cpp): KVM's in-kernel irqchip and PIT, created before guest
// RAM; the Linux CPUID view for vCPU `v` of `count`; the board model (board/pc_board.hpp) that
// every vCPU's port I/O reaches, under one lock; and a vCPU's hooks that route the board's ports
// to it and find the vCPU halted for good (`done`: halted with interrupts off, or never started
// by a SIPI, which a multi-vCPU run's loop reads to end the guest once all are).
struct linux_board;
bool create_linux_chips(const machine& m);
bool set_linux_cpuid(const machine& m, const vcpu& v, std::uint32_t count);
std::shared_ptr<linux_board> make_linux_board(const machine& m, serial_queue& input,
                                              bool console_raw);
exit_hooks linux_exit_hooks(const std::shared_ptr<linux_board>& board, const vcpu& v,
                            std::atomic<bool>* done = nullptr);

// Runs the vCPU to a stop, a failure (false, printed) or SIGINT/SIGTERM (stop.interrupted);
// `user_exits` counts the exits that reached user space.
bool run_vcpu(const vcpu& v, const exit_hooks& hooks, stop_record& stop, std::uint64_t& user_exits);

// Several vCPUs (kvm_smp.cpp): a host thread per vCPU, each with run_loop; the calling thread
// keeps the signals, kicks every vCPU when one stops the guest, SIGINT/SIGTERM arrives or input
// waits (`input_waiting`), ticks them every hooks' tick_ms, and joins them. `stop` is the first
// vCPU's stop; `user_exits` the sum. False after a failure (printed).
bool run_vcpus(const machine& m, const std::vector<exit_hooks>& hooks,
               const std::vector<std::atomic<bool>*>& done,
               const std::function<bool()>& input_waiting, stop_record& stop,
               std::uint64_t& user_exits);

// The loop of one vCPU (kvm_run.cpp): KVM_RUN until a stop, SIGINT/SIGTERM (stop.interrupted)
// or, when given, `vm_stop` set by another vCPU's stop (stop.interrupted too); -1 after a
// failure (printed), else 0.
int run_loop(const vcpu& v, const exit_hooks& hooks, stop_record& stop, std::uint64_t& user_exits,
             const std::atomic<bool>* vm_stop = nullptr);
// The RIP of `v` (0 when it cannot be read).
std::uint64_t current_rip(const vcpu& v);
// The stop handler's hook for the vCPUs in `runs` (KVM's immediate_exit on each, so a KVM_RUN
// entered after the signal returns at once); cleared by forget_kicked_runs.
void kick_runs_on_stop(const std::vector<kvm_run*>& runs);
void forget_kicked_runs();

// The whole binary statistics file of a vCPU (empty when KVM has none).
std::vector<kvm_stat> read_stats(int stats_fd);
// Every vCPU's statistics, summed by name (in vCPU 0's order).
std::vector<kvm_stat> read_all_stats(const machine& m);

} // namespace es::cli::kvm
