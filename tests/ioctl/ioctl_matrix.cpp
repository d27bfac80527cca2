// ioctl_matrix: the negative-test matrix of the Exitscope ioctl ABI (include/exitscope/abi.h).
//
//   ioctl_matrix [--only SUBSTRING] [--skip SUBSTRING]... [--no-warmup]
//
// Runs inside the emulated machine with the module loaded. For every ioctl it runs table-driven
// cases, each with the errno the module documents, and prints "PASS ioctl/<name>" or
// "FAIL ioctl/<name>: got errno X (...), wanted Y". One quiet warm-up pass comes first (first-use
// allocations), then the printed pass, measured by /proc/meminfo (Slab + MemFree): kernel memory
// must not grow. Every descriptor the program opens is closed again, so `rmmod exitscope`
// succeeds afterwards. Ends with "ioctl matrix: N cases".
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

namespace {

using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr u64 kernel_address = 0xffff800000000000ull;
constexpr u64 page = 4096;
constexpr u64 vm_mem = ES_GUEST_MEM_MIN; // the shared VM's RAM
constexpr u32 hlt_reason = 12;           // basic exit reason HLT

// ---------------------------------------------------------------- results

// What one case observed: the errno of the ioctl under test (0: it succeeded) and, when the
// errno was right but something else was not, a description of the problem.
struct got {
    int err = 0;
    std::string problem;
};

got problem(std::string why) {
    return got{0, std::move(why)};
}

std::string errno_text(int e) {
    if (e == 0)
        return "0 (success)";
    if (e < 0)
        return "none (the call never returned)";
    const char* n = strerrorname_np(e);
    return std::to_string(e) + " (" + (n ? n : "?") + ")";
}

struct case_def {
    std::string name;
    std::vector<int> want; // acceptable errnos, 0 = success
    std::function<got()> run;
};

struct options {
    std::vector<std::string> only, skip;
    bool warmup = true;
};

bool selected(const options& o, const std::string& name) {
    for (auto& s : o.skip)
        if (name.find(s) != std::string::npos)
            return false;
    if (o.only.empty())
        return true;
    for (auto& s : o.only)
        if (name.find(s) != std::string::npos)
            return true;
    return false;
}

// ---------------------------------------------------------------- small RAII helpers

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
u64 unmapped_address() {
    void* m = mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("ioctl_matrix: mmap");
        std::exit(2);
    }
    munmap(m, page);
    return reinterpret_cast<u64>(m);
}

// ---------------------------------------------------------------- ioctl wrappers

// ioctl with an integer argument: errno or 0; the return value in *ret.
int raw_ioctl(int fd, unsigned long req, u64 arg, long* ret = nullptr) {
    const long r = ioctl(fd, req, arg);
    if (ret)
        *ret = r;
    return r < 0 ? errno : 0;
}

template <typename T> int xioctl(int fd, unsigned long req, T& arg, long* ret = nullptr) {
    return raw_ioctl(fd, req, reinterpret_cast<u64>(&arg), ret);
}

template <typename T> T sized() {
    T v{};
    v.size = sizeof(T);
    return v;
}

es_vm_create create_args(u64 mem) {
    auto a = sized<es_vm_create>();
    a.mem_bytes = mem;
    return a;
}

// Create a VM; the descriptor (or -1) in *out, errno as the result.
int create_vm(int dev, u64 mem, fd_guard* out) {
    auto a = create_args(mem);
    long ret = -1;
    const int e = xioctl(dev, ES_IOC_CREATE_VM, a, &ret);
    *out = fd_guard(e ? -1 : static_cast<int>(ret));
    return e;
}

int load(int vm, u64 gpa, const void* data, u64 len) {
    auto a = sized<es_vm_load>();
    a.gpa = gpa;
    a.data = reinterpret_cast<u64>(data);
    a.len = len;
    return xioctl(vm, ES_VM_LOAD, a);
}

int set_state(int vm, u32 mode, u64 entry, u64 stack = 0) {
    auto a = sized<es_vcpu_state>();
    a.mode = mode;
    a.entry = entry;
    a.stack = stack;
    return xioctl(vm, ES_VM_SET_STATE, a);
}

int run(int vm, es_run* r, void* console = nullptr, u32 cap = 0) {
    *r = sized<es_run>();
    r->console = reinterpret_cast<u64>(console);
    r->console_cap = cap;
    return xioctl(vm, ES_VM_RUN, *r);
}

// Guest images (real mode, loaded at 0x1000 over RAM full of HLT, so any resumption halts).
const std::uint8_t halt_image[] = {0xFA, 0xF4}; // cli; hlt
// cli; mov cx,4; mov al,'A'; l: out 0xE9,al; inc al; loop l; hlt: prints "ABCD".
const std::uint8_t abcd_image[] = {0xFA, 0xB9, 0x04, 0x00, 0xB0, 0x41, 0xE6,
                                   0xE9, 0xFE, 0xC0, 0xE2, 0xFA, 0xF4};
const std::uint8_t spin_image[] = {0xFA, 0xEB, 0xFE}; // cli; jmp $
constexpr u64 image_gpa = 0x1000;

