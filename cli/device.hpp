// /dev/exitscope and VM descriptors: thin RAII wrappers with errors that say what to do.
#pragma once

#include <cstdint>
#include <string>

#include "exitscope/abi.h"

namespace es::cli {

// An open descriptor; closing a VM descriptor destroys the VM.
class fd_handle {
  public:
    explicit fd_handle(int fd = -1) : fd_(fd) {}
    fd_handle(const fd_handle&) = delete;
    fd_handle& operator=(const fd_handle&) = delete;
    fd_handle(fd_handle&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    ~fd_handle();
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }

  private:
    int fd_;
};

// Opens /dev/exitscope or prints why not (module missing, permissions) and returns invalid.
fd_handle open_device();

// ioctl wrapper: returns the ioctl's result; on failure prints `what` with the errno's advice.
int checked_ioctl(int fd, unsigned long request, void* arg, const char* what);

std::string errno_advice(int e);

// "0x..." for addresses and qualifications in messages.
std::string hex(std::uint64_t v);

// SIGINT and SIGTERM call `handler` without SA_RESTART, so a blocking ioctl returns EINTR and
// the caller can still report what happened.
void install_interrupt_handler(void (*handler)(int));

} // namespace es::cli
