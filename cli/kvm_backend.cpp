// `exitscope run --backend kvm`.
//
// One VM with one vCPU and no in-kernel irqchip, so every HLT exits to user space: an HLT with
// RFLAGS.IF=0 ends the run (halted), one with IF=1 simply resumes after the HLT, as under
// Exitscope (no interrupt is ever delivered to the guest). Port 0xE9 is the console, 0xF4 ends the
// run with the value, other OUTs are dropped and INs read all ones; an access outside guest RAM
// reaches user space as KVM_EXIT_MMIO and ends the run like Exitscope's EPT violation.
#include "kvm_backend.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "vmx/arg_checks.hpp"

namespace es::cli {

namespace {

constexpr const char* tag = "exitscope[kvm]";
constexpr std::uint16_t console_port = 0xe9;
constexpr std::uint16_t exit_port = 0xf4;
// Real-mode helpers KVM wants placed somewhere (used only without unrestricted guest): just below
// 4 GiB, outside any RAM a guest can have (at most 1 GiB), clear of the exit zoo's 0xFFFFF000.
constexpr std::uint64_t tss_addr = 0xfffbd000;
constexpr std::uint64_t identity_map_addr = 0xfffbc000;

// <linux/kvm.h> of Linux 6.1 declares flexible arrays with __DECLARE_FLEX_ARRAY, which in C++
// adds an empty struct (1 byte): sizeof(kvm_cpuid2) becomes 12, not 8, and so do the ioctl
// numbers built from it (KVM answers EINVAL). Hence these layouts of the fixed parts, as in C.
struct cpuid2_head {
    std::uint32_t nent;
    std::uint32_t padding;
};
static_assert(sizeof(cpuid2_head) == 8 && sizeof(kvm_cpuid_entry2) == 40);
constexpr unsigned long ioc_get_supported_cpuid = _IOWR(KVMIO, 0x05, cpuid2_head);
constexpr unsigned long ioc_set_cpuid2 = _IOW(KVMIO, 0x90, cpuid2_head);
// struct kvm_stats_desc without its name: flags, exponent, size, offset, bucket_size.
constexpr std::size_t stats_desc_fixed = 16;

// The vCPU's shared run structure, for the signal handler: immediate_exit makes a KVM_RUN that
// starts after the signal return at once with EINTR (no lost wake-up).
kvm_run* volatile signal_run = nullptr;
volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) {
    interrupted = 1;
    if (kvm_run* r = signal_run)
        r->immediate_exit = 1;
}

template <typename T> T load_le(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// An mmap'ed region, unmapped on scope exit.
class mapping {
  public:
    mapping(void* p, std::size_t len) : p_(p), len_(len) {}
    mapping(const mapping&) = delete;
    mapping& operator=(const mapping&) = delete;
    ~mapping() {
        if (p_ != MAP_FAILED)
            munmap(p_, len_);
    }
    bool valid() const { return p_ != MAP_FAILED; }
    std::uint8_t* bytes() const { return static_cast<std::uint8_t*>(p_); }

  private:
    void* p_;
    std::size_t len_;
};

std::string kvm_errno_advice(int e) {
    switch (e) {
    case EBUSY:
        return "busy: another hypervisor holds VMX (an Exitscope VM, or exitscope.ko loaded by a "
               "version that keeps VMX on while loaded: close its VMs or rmmod exitscope)";
    case EOPNOTSUPP:
    case ENODEV:
        return "KVM cannot run VMs on this CPU (no VMX/SVM, or it is disabled)";
    default:
        return errno_advice(e);
    }
}

// ioctl on a KVM descriptor; on failure prints what failed and why, keeps errno.
int kvm_ioctl(int fd, unsigned long request, unsigned long arg, const char* what) {
    const int r = ioctl(fd, request, arg);
    if (r < 0 && errno != EINTR) {
        const int e = errno;
        std::fprintf(stderr, "%s: %s failed: %s (errno %d)\n", tag, what,
                     kvm_errno_advice(e).c_str(), e);
        errno = e;
    }
    return r;
}
template <typename T> int kvm_ioctl(int fd, unsigned long request, T* arg, const char* what) {
    return kvm_ioctl(fd, request, reinterpret_cast<unsigned long>(arg), what);
}

fd_handle open_kvm() {
    const int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd >= 0)
        return fd_handle(fd);
    const int e = errno;
    if (e == ENOENT || e == ENODEV || e == ENXIO)
        std::fprintf(stderr,
                     "%s: /dev/kvm not found: KVM is not loaded.\n"
                     "  Load it as root with: modprobe kvm_intel   (or insmod irqbypass.ko, "
                     "kvm.ko, kvm-intel.ko)\n",
                     tag);
    else if (e == EACCES || e == EPERM)
        std::fprintf(stderr,
                     "%s: cannot open /dev/kvm: permission denied (run as root or join the kvm "
                     "group)\n",
                     tag);
    else
        std::fprintf(stderr, "%s: cannot open /dev/kvm: %s\n", tag, std::strerror(e));
    return fd_handle();
}

// KVM_GET_SUPPORTED_CPUID into KVM_SET_CPUID2, growing the buffer while KVM says E2BIG.
bool set_supported_cpuid(int kvm, int vcpu) {
    for (std::uint32_t n = 64; n <= 4096; n *= 2) {
        std::vector<std::uint8_t> buf(sizeof(cpuid2_head) + n * sizeof(kvm_cpuid_entry2));
        auto* c = reinterpret_cast<cpuid2_head*>(buf.data());
        c->nent = n;
        if (ioctl(kvm, ioc_get_supported_cpuid, c) < 0) {
            if (errno == E2BIG)
                continue;
            const int e = errno;
            std::fprintf(stderr, "%s: reading KVM's supported CPUID failed: %s (errno %d)\n", tag,
                         kvm_errno_advice(e).c_str(), e);
            return false;
        }
        return kvm_ioctl(vcpu, ioc_set_cpuid2, c, "setting the guest's CPUID") == 0;
    }
    std::fprintf(stderr, "%s: KVM_GET_SUPPORTED_CPUID wants more than 4096 entries\n", tag);
    return false;
}

// The whole binary statistics file of a vCPU (empty when KVM has none).
std::vector<kvm_stat> read_stats(int stats_fd) {
    std::vector<kvm_stat> out;
    if (stats_fd < 0)
        return out;
    std::vector<std::uint8_t> buf;
    constexpr std::size_t chunk = 4096, cap = 1u << 20;
    while (buf.size() < cap) {
        const std::size_t have = buf.size();
        buf.resize(have + chunk);
        const ssize_t n = pread(stats_fd, buf.data() + have, chunk, static_cast<off_t>(have));
        if (n <= 0) {
            buf.resize(have);
            break;
        }
        buf.resize(have + static_cast<std::size_t>(n));
    }
    if (!parse_kvm_stats(buf.data(), buf.size(), out))
        out.clear();
    return out;
}

std::string internal_error_text(const kvm_run& r) {
    std::string s = "KVM_EXIT_INTERNAL_ERROR, suberror " + std::to_string(r.internal.suberror);
    switch (r.internal.suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
        s += " (instruction emulation failed)";
        break;
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        s += " (exception while delivering an exception)";
        break;
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        s += " (exit during event delivery)";
        break;
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        s += " (exit reason KVM does not handle)";
        break;
    default:
        break;
    }
    const std::uint32_t n = r.internal.ndata < 16 ? r.internal.ndata : 16;
    for (std::uint32_t i = 0; i < n; ++i)
        s += (i ? " " : ", data ") + hex(r.internal.data[i]);
    return s;
}

} // namespace