// A VM with `mem` bytes of HLT and `image` at 0x1000, real mode: errno of the first failure.
int make_guest(int dev, u64 mem, const std::uint8_t* image, std::size_t len, fd_guard* vm) {
    if (int e = create_vm(dev, mem, vm))
        return e;
    std::vector<std::uint8_t> fill(mem, 0xF4);
    std::memcpy(fill.data() + image_gpa, image, len);
    if (int e = load(vm->fd, 0, fill.data(), mem))
        return e;
    return set_state(vm->fd, ES_MODE_REAL, image_gpa);
}

// ---------------------------------------------------------------- kernel state

struct meminfo {
    long slab_kb = -1, free_kb = -1;
};

meminfo read_meminfo() {
    meminfo m;
    if (FILE* f = std::fopen("/proc/meminfo", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f)) {
            long v;
            if (std::sscanf(line, "Slab: %ld", &v) == 1)
                m.slab_kb = v;
            else if (std::sscanf(line, "MemFree: %ld", &v) == 1)
                m.free_kb = v;
        }
        std::fclose(f);
    }
    return m;
}

// VMs the module says exist now (-1 when ES_IOC_INFO fails).
long vms_open(int dev) {
    auto info = sized<es_info>();
    if (xioctl(dev, ES_IOC_INFO, info))
        return -1;
    return info.vms;
}

// Run `fn` (which returns an errno) in a child process: its errno, or a problem when the child
// died (the OOM killer, for instance).
got in_child(const std::function<int()>& fn) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0)
        return problem(std::string("fork: ") + std::strerror(errno));
    if (pid == 0)
        _exit(fn() & 0xff);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status))
        return got{WEXITSTATUS(status), {}};
    return got{-1, "the calling process was killed by signal " +
                       std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0) +
                       " (the OOM killer? see dmesg)"};
}

