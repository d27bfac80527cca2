// The ioctl matrix's harness: results, RAII helpers, ioctl wrappers, guest images and the
// matrix of cases (tests/ioctl/harness.cpp runs it; the cases_*.cpp files fill it, one group of
// ioctls each).
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <iterator>
#include <pthread.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include "exitscope/abi.h"

namespace ioctl_matrix {

using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr u64 kernel_address = 0xffff800000000000ull;
constexpr u64 page = 4096;
constexpr u64 vm_mem = ES_GUEST_MEM_MIN; // the shared VM's RAM
constexpr u32 hlt_reason = 12;           // basic exit reason HLT

// What one case observed: the errno of the ioctl under test (0: it succeeded) and, when the
// errno was right but something else was not, a description of the problem.
struct got {
    int err = 0;
    std::string problem;
};

got problem(std::string why);
std::string errno_text(int e);

struct case_def {
    std::string name;
    std::vector<int> want; // acceptable errnos, 0 = success
    std::function<got()> run;
};

struct fd_guard {
    int fd = -1;
    fd_guard() = default;
    explicit fd_guard(int f) : fd(f) {}
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    fd_guard(fd_guard&& o) noexcept : fd(o.fd) { o.fd = -1; }
    fd_guard& operator=(fd_guard&& o) noexcept {
        reset();
        fd = o.fd;
        o.fd = -1;
        return *this;
    }
    ~fd_guard() { reset(); }
    void reset() {
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
};

// An anonymous mapping of `pages` pages; `mapped` of them stay mapped (the rest are unmapped
// again, so the range ends in a hole), and it may be made read-only.
struct mapping {
    std::uint8_t* p = nullptr;
    std::size_t len = 0;
    mapping(std::size_t pages, std::size_t mapped, bool read_only = false, std::uint8_t fill = 0) {
        void* m =
            mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            perror("ioctl_matrix: mmap");
            std::exit(2);
        }
        p = static_cast<std::uint8_t*>(m);
        std::memset(p, fill, pages * page);
        if (mapped < pages)
            munmap(p + mapped * page, (pages - mapped) * page);
        len = mapped * page;
        if (read_only)
            mprotect(p, len, PROT_READ);
    }
    mapping(const mapping&) = delete;
    mapping& operator=(const mapping&) = delete;
    ~mapping() {
        if (len)
            munmap(p, len);
    }
    u64 addr(std::size_t off = 0) const { return reinterpret_cast<u64>(p + off); }
    std::uint8_t* end() const { return p + len; }
};

// An address nothing is mapped at (a page mapped and unmapped again just now).
u64 unmapped_address();

// ioctl with an integer argument: errno or 0; the return value in *ret.
int raw_ioctl(int fd, unsigned long req, u64 arg, long* ret = nullptr);

template <typename T> int xioctl(int fd, unsigned long req, T& arg, long* ret = nullptr) {
    return raw_ioctl(fd, req, reinterpret_cast<u64>(&arg), ret);
}

template <typename T> T sized() {
    T v{};
    v.size = sizeof(T);
    return v;
}

es_vm_create create_args(u64 mem);
// Create a VM; the descriptor (or -1) in *out, errno as the result.
int create_vm(int dev, u64 mem, fd_guard* out);
int load(int vm, u64 gpa, const void* data, u64 len);
int set_state(int vm, u32 mode, u64 entry, u64 stack = 0, u64 boot_params = 0);
int run(int vm, es_run* r, void* console = nullptr, u32 cap = 0);

// Guest images (real mode, loaded at 0x1000 over RAM full of HLT, so any resumption halts).
inline constexpr std::uint8_t halt_image[] = {0xFA, 0xF4}; // cli; hlt
// cli; mov cx,4; mov al,'A'; l: out 0xE9,al; inc al; loop l; hlt: prints "ABCD".
inline constexpr std::uint8_t abcd_image[] = {0xFA, 0xB9, 0x04, 0x00, 0xB0, 0x41, 0xE6,
                                              0xE9, 0xFE, 0xC0, 0xE2, 0xFA, 0xF4};
inline constexpr std::uint8_t spin_image[] = {0xFA, 0xEB, 0xFE}; // cli; jmp $
inline constexpr u64 image_gpa = 0x1000;

// A VM with `mem` bytes of HLT and `image` at 0x1000, real mode: errno of the first failure.
int make_guest(int dev, u64 mem, const std::uint8_t* image, std::size_t len, fd_guard* vm);

// VMs of several vCPUs (cases_vcpus.cpp): vCPU 1's image goes to 0x2000.
inline constexpr u64 second_image_gpa = 0x2000;
// A VM of `vcpus` vCPUs over vm_mem bytes of HLT, halt_image at 0x1000 and `second` at 0x2000.
int make_smp_vm(int dev, u32 vcpus, const std::uint8_t* second, std::size_t len, fd_guard* vm);
// vCPU `index`'s descriptor (or -1) in *out; errno as the result.
int make_vcpu(int vm, u32 index, fd_guard* out);
int vcpu_state(int vcpu, u64 entry);
int vcpu_run(int vcpu, es_run* r);

// A two-vCPU VM (make_smp_vm) with both descriptors, vCPU 0 at halt_image and vCPU 1 at
// `second`; errno of the first failure.
struct two_vcpus {
    fd_guard vm, c0, c1;
    int make(int dev, const std::uint8_t* second, std::size_t len) {
        if (int e = make_smp_vm(dev, 2, second, len, &vm))
            return e;
        if (int e = make_vcpu(vm.fd, 0, &c0))
            return e;
        if (int e = make_vcpu(vm.fd, 1, &c1))
            return e;
        if (int e = vcpu_state(c0.fd, image_gpa))
            return e;
        return vcpu_state(c1.fd, second_image_gpa);
    }
    // Both run, vCPU 1 on a thread of its own that starts `lead` earlier: errno of either.
    int run_both(es_run* r0, es_run* r1, std::chrono::milliseconds lead = {}) {
        int e1 = 0;
        std::thread t([&] { e1 = vcpu_run(c1.fd, r1); });
        std::this_thread::sleep_for(lead);
        const int e0 = vcpu_run(c0.fd, r0);
        t.join();
        return e0 ? e0 : e1;
    }
    // make, then run_both: "" or what failed ("setup: ERRNO", "runs: ERRNO").
    std::string make_and_run(int dev, const std::uint8_t* second, std::size_t len, es_run* r0,
                             es_run* r1, std::chrono::milliseconds lead = {}) {
        if (int e = make(dev, second, len))
            return "setup: " + errno_text(e);
        if (int e = run_both(r0, r1, lead))
            return "runs: " + errno_text(e);
        return "";
    }
};

struct meminfo {
    long slab_kb = -1, free_kb = -1;
};
meminfo read_meminfo();
// VMs the module says exist now (-1 when ES_IOC_INFO fails).
long vms_open(int dev);
// Run `fn` (which returns an errno) in a child process: its errno, or a problem when the child
// died (the OOM killer, for instance).
got in_child(const std::function<int()>& fn);

struct matrix {
    int dev = -1;    // /dev/exitscope
    int vm = -1;     // the shared VM: 64 KiB of HLT with abcd_image at 0x1000
    u32 nr_cpus = 1; // ES_IOC_INFO nr_cpus: valid ES_SCOPE_CPU values are below it
    std::vector<case_def> cases;