// ---- pure helpers ----

kvm_segment to_kvm_segment(const es::segment_state& s) {
    kvm_segment k{};
    k.base = s.base;
    k.limit = s.limit;
    k.selector = s.selector;
    k.type = static_cast<std::uint8_t>(s.access & 0xf);
    k.s = static_cast<std::uint8_t>((s.access >> 4) & 1);
    k.dpl = static_cast<std::uint8_t>((s.access >> 5) & 3);
    k.present = static_cast<std::uint8_t>((s.access >> 7) & 1);
    k.avl = static_cast<std::uint8_t>((s.access >> 12) & 1);
    k.l = static_cast<std::uint8_t>((s.access >> 13) & 1);
    k.db = static_cast<std::uint8_t>((s.access >> 14) & 1);
    k.g = static_cast<std::uint8_t>((s.access >> 15) & 1);
    k.unusable = static_cast<std::uint8_t>((s.access >> 16) & 1);
    return k;
}

void fill_kvm_sregs(const es::guest_start_state& g, kvm_sregs& s) {
    s.cs = to_kvm_segment(g.cs);
    s.ds = to_kvm_segment(g.ds);
    s.es = to_kvm_segment(g.es);
    s.fs = to_kvm_segment(g.fs);
    s.gs = to_kvm_segment(g.gs);
    s.ss = to_kvm_segment(g.ss);
    s.tr = to_kvm_segment(g.tr);
    s.ldt = to_kvm_segment(g.ldtr);
    // Exitscope's VMCS: GDTR and IDTR base 0, limit 0xFFFF (the real-mode IVT).
    s.gdt = kvm_dtable{0, 0xffff, {0, 0, 0}};
    s.idt = kvm_dtable{0, 0xffff, {0, 0, 0}};
    s.cr0 = g.cr0_shadow;
    s.cr2 = 0;
    s.cr3 = g.cr3;
    s.cr4 = g.cr4_shadow;
    s.cr8 = 0;
    s.efer = g.efer;
}