// ---------------------------------------------------------------- the matrix

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
                     std::function<T()> make) {
        for (u32 f : {1u, 0x80000000u})
            add(base + (f == 1 ? "/flags_1" : "/flags_top_bit"), {EINVAL}, [=] {
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
    void descriptor_cases();
    void concurrency_cases();
};

got ok() {
    return {};
}

got closes_vm(es_vm_create&, long ret) {
    close(static_cast<int>(ret));
    return ok();
}

void matrix::device_cases() {
    auto dev_fd = [this] { return dev; };
    struct_cases<es_info>(
        "info", dev_fd, ES_IOC_INFO, [] { return sized<es_info>(); },
        [](es_info& i, long) {
            if (i.abi_version != ES_ABI_VERSION || i.size != sizeof(es_info))
                return problem("abi_version " + std::to_string(i.abi_version));
            return ok();
        },
        true);
    // reserved0 sits in the middle of es_info: it is reserved too.
    add("info/reserved0_nonzero", {EINVAL}, [=, this] {
        auto a = sized<es_info>();
        a.reserved0 = 1;
        return got{xioctl(dev, ES_IOC_INFO, a), {}};
    });

    struct_cases<es_reasons>(
        "reasons", dev_fd, ES_IOC_REASONS, [] { return sized<es_reasons>(); },
        [](es_reasons& r, long) {
            if (r.nr_reasons != ES_NR_REASONS)
                return problem("nr_reasons " + std::to_string(r.nr_reasons));
            if (!(r.flags[hlt_reason] & ES_REASON_DEFINED))
                return problem("HLT not flagged as defined");
            return ok();
        },
        true);

    auto stats_check = [](es_stats& s, long) {
        if (s.nr_reasons != ES_NR_REASONS)
            return problem("nr_reasons " + std::to_string(s.nr_reasons));
        return ok();
    };
    struct_cases<es_stats>(
        "stats", dev_fd, ES_IOC_STATS, [] { return sized<es_stats>(); }, stats_check, true);
    auto stats_scope = [this](u32 scope, u32 cpu) {
        auto s = sized<es_stats>();
        s.scope = scope;
        s.cpu = cpu;
        return got{xioctl(dev, ES_IOC_STATS, s), {}};
    };
    add("stats/scope_global", {0}, [=] { return stats_scope(ES_SCOPE_GLOBAL, 0); });
    add("stats/scope_global_ignores_cpu", {0},
        [=] { return stats_scope(ES_SCOPE_GLOBAL, 0xffffffffu); });
    add("stats/scope_cpu_0", {0}, [=] { return stats_scope(ES_SCOPE_CPU, 0); });
    add("stats/scope_cpu_last", {0}, [=, this] { return stats_scope(ES_SCOPE_CPU, nr_cpus - 1); });
    add("stats/scope_cpu_nr_cpus", {EINVAL},
        [=, this] { return stats_scope(ES_SCOPE_CPU, nr_cpus); });
    add("stats/scope_cpu_huge", {EINVAL}, [=] { return stats_scope(ES_SCOPE_CPU, 0xffffffffu); });
    add("stats/scope_vm_without_vm", {EINVAL}, [=] { return stats_scope(ES_SCOPE_VM, 0); });
    add("stats/scope_99", {EINVAL}, [=] { return stats_scope(99, 0); });
    add("stats/scope_huge", {EINVAL}, [=] { return stats_scope(0xffffffffu, 0); });

    // ES_IOC_RESET_STATS is _IO: no argument, whatever is passed.
    add("reset_stats/valid", {0}, [=, this] {
        return got{raw_ioctl(dev, ES_IOC_RESET_STATS, 0), {}};
    });
    add("reset_stats/ignores_bad_arg", {0}, [=, this] {
        return got{raw_ioctl(dev, ES_IOC_RESET_STATS, kernel_address), {}};
    });
    add("reset_stats/global_stats_restart", {0}, [=, this] {
        es_run r;
        if (int e = run(vm, &r))
            return problem("run failed: " + errno_text(e));
        if (int e = raw_ioctl(dev, ES_IOC_RESET_STATS, 0))
            return got{e, {}};
        auto s = sized<es_stats>();
        if (int e = xioctl(dev, ES_IOC_STATS, s))
            return problem("stats failed: " + errno_text(e));
        if (s.reasons[hlt_reason].count != 0)
            return problem("HLT count " + std::to_string(s.reasons[hlt_reason].count) +
                           " after reset");
        return ok();
    });
}

void matrix::create_cases() {
    auto dev_fd = [this] { return dev; };
    auto make = [] { return create_args(vm_mem); };
    struct_cases<es_vm_create>("create_vm", dev_fd, ES_IOC_CREATE_VM, make, closes_vm, false);
    flags_cases<es_vm_create>("create_vm", dev_fd, ES_IOC_CREATE_VM, make);
    add("create_vm/cloexec", {0}, [=, this] {
        fd_guard v;
        if (int e = create_vm(dev, vm_mem, &v))
            return got{e, {}};
        if (!(fcntl(v.fd, F_GETFD) & FD_CLOEXEC))
            return problem("VM descriptor without FD_CLOEXEC");
        return ok();
    });
    const std::pair<const char*, std::pair<u64, std::vector<int>>> sizes[] = {
        {"mem_0", {0, {ERANGE}}},
        {"mem_4095", {4095, {EINVAL}}},
        {"mem_4096", {4096, {ERANGE}}},
        {"mem_64k_minus_4096", {ES_GUEST_MEM_MIN - 4096, {ERANGE}}},
        {"mem_64k", {ES_GUEST_MEM_MIN, {0}}},
        {"mem_64k_plus_1", {ES_GUEST_MEM_MIN + 1, {EINVAL}}},
        {"mem_64k_plus_2048", {ES_GUEST_MEM_MIN + 2048, {EINVAL}}},
        {"mem_2m_plus_4096", {(2u << 20) + 4096, {0}}},
        {"mem_1g_plus_4096", {ES_GUEST_MEM_MAX + 4096, {ERANGE}}},
        {"mem_2_pow_63", {u64{1} << 63, {ERANGE}}},
        {"mem_all_ones", {~u64{0}, {EINVAL}}},
        {"mem_all_ones_page_multiple", {~u64{0} & ~u64{4095}, {ERANGE}}},
        {"mem_4g_plus_64k", {(u64{1} << 32) + ES_GUEST_MEM_MIN, {ERANGE}}},
    };
    for (auto& [n, v] : sizes) {
        const u64 mem = v.first;
        add(std::string("create_vm/") + n, v.second, [=, this] {
            fd_guard g;
            return got{create_vm(dev, mem, &g), {}};
        });
    }
    // 1 GiB is the documented maximum; a 512 MB machine may not have it: ENOMEM is fine, but
    // nothing may be left behind (checked by vms_open here and the memory check at the end).
    // The call runs in a child that volunteers as the OOM killer's victim, so a module that lets
    // the allocation invoke the OOM killer fails this case instead of killing the matrix.
    add("create_vm/mem_1g", {0, ENOMEM}, [=, this] {
        got g = in_child([this] {
            if (FILE* f = std::fopen("/proc/self/oom_score_adj", "w")) {
                std::fputs("1000", f);
                std::fclose(f);
            }
            fd_guard v;
            return create_vm(dev, ES_GUEST_MEM_MAX, &v);
        });
        if (long n = vms_open(dev); n != 1 && g.problem.empty()) // the shared VM only
            g.problem = std::to_string(n) + " VMs open after a closed 1 GiB VM, wanted 1";
        return g;
    });
}

void matrix::load_cases() {
    auto vm_fd = [this] { return vm; };
    static std::vector<std::uint8_t> hlts(vm_mem + 2 * page, 0xF4);
    auto make = [] {
        auto a = sized<es_vm_load>();
        a.gpa = vm_mem - 2 * page;
        a.data = reinterpret_cast<u64>(hlts.data());
        a.len = 64;
        return a;
    };
    struct_cases<es_vm_load>(
        "vm_load", vm_fd, ES_VM_LOAD, make, [](es_vm_load&, long) { return ok(); }, false);
    flags_cases<es_vm_load>("vm_load", vm_fd, ES_VM_LOAD, make);
    auto ld = [this](u64 gpa, u64 data, u64 len) {
        auto a = sized<es_vm_load>();
        a.gpa = gpa;
        a.data = data;
        a.len = len;
        return got{xioctl(vm, ES_VM_LOAD, a), {}};
    };
    const u64 d = reinterpret_cast<u64>(hlts.data());
    add("vm_load/len_0", {EINVAL}, [=] { return ld(0, d, 0); });
    add("vm_load/len_huge", {ENOSPC}, [=] { return ld(0, d, ~u64{0}); });
    add("vm_load/len_ram_plus_1", {ENOSPC}, [=] { return ld(0, d, vm_mem + 1); });
    add("vm_load/whole_ram", {0}, [=] { return ld(0, d, vm_mem); });
    add("vm_load/ends_at_end_of_ram", {0}, [=] { return ld(vm_mem - 100, d, 100); });
    add("vm_load/last_byte", {0}, [=] { return ld(vm_mem - 1, d, 1); });
    add("vm_load/one_byte_beyond_ram", {ENOSPC}, [=] { return ld(vm_mem - 100, d, 101); });
    add("vm_load/gpa_at_end_of_ram", {ENOSPC}, [=] { return ld(vm_mem, d, 1); });
    add("vm_load/gpa_huge", {ENOSPC}, [=] { return ld(u64{1} << 63, d, 1); });
    add("vm_load/gpa_plus_len_overflows", {ENOSPC}, [=] { return ld(~u64{0} - 7, d, 16); });
    add("vm_load/len_wraps_to_gpa_0", {ENOSPC}, [=] { return ld(16, d, ~u64{0} - 15); });
    add("vm_load/data_null", {EFAULT}, [=] { return ld(0, 0, 16); });
    add("vm_load/data_unmapped", {EFAULT}, [=] { return ld(0, unmapped_address(), 16); });
    add("vm_load/data_kernel_address", {EFAULT}, [=] { return ld(0, kernel_address, 16); });
    add("vm_load/data_partly_mapped", {EFAULT}, [=] {
        mapping m(2, 1, false, 0xF4);
        return ld(0, reinterpret_cast<u64>(m.end() - 100), 200);
    });
    add("vm_load/data_partly_mapped_page_aligned_gpa", {EFAULT}, [=] {
        mapping m(2, 1, false, 0xF4);
        return ld(page, m.addr(), 2 * page);
    });
    add("vm_load/data_read_only", {0}, [=] {
        mapping m(1, 1, true, 0xF4);
        return ld(0, m.addr(), page);
    });
    add("vm_load/data_misaligned_crossing_pages", {0}, [=] { return ld(4000, d + 3, 3 * page); });
    // Put the shared VM's image back (HLT everywhere, the ABCD program at 0x1000).
    add("vm_load/restore_image", {0}, [=] {
        std::vector<std::uint8_t> img(vm_mem, 0xF4);
        std::memcpy(img.data() + image_gpa, abcd_image, sizeof abcd_image);
        return ld(0, reinterpret_cast<u64>(img.data()), vm_mem);
    });
}

void matrix::state_cases() {
    auto vm_fd = [this] { return vm; };
    auto make = [] {
        auto a = sized<es_vcpu_state>();
        a.mode = ES_MODE_REAL;
        a.entry = image_gpa;
        return a;
    };
    struct_cases<es_vcpu_state>(
        "vm_set_state", vm_fd, ES_VM_SET_STATE, make, [](es_vcpu_state&, long) { return ok(); },
        false);
    auto st = [this](u32 mode, u64 entry, u64 stack) {
        return got{set_state(vm, mode, entry, stack), {}};
    };
    add("vm_set_state/mode_protected", {0}, [=] { return st(ES_MODE_PROTECTED, 0x1000, 0); });
    add("vm_set_state/mode_long", {0}, [=] { return st(ES_MODE_LONG, 0x1000, 0); });
    add("vm_set_state/mode_3", {EINVAL}, [=] { return st(3, 0x1000, 0); });
    add("vm_set_state/mode_huge", {EINVAL}, [=] { return st(0xffffffffu, 0x1000, 0); });
    add("vm_set_state/entry_last_byte", {0}, [=] { return st(ES_MODE_REAL, vm_mem - 1, 0); });
    add("vm_set_state/entry_at_end_of_ram", {ENOSPC}, [=] { return st(ES_MODE_REAL, vm_mem, 0); });
    add("vm_set_state/entry_huge", {ENOSPC}, [=] { return st(ES_MODE_REAL, ~u64{0}, 0); });
    add("vm_set_state/stack_end_of_ram", {0}, [=] { return st(ES_MODE_REAL, 0x1000, vm_mem); });
    add("vm_set_state/stack_beyond_ram", {ENOSPC},
        [=] { return st(ES_MODE_REAL, 0x1000, vm_mem + 1); });
    add("vm_set_state/long_entry_in_page_tables", {ENOSPC},
        [=] { return st(ES_MODE_LONG, vm_mem - 4096, 0); });
    add("vm_set_state/protected_stack_above_4g", {ENOSPC, EINVAL},
        [=] { return st(ES_MODE_PROTECTED, 0x1000, u64{1} << 32); });
    // Leave the shared VM as the run cases expect it.
    add("vm_set_state/restore", {0}, [=] { return st(ES_MODE_REAL, image_gpa, 0); });
}

void matrix::run_cases() {
    auto vm_fd = [this] { return vm; };
    // Each run starts the ABCD program afresh; without a console it prints nowhere.
    auto make = [this] {
        set_state(vm, ES_MODE_REAL, image_gpa);
        return sized<es_run>();
    };
    auto halted = [](es_run& r, long) {
        if (r.stop != ES_STOP_HALTED)
            return problem("stop " + std::to_string(r.stop) + ", wanted halted (1)");
        return ok();
    };
    struct_cases<es_run>("vm_run", vm_fd, ES_VM_RUN, make, halted, true);
    flags_cases<es_run>("vm_run", vm_fd, ES_VM_RUN, make);

    // The console: 4 bytes "ABCD" go to `console`.
    auto con = [this](u64 console, u32 cap, const std::string& expect) {
        set_state(vm, ES_MODE_REAL, image_gpa);
        auto r = sized<es_run>();
        r.console = console;
        r.console_cap = cap;
        if (int e = xioctl(vm, ES_VM_RUN, r))
            return got{e, {}};
        if (r.stop != ES_STOP_HALTED)
            return problem("stop " + std::to_string(r.stop) + ", wanted halted (1)");
        if (r.console_len != expect.size())
            return problem("console_len " + std::to_string(r.console_len) + ", wanted " +
                           std::to_string(expect.size()));
        if (!expect.empty() &&
            std::memcmp(reinterpret_cast<void*>(console), expect.data(), expect.size()) != 0)
            return problem("console bytes differ from " + expect);
        if (r.exits < 5)
            return problem("exits " + std::to_string(r.exits) + ", wanted >= 5");
        return ok();
    };
    add("vm_run/console_valid", {0}, [=] {
        char buf[16] = {};
        return con(reinterpret_cast<u64>(buf), sizeof buf, "ABCD");
    });
    add("vm_run/console_misaligned", {0}, [=] {
        alignas(8) char buf[16] = {};
        return con(reinterpret_cast<u64>(buf + 1), 8, "ABCD");
    });
    add("vm_run/console_cap_2_truncates", {0}, [=, this] {
        // A full console stops the run (console full) before the HLT.
        set_state(vm, ES_MODE_REAL, image_gpa);
        char buf[2] = {};
        auto r = sized<es_run>();
        r.console = reinterpret_cast<u64>(buf);
        r.console_cap = 2;
        if (int e = xioctl(vm, ES_VM_RUN, r))
            return got{e, {}};
        if (r.stop != ES_STOP_CONSOLE_FULL || r.console_len != 2 || buf[0] != 'A' || buf[1] != 'B')
            return problem("stop " + std::to_string(r.stop) + " console_len " +
                           std::to_string(r.console_len) + ", wanted console full (7) and AB");
        return ok();
    });
    add("vm_run/console_cap_huge", {0}, [=] {
        mapping m(1, 1);
        return con(m.addr(), 0xffffffffu, "ABCD");
    });
    add("vm_run/console_null_cap_0", {0}, [=] { return con(0, 0, ""); });
    add("vm_run/console_set_cap_0", {0}, [=] {
        char buf[4] = {'x', 'x', 'x', 'x'};
        got g = con(reinterpret_cast<u64>(buf), 0, "");
        if (!g.err && g.problem.empty() && buf[0] != 'x')
            g.problem = "console written with console_cap 0";
        return g;
    });
    add("vm_run/console_null_cap_16", {EFAULT}, [=] { return con(0, 16, "ABCD"); });
    add("vm_run/console_unmapped", {EFAULT}, [=] { return con(unmapped_address(), 16, "ABCD"); });
    add("vm_run/console_kernel_address", {EFAULT}, [=] { return con(kernel_address, 16, "ABCD"); });
    add("vm_run/console_partly_mapped", {EFAULT}, [=] {
        mapping m(2, 1);
        return con(reinterpret_cast<u64>(m.end() - 2), 16, "ABCD");
    });
    add("vm_run/console_read_only", {EFAULT}, [=] {
        mapping m(1, 1, true);
        return con(m.addr(), 16, "ABCD");
    });
    // The guest stays usable after each bad console.
    add("vm_run/after_bad_consoles", {0}, [=] {
        char buf[16] = {};
        return con(reinterpret_cast<u64>(buf), sizeof buf, "ABCD");
    });

    // A signal ends a run of an endless guest with EINTR; the guest can be resumed.
    add("vm_run/signal_gives_eintr", {EINTR}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, spin_image, sizeof spin_image, &v))
            return problem("guest setup: " + errno_text(e));
        std::atomic<bool> done{false};
        const pthread_t self = pthread_self();
        std::thread t([&] {
            // Keep signalling until the run returns (a signal before the run starts is lost).
            for (int i = 0; i < 200; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                if (done)
                    break;
                pthread_kill(self, SIGUSR1);
            }
        });
        es_run r;
        const int e = run(v.fd, &r);
        done = true;
        t.join();
        if (e == EINTR && r.exits == 0)
            return got{e, "EINTR with exits 0: counts not returned"};
        return got{e, {}};
    });
}

