// What the KVM backend's set-up, run loop and statistics share (not used outside them).
#pragma once

#include <cstddef>
#include <cstdint>
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

// errno advice for KVM's ioctls.
std::string errno_advice(int e);

// ioctl on a KVM descriptor; on failure (but EINTR) prints what failed and why, keeps errno.
int checked(int fd, unsigned long request, unsigned long arg, const char* what);
template <typename T> int checked(int fd, unsigned long request, T* arg, const char* what) {
    return checked(fd, request, reinterpret_cast<unsigned long>(arg), what);
}

// Creates the VM, maps guest RAM with the image (and page tables for long mode), creates the
// vCPU with KVM's CPUID and the start state of `o`. False after printing why.
bool set_up(const run_options& o, const std::string& image, machine& m);

// The whole binary statistics file of a vCPU (empty when KVM has none).
std::vector<kvm_stat> read_stats(int stats_fd);

} // namespace es::cli::kvm
