// /dev/exitscope and VM descriptors: thin RAII wrappers with errors that say what to do.
#pragma once

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

} // namespace es::cli