void matrix::vm_cases() {
    auto vm_fd = [this] { return vm; };
    auto check = [](es_stats& s, long) {
        if (s.nr_reasons != ES_NR_REASONS)
            return problem("nr_reasons " + std::to_string(s.nr_reasons));
        return ok();
    };
    auto make = [] {
        auto s = sized<es_stats>();
        s.scope = ES_SCOPE_VM;
        return s;
    };
    struct_cases<es_stats>("vm_stats", vm_fd, ES_VM_STATS, make, check, true);
    auto vs = [this](u32 scope, u32 cpu) {
        auto s = sized<es_stats>();
        s.scope = scope;
        s.cpu = cpu;
        return got{xioctl(vm, ES_VM_STATS, s), {}};
    };
    add("vm_stats/counts_this_vm", {0}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, halt_image, sizeof halt_image, &v))
            return problem("guest setup: " + errno_text(e));
        es_run r;
        for (int i = 0; i < 3; ++i)
            if (int e = run(v.fd, &r))
                return problem("run: " + errno_text(e));
        auto s = make();
        if (int e = xioctl(v.fd, ES_VM_STATS, s))
            return got{e, {}};
        if (s.reasons[hlt_reason].count != 3)
            return problem("HLT count " + std::to_string(s.reasons[hlt_reason].count) +
                           ", wanted 3");
        return ok();
    });
    // abi.h: "ES_SCOPE_VM only on a VM descriptor"; the other scopes work on one too.
    add("vm_stats/scope_global", {0}, [=] { return vs(ES_SCOPE_GLOBAL, 0); });
    add("vm_stats/scope_cpu_nr_cpus", {EINVAL}, [=, this] { return vs(ES_SCOPE_CPU, nr_cpus); });
    add("vm_stats/scope_99", {EINVAL}, [=] { return vs(99, 0); });
}

