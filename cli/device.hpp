// /dev/exitscope, /dev/kvm and their descriptors: thin RAII wrappers with errors that say what to
// do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "exitscope/abi.h"
#include "text.hpp"

namespace es::cli {

// An open descriptor; closing a VM descriptor destroys the VM.
class fd_handle {
  public:
    explicit fd_handle(int fd = -1) : fd_(fd) {}
    fd_handle(const fd_handle&) = delete;
    fd_handle& operator=(const fd_handle&) = delete;
    fd_handle(fd_handle&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    fd_handle& operator=(fd_handle&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~fd_handle();
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }

  private:
    int fd_;
};

// A device node the CLI opens, and what to tell the user when it cannot.
struct device_node {
    const char* path;
    const char* tag;        // message prefix: "exitscope" or "exitscope[kvm]"
    const char* missing;    // after "PATH not found: "
    const char* permission; // inside "permission denied (...)"
};
extern const device_node exitscope_node;
extern const device_node kvm_node;

// Opens the node read-write or prints why not (driver missing, permissions) and returns invalid.
fd_handle open_device(const device_node& node = exitscope_node);

// "TAG: WHAT failed: ADVICE (errno E)" on standard error.
void report_failure(const char* tag, const char* what, int e, const std::string& advice);

// What an errno means for the user of the Exitscope device, and what to do about it.
std::string errno_advice(int e);
using errno_advice_fn = std::string (*)(int e);

// The ioctl every backend and command makes: returns its result; on failure (but EINTR) prints
// "TAG: WHAT failed: ADVICE (errno E)" with `advice` of the errno, keeping errno.
int checked_ioctl(int fd, unsigned long request, void* arg, const char* what,
                  const char* tag = "exitscope", errno_advice_fn advice = errno_advice);

// The cause of a start state the module refuses with EINVAL, when the CLI knows it (the same
// checks as the module's): e.g. an entry point real mode cannot reach. nullopt otherwise.
std::optional<std::string> explain_state_error(const es_vcpu_state& s, std::uint64_t mem_bytes);

// The cause of a refused `stat --cpu N`, from the CPU count `exitscope info` reports.
std::optional<std::string> explain_cpu_error(std::uint32_t cpu, std::uint32_t nr_cpus);

} // namespace es::cli