void fill_kvm_regs(const es::guest_start_state& g, kvm_regs& r) {
    r = kvm_regs{};
    r.rip = g.rip;
    r.rsp = g.rsp;
    r.rflags = g.rflags;
}

bool parse_kvm_stats(const std::uint8_t* data, std::size_t len, std::vector<kvm_stat>& out) {
    out.clear();
    if (!data || len < sizeof(kvm_stats_header))
        return false;
    const auto h = load_le<kvm_stats_header>(data);
    const std::uint64_t desc_size = stats_desc_fixed + std::uint64_t{h.name_size};
    if (h.name_size == 0 || h.desc_offset > len ||
        std::uint64_t{h.num_desc} * desc_size > len - h.desc_offset)
        return false;
    for (std::uint32_t i = 0; i < h.num_desc; ++i) {
        const std::uint8_t* d = data + h.desc_offset + i * desc_size;
        const auto size = load_le<std::uint16_t>(d + 6);
        const auto offset = load_le<std::uint32_t>(d + 8);
        const char* name = reinterpret_cast<const char*>(d + stats_desc_fixed);
        const std::size_t name_len = strnlen(name, h.name_size);
        const std::uint64_t at = std::uint64_t{h.data_offset} + offset;
        if (at > len || std::uint64_t{size} * 8 > len - at)
            return false;
        if (size != 1)
            continue; // histograms
        out.push_back({std::string(name, name_len), load_le<std::uint64_t>(data + at)});
    }
    return true;
}

std::string format_kvm_stats(const std::vector<kvm_stat>& stats) {
    static const char* const wanted[] = {"exits",      "io_exits",  "halt_exits",
                                         "mmio_exits", "irq_exits", "signal_exits"};
    std::string s;
    for (const char* w : wanted)
        for (const auto& st : stats)
            if (st.name == w) {
                s += (s.empty() ? "" : ", ") + st.name + " " + std::to_string(st.value);
                break;
            }
    return s;
}