void matrix::descriptor_cases() {
    // VM ioctls on /dev/exitscope, device ioctls on a VM descriptor: ENOTTY.
    auto on = [](std::function<int()> fd, unsigned long req, auto arg) {
        return got{xioctl(fd(), req, arg), {}};
    };
    auto dev_fd = [this] { return dev; };
    auto vm_fd = [this] { return vm; };
    auto stats_vm = sized<es_stats>();
    stats_vm.scope = ES_SCOPE_VM;
    auto ld = sized<es_vm_load>();
    ld.data = reinterpret_cast<u64>(halt_image);
    ld.gpa = image_gpa;
    ld.len = sizeof halt_image;
    auto state = sized<es_vcpu_state>();
    state.entry = image_gpa;
    add("wrong_fd/vm_load_on_device", {ENOTTY}, [=] { return on(dev_fd, ES_VM_LOAD, ld); });
    add("wrong_fd/vm_set_state_on_device", {ENOTTY},
        [=] { return on(dev_fd, ES_VM_SET_STATE, state); });
    add("wrong_fd/vm_run_on_device", {ENOTTY},
        [=] { return on(dev_fd, ES_VM_RUN, sized<es_run>()); });
    add("wrong_fd/vm_stats_on_device", {ENOTTY}, [=] { return on(dev_fd, ES_VM_STATS, stats_vm); });
    add("wrong_fd/info_on_vm", {ENOTTY}, [=] { return on(vm_fd, ES_IOC_INFO, sized<es_info>()); });
    add("wrong_fd/create_vm_on_vm", {ENOTTY}, [=] {
        got g = on(vm_fd, ES_IOC_CREATE_VM, create_args(vm_mem));
        return g;
    });
    add("wrong_fd/stats_on_vm", {ENOTTY},
        [=] { return on(vm_fd, ES_IOC_STATS, sized<es_stats>()); });
    add("wrong_fd/reset_stats_on_vm", {ENOTTY}, [=, this] {
        return got{raw_ioctl(vm, ES_IOC_RESET_STATS, 0), {}};
    });
    add("wrong_fd/reasons_on_vm", {ENOTTY},
        [=] { return on(vm_fd, ES_IOC_REASONS, sized<es_reasons>()); });

    // Unknown numbers: a free number, right numbers with the wrong size or direction, another
    // magic.
    add("unknown/device_nr_5", {ENOTTY},
        [=] { return on(dev_fd, _IOWR(ES_IOC_MAGIC, 0x05, es_info), sized<es_info>()); });
    add("unknown/device_nr_0xff", {ENOTTY}, [=, this] {
        return got{raw_ioctl(dev, _IO(ES_IOC_MAGIC, 0xff), 0), {}};
    });
    add("unknown/vm_nr_0x14", {ENOTTY},
        [=] { return on(vm_fd, _IOWR(ES_IOC_MAGIC, 0x14, es_stats), sized<es_stats>()); });
    add("unknown/info_wrong_encoded_size", {ENOTTY},
        [=] { return on(dev_fd, _IOWR(ES_IOC_MAGIC, 0x00, u64), sized<es_info>()); });
    add("unknown/info_read_only_direction", {ENOTTY},
        [=] { return on(dev_fd, _IOR(ES_IOC_MAGIC, 0x00, es_info), sized<es_info>()); });
    add("unknown/vm_run_wrong_magic", {ENOTTY},
        [=] { return on(vm_fd, _IOWR(0xE6, 0x12, es_run), sized<es_run>()); });
    add("unknown/request_0", {ENOTTY}, [=, this] { return got{raw_ioctl(dev, 0, 0), {}}; });

    // A closed VM descriptor: EBADF (the number is not reused in between: nothing else opens).
    add("closed_fd/vm_run", {EBADF}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, halt_image, sizeof halt_image, &v))
            return problem("guest setup: " + errno_text(e));
        const int n = v.fd;
        v.reset();
        auto r = sized<es_run>();
        return got{xioctl(n, ES_VM_RUN, r), {}};
    });
    add("closed_fd/vm_stats", {EBADF}, [=, this] {
        fd_guard v;
        if (int e = create_vm(dev, vm_mem, &v))
            return problem("create: " + errno_text(e));
        const int n = v.fd;
        v.reset();
        return on([n] { return n; }, ES_VM_STATS, stats_vm);
    });
    add("closed_fd/device", {EBADF}, [=] {
        const int n = open(ES_DEVICE_PATH, O_RDWR | O_CLOEXEC);
        if (n < 0)
            return problem(std::string("open: ") + std::strerror(errno));
        close(n);
        return on([n] { return n; }, ES_IOC_INFO, sized<es_info>());
    });
    add("dev_null/info", {ENOTTY}, [=] {
        fd_guard n(open("/dev/null", O_RDWR | O_CLOEXEC));
        return on([&n] { return n.fd; }, ES_IOC_INFO, sized<es_info>());
    });
    add("dev_null/vm_run", {ENOTTY}, [=] {
        fd_guard n(open("/dev/null", O_RDWR | O_CLOEXEC));
        return on([&n] { return n.fd; }, ES_VM_RUN, sized<es_run>());
    });
    // A VM outlives the /dev/exitscope descriptor that created it.
    add("vm_outlives_device_fd", {0}, [=] {
        fd_guard d(open(ES_DEVICE_PATH, O_RDWR | O_CLOEXEC));
        if (d.fd < 0)
            return problem(std::string("open: ") + std::strerror(errno));
        fd_guard v;
        if (int e = make_guest(d.fd, vm_mem, halt_image, sizeof halt_image, &v))
            return problem("guest setup: " + errno_text(e));
        d.reset();
        es_run r;
        if (int e = run(v.fd, &r))
            return got{e, {}};
        if (r.stop != ES_STOP_HALTED)
            return problem("stop " + std::to_string(r.stop));
        return ok();
    });
    // A device opened read-only still hands out VMs? The device is root-only (0600): whatever
    // the mode, ioctls behave the same.
    add("device_read_only_open/info", {0}, [=] {
        fd_guard d(open(ES_DEVICE_PATH, O_RDONLY | O_CLOEXEC));
        if (d.fd < 0)
            return problem(std::string("open: ") + std::strerror(errno));
        return on([&d] { return d.fd; }, ES_IOC_INFO, sized<es_info>());
    });
}