    void add(std::string name, std::vector<int> want, std::function<got()> fn) {
        cases.push_back({std::move(name), std::move(want), std::move(fn)});
    }

    // The generic cases of one struct-carrying ioctl: sizes, reserved fields, argument pointers.
    // `make` builds a valid argument (and may prepare the VM); `done` checks and cleans up after
    // a successful call (closing a created VM, for instance).
    template <typename T>
    void struct_cases(const std::string& base, std::function<int()> fd, unsigned long req,
                      std::function<T()> make, std::function<got(T&, long)> done,
                      bool writes_back) {
        auto call = [fd, req, done](T& a) -> got {
            long ret = -1;
            const int e = xioctl(fd(), req, a, &ret);
            if (e)
                return {e, {}};
            return done(a, ret);
        };
        add(base + "/valid", {0}, [=] {
            T a = make();
            return call(a);
        });
        const std::pair<const char*, u32> sizes[] = {{"size_0", 0},
                                                     {"size_minus_1", sizeof(T) - 1},
                                                     {"size_plus_1", sizeof(T) + 1},
                                                     {"size_huge", 0xffffffffu}};
        for (auto [n, s] : sizes)
            add(base + "/" + n, {EINVAL}, [=] {
                T a = make();
                a.size = s;
                return call(a);
            });
        for (std::size_t i = 0; i < std::size(T{}.reserved); ++i)
            add(base + "/reserved_" + std::to_string(i) + "_nonzero", {EINVAL}, [=] {
                T a = make();
                a.reserved[i] = 1;
                return call(a);
            });
        add(base + "/reserved_last_top_bit", {EINVAL}, [=] {
            T a = make();
            a.reserved[std::size(a.reserved) - 1] = u64{1} << 63;
            return call(a);
        });
        // The argument pointer itself.
        add(base + "/arg_null", {EFAULT}, [=] { return got{raw_ioctl(fd(), req, 0), {}}; });
        add(base + "/arg_unmapped", {EFAULT}, [=] {
            return got{raw_ioctl(fd(), req, unmapped_address()), {}};
        });
        add(base + "/arg_kernel_address", {EFAULT}, [=] {
            return got{raw_ioctl(fd(), req, kernel_address), {}};
        });
        add(base + "/arg_misaligned", {0}, [=] {
            alignas(16) std::uint8_t buf[sizeof(T) + 16];
            T a = make();
            std::memcpy(buf + 1, &a, sizeof a);
            long ret = -1;
            const int e = raw_ioctl(fd(), req, reinterpret_cast<u64>(buf + 1), &ret);
            if (e)
                return got{e, {}};
            std::memcpy(&a, buf + 1, sizeof a);
            return done(a, ret);
        });
        // `size` readable, the rest of the struct in an unmapped page.
        add(base + "/arg_partly_mapped", {EFAULT}, [=] {
            mapping m(2, 1);
            T a = make();
            std::memcpy(m.end() - 8, &a, 8);
            return got{raw_ioctl(fd(), req, reinterpret_cast<u64>(m.end() - 8)), {}};
        });
        // Readable but not writable: the module reads it, and any copy back must fail.
        add(base + "/arg_read_only", {writes_back ? EFAULT : 0}, [=] {
            constexpr std::size_t pages = (sizeof(T) + page - 1) / page; // es_stats spans pages
            mapping m(pages, pages);
            T a = make();
            std::memcpy(m.p, &a, sizeof a);
            mprotect(m.p, m.len, PROT_READ);
            long ret = -1;
            const int e = raw_ioctl(fd(), req, m.addr(), &ret);
            if (e)
                return got{e, {}};
            std::memcpy(&a, m.p, sizeof a);
            return done(a, ret);
        });
    }

    template <typename T>
    void flags_cases(const std::string& base, std::function<int()> fd, unsigned long req,
                     std::function<T()> make, u32 lowest_undefined = 1) {
        for (u32 f : {lowest_undefined, 0x80000000u})
            add(base + (f == lowest_undefined ? "/flags_" + std::to_string(f) : "/flags_top_bit"),
                {EINVAL}, [=] {
                    T a = make();
                    a.flags = f;
                    return got{xioctl(fd(), req, a), {}};
                });
    }

    void build();
    void device_cases();
    void create_cases();
    void vm_cases();
    void load_cases();
    void state_cases();
    void run_cases();
    void restart_cases();
    void host_state_cases();
    void input_cases();
    void descriptor_cases();
    void concurrency_cases();
    void vcpu_cases();
    void vm_scope_cases();
    // A fresh VM of two vCPUs, closed with the matrix (cases_vcpus.cpp).
    int smp_vm();
    std::vector<fd_guard> kept;
};

got ok();
got closes_vm(es_vm_create&, long ret);

} // namespace ioctl_matrix