std::string kvm_exit_name(std::uint32_t reason) {
    switch (reason) {
    case KVM_EXIT_UNKNOWN:
        return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION:
        return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO:
        return "KVM_EXIT_IO";
    case KVM_EXIT_HYPERCALL:
        return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_DEBUG:
        return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT:
        return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO:
        return "KVM_EXIT_MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        return "KVM_EXIT_IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN:
        return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY:
        return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR:
        return "KVM_EXIT_INTR";
    case KVM_EXIT_INTERNAL_ERROR:
        return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT:
        return "KVM_EXIT_SYSTEM_EVENT";
    case KVM_EXIT_X86_RDMSR:
        return "KVM_EXIT_X86_RDMSR";
    case KVM_EXIT_X86_WRMSR:
        return "KVM_EXIT_X86_WRMSR";
    default:
        return "KVM exit " + std::to_string(reason);
    }
}

stop_summary summarize_kvm_stop(const kvm_stop& s, std::uint64_t user_exits,
                                const std::vector<kvm_stat>& stats, bool was_interrupted) {
    const std::string counted = format_kvm_stats(stats);
    const std::string tail = ": " + std::to_string(user_exits) + " exits seen by user space" +
                             (counted.empty() ? "" : " (KVM counted: " + counted + ")");
    const std::string head = std::string(tag) + ": ";
    if (was_interrupted)
        return {head + "run interrupted by a signal at rip " + hex(s.rip) + tail,
                status_interrupted};
    switch (s.stop) {
    case ES_STOP_HALTED:
        return {head + "guest halted" + tail, 0};
    case ES_STOP_EXIT_REQUEST:
        return {head + "guest exited with code " + std::to_string(s.exit_code) + tail,
                static_cast<int>(s.exit_code & 0xff)};
    case ES_STOP_TRIPLE_FAULT:
        return {head + "guest triple-faulted at rip " + hex(s.rip) + " (" + s.detail + ")" + tail,
                status_triple_fault};
    case ES_STOP_EPT_VIOLATION:
        return {head + "guest accessed guest-physical " + hex(s.gpa) + ", outside its RAM (" +
                    s.detail + ") at rip " + hex(s.rip) + tail,
                status_ept_violation};
    case ES_STOP_ENTRY_FAILED:
        return {head + "VM entry failed: " + s.detail + tail, status_entry_failed};
    case ES_STOP_UNHANDLED:
    default:
        return {head + "unhandled exit " + s.detail + " at rip " + hex(s.rip) + tail,
                status_unhandled};
    }
}

// ---- the runner ----

