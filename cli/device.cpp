// Device access and error reporting for the CLI.
#include "device.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace es::cli {

fd_handle::~fd_handle() {
    if (fd_ >= 0)
        close(fd_);
}

fd_handle open_device() {
    const int fd = open(ES_DEVICE_PATH, O_RDWR | O_CLOEXEC);
    if (fd >= 0)
        return fd_handle(fd);
    const int e = errno;
    if (e == ENOENT || e == ENODEV || e == ENXIO)
        std::fprintf(stderr,
                     "exitscope: %s not found: the exitscope module is not loaded.\n"
                     "  Load it as root with: insmod exitscope.ko   (or run: make demo)\n",
                     ES_DEVICE_PATH);
    else if (e == EACCES || e == EPERM)
        std::fprintf(stderr,
                     "exitscope: cannot open %s: permission denied (it is mode 0600: "
                     "run as root)\n",
                     ES_DEVICE_PATH);
    else
        std::fprintf(stderr, "exitscope: cannot open %s: %s\n", ES_DEVICE_PATH, std::strerror(e));
    return fd_handle();
}

std::string errno_advice(int e) {
    switch (e) {
    case EINVAL:
        return "invalid argument (an ABI mismatch between this CLI and the module, or a bad value)";
    case ERANGE:
        return "value out of range (guest RAM must be 64 KiB to 1 GiB)";
    case ENOSPC:
        return "does not fit in guest RAM (raise --mem or lower --load/--entry)";
    case ENOMEM:
        return "out of kernel memory (lower --mem)";
    case EFAULT:
        return "bad buffer address";
    case EINTR:
        return "interrupted by a signal";
    case EBUSY:
        return "VMX is in use by another hypervisor (kvm_intel running a VM?): stop its VMs and "
               "try again";
    case ESHUTDOWN:
        return "the machine is shutting down: VMX was turned off for the reboot";
    case ENOTTY:
        return "not an exitscope descriptor, or the module is older than this CLI";
    default:
        return std::strerror(e);
    }
}

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

void install_interrupt_handler(void (*handler)(int)) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int checked_ioctl(int fd, unsigned long request, void* arg, const char* what) {
    const int r = ioctl(fd, request, arg);
    if (r < 0 && errno != EINTR) {
        const int e = errno;
        std::fprintf(stderr, "exitscope: %s failed: %s (errno %d)\n", what, errno_advice(e).c_str(),
                     e);
        errno = e;
    }
    return r;
}

} // namespace es::cli
