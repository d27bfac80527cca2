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
#include "harness.hpp"

namespace ioctl_matrix {

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

u64 unmapped_address() {
    void* m = mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("ioctl_matrix: mmap");
        std::exit(2);
    }
    munmap(m, page);
    return reinterpret_cast<u64>(m);
}

int raw_ioctl(int fd, unsigned long req, u64 arg, long* ret) {
    const long r = ioctl(fd, req, arg);
    if (ret)
        *ret = r;
    return r < 0 ? errno : 0;
}

es_vm_create create_args(u64 mem) {
    auto a = sized<es_vm_create>();
    a.mem_bytes = mem;
    return a;
}

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

int set_state(int vm, u32 mode, u64 entry, u64 stack, u64 boot_params) {
    auto a = sized<es_vcpu_state>();
    a.mode = mode;
    a.entry = entry;
    a.stack = stack;
    a.boot_params = boot_params;
    return xioctl(vm, ES_VM_SET_STATE, a);
}

int run(int vm, es_run* r, void* console, u32 cap) {
    *r = sized<es_run>();
    r->console = reinterpret_cast<u64>(console);
    r->console_cap = cap;
    return xioctl(vm, ES_VM_RUN, *r);
}

int make_guest(int dev, u64 mem, const std::uint8_t* image, std::size_t len, fd_guard* vm) {
    if (int e = create_vm(dev, mem, vm))
        return e;
    std::vector<std::uint8_t> fill(mem, 0xF4);
    std::memcpy(fill.data() + image_gpa, image, len);
    if (int e = load(vm->fd, 0, fill.data(), mem))
        return e;
    return set_state(vm->fd, ES_MODE_REAL, image_gpa);
}

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

long vms_open(int dev) {
    auto info = sized<es_info>();
    if (xioctl(dev, ES_IOC_INFO, info))
        return -1;
    return info.vms;
}

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

got ok() {
    return {};
}

got closes_vm(es_vm_create&, long ret) {
    close(static_cast<int>(ret));
    return ok();
}

namespace {

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

} // namespace

void matrix::build() {
    device_cases();
    create_cases();
    load_cases();
    state_cases();
    run_cases();
    restart_cases();
    host_state_cases();
    input_cases();
    vm_cases();
    descriptor_cases();
    concurrency_cases();
    vcpu_cases();
    vm_scope_cases();
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

} // namespace ioctl_matrix

int main(int argc, char** argv) {
    using namespace ioctl_matrix;
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