int run_kvm(const run_options& o) {
    if (o.max_exits) {
        std::fprintf(stderr,
                     "%s: --max-exits is not supported with --backend kvm (KVM handles most exits "
                     "in the kernel, out of user space's sight)\n",
                     tag);
        return status_usage;
    }
    std::ifstream in(o.image, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "%s: cannot read image %s\n", tag, o.image.c_str());
        return status_usage;
    }
    const std::vector<char> image((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    if (image.empty()) {
        std::fprintf(stderr, "%s: image %s is empty\n", tag, o.image.c_str());
        return status_usage;
    }

    // The same argument checks as the Exitscope module, with the same messages.
    es_vm_create create{};
    create.size = sizeof create;
    create.mem_bytes = o.mem_bytes;
    es_vm_load load{};
    load.size = sizeof load;
    load.gpa = o.load;
    load.data = reinterpret_cast<std::uintptr_t>(image.data());
    load.len = image.size();
    es_vcpu_state state{};
    state.size = sizeof state;
    state.mode = o.mode;
    state.entry = *o.entry;
    const struct {
        int err;
        const char* what;
    } checks[] = {{es::check_create(create), "creating the VM"},
                  {es::check_load(load, o.mem_bytes), "loading the image"},
                  {es::check_state(state, o.mem_bytes), "setting the start state"}};
    for (const auto& c : checks)
        if (c.err) {
            std::fprintf(stderr, "%s: %s failed: %s (errno %d)\n", tag, c.what,
                         errno_advice(-c.err).c_str(), -c.err);
            return status_error;
        }

    const fd_handle kvm = open_kvm();
    if (!kvm.valid())
        return status_error;
    const int api = ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        std::fprintf(stderr, "%s: /dev/kvm speaks API version %d, this CLI needs %d\n", tag, api,
                     KVM_API_VERSION);
        return status_error;
    }
    const int vmfd = kvm_ioctl(kvm.get(), KVM_CREATE_VM, 0ul, "creating the KVM VM");
    if (vmfd < 0)
        return status_error;
    const fd_handle vm(vmfd);
    // Ignored by KVM with unrestricted guest (EPT): then nothing is mapped there.
    ioctl(vm.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(tss_addr));
    std::uint64_t idmap = identity_map_addr;
    ioctl(vm.get(), KVM_SET_IDENTITY_MAP_ADDR, &idmap);

    const mapping ram(mmap(nullptr, o.mem_bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
                      o.mem_bytes);
    if (!ram.valid()) {
        std::fprintf(stderr, "%s: cannot map %llu bytes of guest RAM: %s (lower --mem)\n", tag,
                     static_cast<unsigned long long>(o.mem_bytes), std::strerror(errno));
        return status_error;
    }
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = o.mem_bytes;
    region.userspace_addr = reinterpret_cast<std::uintptr_t>(ram.bytes());
    if (kvm_ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region, "mapping guest RAM") < 0)
        return status_error;
    std::memcpy(ram.bytes() + o.load, image.data(), image.size());
    const auto mode = static_cast<es::guest_mode>(o.mode);
    if (mode == es::guest_mode::long64)
        es::build_identity_tables(o.mem_bytes, [&](std::uint64_t gpa, std::uint64_t v) {
            std::memcpy(ram.bytes() + gpa, &v, sizeof v);
        });

    const int vcpufd = kvm_ioctl(vm.get(), KVM_CREATE_VCPU, 0ul, "creating the vCPU");
    if (vcpufd < 0)
        return status_error;
    const fd_handle vcpu(vcpufd);
    const int run_size = ioctl(kvm.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < static_cast<int>(sizeof(kvm_run))) {
        std::fprintf(stderr, "%s: KVM_GET_VCPU_MMAP_SIZE failed: %s\n", tag, std::strerror(errno));
        return status_error;
    }
    const mapping run_map(mmap(nullptr, static_cast<std::size_t>(run_size), PROT_READ | PROT_WRITE,
                               MAP_SHARED, vcpu.get(), 0),
                          static_cast<std::size_t>(run_size));
    if (!run_map.valid()) {
        std::fprintf(stderr, "%s: cannot map the vCPU's kvm_run: %s\n", tag, std::strerror(errno));
        return status_error;
    }
    auto* run = reinterpret_cast<kvm_run*>(run_map.bytes());

    if (!set_supported_cpuid(kvm.get(), vcpu.get()))
        return status_error;
    const es::guest_start_state g = es::initial_guest_state(mode, *o.entry, 0, o.mem_bytes, 0, 0);
    kvm_sregs sregs{};
    if (kvm_ioctl(vcpu.get(), KVM_GET_SREGS, &sregs, "reading the vCPU's special registers") < 0)
        return status_error;
    fill_kvm_sregs(g, sregs);
    if (kvm_ioctl(vcpu.get(), KVM_SET_SREGS, &sregs, "setting the start state (sregs)") < 0)
        return status_error;
    kvm_regs regs{};
    fill_kvm_regs(g, regs);
    if (kvm_ioctl(vcpu.get(), KVM_SET_REGS, &regs, "setting the start state (regs)") < 0)
        return status_error;
    const fd_handle stats(ioctl(vcpu.get(), KVM_GET_STATS_FD, 0)); // -1 before Linux 5.14

    install_interrupt_handler(on_signal);
    signal_run = run;
    struct forget_run {
        ~forget_run() { signal_run = nullptr; }
    } forget;
    if (interrupted)
        run->immediate_exit = 1;
    kvm_stop stop;
    std::uint64_t user_exits = 0;
    bool was_interrupted = false;
    auto current_rip = [&] {
        kvm_regs r{};
        return ioctl(vcpu.get(), KVM_GET_REGS, &r) == 0 ? r.rip : 0;
    };
    while (!stop.stop) {
        if (ioctl(vcpu.get(), KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                if (interrupted) {
                    was_interrupted = true;
                    break;
                }
                continue;
            }
            const int e = errno;
            std::fprintf(stderr, "%s: running the guest (KVM_RUN) failed: %s (errno %d)\n", tag,
                         kvm_errno_advice(e).c_str(), e);
            return status_error;
        }
        ++user_exits;
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            std::uint8_t* data = run_map.bytes() + run->io.data_offset;
            const std::size_t bytes = std::size_t{run->io.size} * run->io.count;
            if (run->io.direction == KVM_EXIT_IO_IN) {
                std::memset(data, 0xff, bytes); // unknown ports read as all ones
            } else if (run->io.port == exit_port) {
                std::uint32_t v = 0;
                std::memcpy(&v, data, run->io.size <= 4 ? run->io.size : 4);
                stop.stop = ES_STOP_EXIT_REQUEST;
                stop.exit_code = v;
            } else if (run->io.port == console_port) {
                std::fwrite(data, 1, bytes, stdout);
            }
            break;
        }
        case KVM_EXIT_HLT: {
            kvm_regs r{};
            if (kvm_ioctl(vcpu.get(), KVM_GET_REGS, &r, "reading registers after HLT") < 0)
                return status_error;
            // IF=1: nothing will ever interrupt the HLT; resume after it, as Exitscope does.
            if (!(r.rflags & sdm::rflags::intf)) {
                stop.stop = ES_STOP_HALTED;
                stop.rip = r.rip;
            }
            break;
        }
        case KVM_EXIT_SHUTDOWN:
            stop.stop = ES_STOP_TRIPLE_FAULT;
            stop.detail = "KVM_EXIT_SHUTDOWN";
            stop.rip = current_rip();
            break;
        case KVM_EXIT_MMIO:
            stop.stop = ES_STOP_EPT_VIOLATION;
            stop.gpa = run->mmio.phys_addr;
            stop.detail = std::string("KVM_EXIT_MMIO, ") + (run->mmio.is_write ? "write" : "read") +
                          " of " + std::to_string(run->mmio.len) + " bytes";
            stop.rip = current_rip();
            break;
        case KVM_EXIT_FAIL_ENTRY:
            stop.stop = ES_STOP_ENTRY_FAILED;
            stop.detail = "KVM_EXIT_FAIL_ENTRY, hardware entry failure reason " +
                          hex(run->fail_entry.hardware_entry_failure_reason);
            stop.rip = current_rip();
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            stop.stop = ES_STOP_UNHANDLED;
            stop.detail = internal_error_text(*run);
            stop.rip = current_rip();
            break;
        case KVM_EXIT_INTR: // a signal: the loop's next KVM_RUN returns EINTR at once
            break;
        default:
            stop.stop = ES_STOP_UNHANDLED;
            stop.detail = kvm_exit_name(run->exit_reason);
            stop.rip = current_rip();
            break;
        }
    }
    std::fflush(stdout);
    if (was_interrupted)
        stop.rip = current_rip();
    const stop_summary s =
        summarize_kvm_stop(stop, user_exits, read_stats(stats.get()), was_interrupted);
    std::fprintf(stderr, "%s\n", s.line.c_str());
    return s.status;
}

} // namespace es::cli
