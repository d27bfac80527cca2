// What the KVM backend (kvm_backend.cpp) and its set-up, run loop, Linux board and statistics
// share (not used outside them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

// One VM with one vCPU, ready to run.
struct machine {
    fd_handle kvm, vm, vcpu, stats; // stats: -1 before Linux 5.14
    mapping ram, run_map;
    kvm_run* run() const { return reinterpret_cast<kvm_run*>(run_map.bytes()); }
};

// errno advice for KVM's ioctls (checked_ioctl's `advice` for a KVM descriptor).
std::string errno_advice(int e);

// The pieces of the backend's steps, each false after printing why: /dev/kvm and an empty VM;
// `mem_bytes` of anonymous guest RAM at GPA 0; the vCPU with its kvm_run and statistics file;
// KVM's supported CPUID (KVM_GET_SUPPORTED_CPUID) and a CPUID for the vCPU (KVM_SET_CPUID2); a
// start state.
bool create_vm(machine& m);
bool map_ram(std::uint64_t mem_bytes, machine& m);
bool create_vcpu(machine& m);
std::optional<std::vector<kvm_cpuid_entry2>> supported_cpuid(int kvm_fd);
bool set_cpuid(int vcpu, const std::vector<kvm_cpuid_entry2>& entries);
bool set_start_state(const es::guest_start_state& g, const machine& m);

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
exit_hooks image_exit_hooks(const machine& m, bool console_raw);

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
// RAM; the Linux CPUID view for the vCPU; and hooks that route the board's ports to the shared
// board model (board/pc_board.hpp) and find the vCPU halted for good.
bool create_linux_chips(const machine& m);
bool set_linux_cpuid(const machine& m);
exit_hooks linux_exit_hooks(const machine& m, serial_queue& input, bool console_raw);

// Runs the vCPU to a stop, a failure (false, printed) or SIGINT/SIGTERM (stop.interrupted);
// `user_exits` counts the exits that reached user space.
bool run_vcpu(const machine& m, const exit_hooks& hooks, stop_record& stop,
              std::uint64_t& user_exits);

// The whole binary statistics file of a vCPU (empty when KVM has none).
std::vector<kvm_stat> read_stats(int stats_fd);

} // namespace es::cli::kvm