void matrix::concurrency_cases() {
    // The same VM run from two threads at once: calls are serialised, every run halts.
    add("race/two_threads_run_one_vm", {0}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, halt_image, sizeof halt_image, &v))
            return problem("guest setup: " + errno_text(e));
        std::atomic<int> bad_err{0}, bad_stop{0}, runs{0};
        auto worker = [&] {
            for (int i = 0; i < 50; ++i) {
                es_run r;
                if (int e = run(v.fd, &r))
                    bad_err = e;
                else if (r.stop != ES_STOP_HALTED)
                    bad_stop = static_cast<int>(r.stop);
                ++runs;
            }
        };
        std::thread a(worker), b(worker);
        a.join();
        b.join();
        if (bad_err)
            return got{bad_err, {}};
        if (bad_stop)
            return problem("a run stopped with " + std::to_string(bad_stop.load()));
        auto s = sized<es_stats>();
        s.scope = ES_SCOPE_VM;
        if (int e = xioctl(v.fd, ES_VM_STATS, s))
            return problem("vm stats: " + errno_text(e));
        if (s.reasons[hlt_reason].count != 100)
            return problem("HLT count " + std::to_string(s.reasons[hlt_reason].count) +
                           ", wanted 100");
        return ok();
    });
    // Statistics reads race runs for a bounded time; counts only grow.
    add("race/stats_reads_during_runs", {0}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, halt_image, sizeof halt_image, &v))
            return problem("guest setup: " + errno_text(e));
        std::atomic<bool> stop{false};
        std::atomic<int> run_err{0};
        std::atomic<long> runs{0};
        std::thread runner([&] {
            while (!stop) {
                es_run r;
                if (int e = run(v.fd, &r)) {
                    run_err = e;
                    break;
                }
                ++runs;
            }
        });
        got g;
        u64 last_global = 0, last_vm = 0;
        long reads = 0;
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
        while (std::chrono::steady_clock::now() < until && g.err == 0 && g.problem.empty()) {
            auto s = sized<es_stats>();
            if ((g.err = xioctl(dev, ES_IOC_STATS, s)))
                break;
            if (s.reasons[hlt_reason].count < last_global)
                g.problem = "global HLT count went down";
            last_global = s.reasons[hlt_reason].count;
            auto c = sized<es_stats>();
            c.scope = ES_SCOPE_CPU;
            c.cpu = static_cast<u32>(reads % nr_cpus);
            if ((g.err = xioctl(dev, ES_IOC_STATS, c)))
                break;
            auto w = sized<es_stats>();
            w.scope = ES_SCOPE_VM;
            if ((g.err = xioctl(v.fd, ES_VM_STATS, w)))
                break;
            if (w.reasons[hlt_reason].count < last_vm)
                g.problem = "VM HLT count went down";
            last_vm = w.reasons[hlt_reason].count;
            ++reads;
        }
        stop = true;
        runner.join();
        if (!g.err && g.problem.empty() && run_err)
            g.problem = "a run failed: " + errno_text(run_err);
        if (!g.err && g.problem.empty() && (runs == 0 || reads == 0))
            g.problem = "no overlap: " + std::to_string(runs.load()) + " runs, " +
                        std::to_string(reads) + " reads";
        return g;
    });
    // VM create/destroy 200 times, with a run every 20th time.
    add("loop/create_destroy_200", {0}, [=, this] {
        for (int i = 0; i < 200; ++i) {
            fd_guard v;
            if (int e = create_vm(dev, vm_mem, &v))
                return got{e, "create #" + std::to_string(i)};
            if (i % 20 == 0) {
                if (int e = load(v.fd, image_gpa, halt_image, sizeof halt_image))
                    return got{e, "load #" + std::to_string(i)};
                es_run r;
                if (int e = run(v.fd, &r))
                    return got{e, "run #" + std::to_string(i)};
            }
        }
        if (long n = vms_open(dev); n != 1)
            return problem(std::to_string(n) + " VMs open after the loop, wanted 1 (shared)");
        return ok();
    });
}

