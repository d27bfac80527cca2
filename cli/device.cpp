// Device access and error reporting for the CLI.
#include "device.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmx/pure/arg_checks.hpp"

namespace es::cli {

namespace {
// Real mode addresses 20 bits (segment * 16 + offset, without the A20 wrap-around).
constexpr std::uint64_t real_mode_limit = 1ull << 20;
} // namespace

const device_node exitscope_node = {
    ES_DEVICE_PATH, "exitscope",
    "the exitscope module is not loaded.\n"
    "  Load it as root with: insmod exitscope.ko   (or run: make demo)",
    "it is mode 0600: run as root"};

const device_node kvm_node = {
    "/dev/kvm", "exitscope[kvm]",
    "KVM is not loaded.\n"
    "  Load it as root with: modprobe kvm_intel   (or insmod irqbypass.ko, kvm.ko, kvm-intel.ko)",
    "run as root or join the kvm group"};

fd_handle::~fd_handle() {
    if (fd_ >= 0)
        close(fd_);
}

fd_handle open_device(const device_node& node) {
    const int fd = open(node.path, O_RDWR | O_CLOEXEC);
    if (fd >= 0)
        return fd_handle(fd);
    const int e = errno;
    if (e == ENOENT || e == ENODEV || e == ENXIO)
        std::fprintf(stderr, "%s: %s not found: %s\n", node.tag, node.path, node.missing);
    else if (e == EACCES || e == EPERM)
        std::fprintf(stderr, "%s: cannot open %s: permission denied (%s)\n", node.tag, node.path,
                     node.permission);
    else
        std::fprintf(stderr, "%s: cannot open %s: %s\n", node.tag, node.path, std::strerror(e));
    return fd_handle();
}

void report_failure(const char* tag, const char* what, int e, const std::string& advice) {
    std::fprintf(stderr, "%s: %s failed: %s (errno %d)\n", tag, what, advice.c_str(), e);
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

std::optional<std::string> explain_state_error(const es_vcpu_state& s, std::uint64_t mem_bytes) {
    if (es::check_state(s, mem_bytes) != -EINVAL)
        return std::nullopt;
    if (s.mode == ES_MODE_REAL && s.entry >= real_mode_limit)
        return "real mode reaches only the first MiB: --entry " + hex(s.entry) +
               " is above it (enter below " + hex(real_mode_limit) +
               ", or use --mode protected or long)";
    return std::nullopt;
}

std::optional<std::string> explain_cpu_error(std::uint32_t cpu, std::uint32_t nr_cpus) {
    if (cpu < nr_cpus)
        return std::nullopt;
    return "no such CPU " + std::to_string(cpu) + ": this machine has " + std::to_string(nr_cpus) +
           (nr_cpus == 1 ? " CPU (cpu 0)"
                         : " CPUs (cpu 0 to " + std::to_string(nr_cpus - 1) + ")") +
           "; exitscope info lists them";
}

int checked_ioctl(int fd, unsigned long request, void* arg, const char* what, const char* tag,
                  errno_advice_fn advice) {
    const int r = ioctl(fd, request, arg);
    if (r < 0 && errno != EINTR) {
        const int e = errno;
        report_failure(tag, what, e, advice(e));
        errno = e;
    }
    return r;
}

} // namespace es::cli