void matrix::build() {
    device_cases();
    create_cases();
    load_cases();
    state_cases();
    run_cases();
    vm_cases();
    descriptor_cases();
    concurrency_cases();
}

// One pass of the whole matrix; returns the number of cases run and failures in *failed.
int run_pass(const options& o, bool print, int* failed) {
    matrix m;
    fd_guard dev(open(ES_DEVICE_PATH, O_RDWR | O_CLOEXEC));
    if (dev.fd < 0) {
        std::printf("FAIL ioctl/open_device: %s: %s\n", ES_DEVICE_PATH, std::strerror(errno));
        *failed = 1;
        return 1;
    }
    m.dev = dev.fd;
    auto info = sized<es_info>();
    if (xioctl(m.dev, ES_IOC_INFO, info) == 0 && info.nr_cpus > 0)
        m.nr_cpus = info.nr_cpus;
    fd_guard vm;
    if (int e = make_guest(m.dev, vm_mem, abcd_image, sizeof abcd_image, &vm)) {
        std::printf("FAIL ioctl/shared_vm_setup: got errno %s, wanted 0\n", errno_text(e).c_str());
        *failed = 1;
        return 1;
    }
    m.vm = vm.fd;
    m.build();
    int n = 0;
    *failed = 0;
    for (auto& c : m.cases) {
        if (!selected(o, c.name))
            continue;
        ++n;
        got g = c.run();
        bool want_ok = false;
        std::string wanted;
        for (int w : c.want) {
            want_ok = want_ok || w == g.err;
            wanted += (wanted.empty() ? "" : " or ") + errno_text(w);
        }
        const bool pass = want_ok && g.problem.empty();
        if (!pass)
            ++*failed;
        if (!print)
            continue;
        if (pass)
            std::printf("PASS ioctl/%s\n", c.name.c_str());
        else if (!want_ok)
            std::printf("FAIL ioctl/%s: got errno %s, wanted %s%s%s\n", c.name.c_str(),
                        errno_text(g.err).c_str(), wanted.c_str(), g.problem.empty() ? "" : "; ",
                        g.problem.c_str());
        else
            std::printf("FAIL ioctl/%s: got errno %s as wanted, but %s\n", c.name.c_str(),
                        errno_text(g.err).c_str(), g.problem.c_str());
        std::fflush(stdout);
    }
    return n;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--only" && i + 1 < argc)
            o.only.push_back(argv[++i]);
        else if (a == "--skip" && i + 1 < argc)
            o.skip.push_back(argv[++i]);
        else if (a == "--no-warmup")
            o.warmup = false;
        else {
            std::fprintf(stderr, "usage: ioctl_matrix [--only SUBSTRING] [--skip SUBSTRING]... "
                                 "[--no-warmup]\n");
            return 2;
        }
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    // SIGUSR1 interrupts runs (no SA_RESTART, so the ioctl returns EINTR).
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigaction(SIGUSR1, &sa, nullptr);

    int failed = 0;
    if (o.warmup) {
        const int n = run_pass(o, false, &failed);
        std::printf("ioctl matrix: warm-up pass: %d cases, %d failed\n", n, failed);
    }
    const int n = run_pass(o, true, &failed);
    // A leak grows with every pass: measure one more quiet pass, once this process's own memory
    // and the kernel's per-CPU page caches have settled after two.
    const meminfo before = read_meminfo();
    int quiet_failed = 0;
    run_pass(o, false, &quiet_failed);
    const meminfo after = read_meminfo();

    // Kernel memory: slab growth plus what vanished from MemFree, as tests/e2e/inside/lib.sh.
    const long tolerance_kb = 1024;
    const long growth = (after.slab_kb - before.slab_kb) + (before.free_kb - after.free_kb);
    std::printf("ioctl matrix: kernel memory growth %ld kB (Slab %ld -> %ld kB, MemFree %ld -> "
                "%ld kB)\n",
                growth, before.slab_kb, after.slab_kb, before.free_kb, after.free_kb);
    if (before.slab_kb < 0 || before.free_kb < 0)
        std::printf("FAIL ioctl/no_kernel_memory_growth: /proc/meminfo unreadable\n");
    else if (growth < tolerance_kb)
        std::printf("PASS ioctl/no_kernel_memory_growth\n");
    else
        std::printf("FAIL ioctl/no_kernel_memory_growth: kernel memory grew by %ld kB (Slab %ld -> "
                    "%ld kB, MemFree %ld -> %ld kB; tolerance %ld kB)\n",
                    growth, before.slab_kb, after.slab_kb, before.free_kb, after.free_kb,
                    tolerance_kb);
    // Everything this program opened is closed: the module counts no VM.
    {
        fd_guard dev(open(ES_DEVICE_PATH, O_RDWR | O_CLOEXEC));
        const long vms = dev.fd < 0 ? -1 : vms_open(dev.fd);
        if (vms == 0)
            std::printf("PASS ioctl/no_vm_left_open\n");
        else
            std::printf("FAIL ioctl/no_vm_left_open: ES_IOC_INFO says %ld VMs\n", vms);
    }
    std::printf("ioctl matrix: %d cases\n", n + 2);
    return failed ? 1 : 0;
}
