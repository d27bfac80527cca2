// The ioctl matrix: VMs of several vCPUs (ES_VM_CREATE_VCPU and the vCPU descriptor), with toy
// guests: each vCPU runs its own real-mode image on its own thread.
#include "harness.hpp"

namespace ioctl_matrix {

// A VM of `vcpus` vCPUs over `mem` bytes of HLT, halt_image at 0x1000 and `second` at 0x2000.
int make_smp_vm(int dev, u32 vcpus, const std::uint8_t* second, std::size_t len, fd_guard* vm) {
    auto a = create_args(vm_mem);
    a.vcpus = vcpus;
    long ret = -1;
    if (int e = xioctl(dev, ES_IOC_CREATE_VM, a, &ret))
        return e;
    *vm = fd_guard(static_cast<int>(ret));
    std::vector<std::uint8_t> fill(vm_mem, 0xF4);
    std::memcpy(fill.data() + image_gpa, halt_image, sizeof halt_image);
    std::memcpy(fill.data() + second_image_gpa, second, len);
    return load(vm->fd, 0, fill.data(), vm_mem);
}

// vCPU `index`'s descriptor (or -1) in *out; errno as the result.
int make_vcpu(int vm, u32 index, fd_guard* out) {
    auto c = sized<es_vcpu_create>();
    c.index = index;
    long ret = -1;
    const int e = xioctl(vm, ES_VM_CREATE_VCPU, c, &ret);
    *out = fd_guard(e ? -1 : static_cast<int>(ret));
    return e;
}

int vcpu_state(int vcpu, u64 entry) {
    auto a = sized<es_vcpu_state>();
    a.mode = ES_MODE_REAL;
    a.entry = entry;
    return xioctl(vcpu, ES_VCPU_SET_STATE, a);
}

int vcpu_run(int vcpu, es_run* r) {
    *r = sized<es_run>();
    return xioctl(vcpu, ES_VCPU_RUN, *r);
}

namespace {

u64 hlt_count(int fd, unsigned long req, u32 scope, got* g) {
    auto s = sized<es_stats>();
    s.scope = scope;
    if (int e = xioctl(fd, req, s)) {
        *g = problem("stats scope " + std::to_string(scope) + ": " + errno_text(e));
        return 0;
    }
    return s.reasons[hlt_reason].count;
}

} // namespace

void matrix::vcpu_cases() {
    add("create_vm/vcpus_16", {0, ENOMEM}, [=, this] {
        auto a = create_args(vm_mem);
        a.vcpus = ES_MAX_VCPUS;
        long ret = -1;
        const int e = xioctl(dev, ES_IOC_CREATE_VM, a, &ret);
        fd_guard v(e ? -1 : static_cast<int>(ret));
        return got{e, {}};
    });
    add("create_vm/vcpus_17", {ERANGE}, [=, this] {
        auto a = create_args(vm_mem);
        a.vcpus = ES_MAX_VCPUS + 1;
        return got{xioctl(dev, ES_IOC_CREATE_VM, a), {}};
    });
    add("create_vm/reserved0_nonzero", {EINVAL}, [=, this] {
        auto a = create_args(vm_mem);
        a.reserved0 = 1;
        return got{xioctl(dev, ES_IOC_CREATE_VM, a), {}};
    });
    add("info/max_vcpus", {0}, [=, this] {
        auto i = sized<es_info>();
        if (int e = xioctl(dev, ES_IOC_INFO, i))
            return got{e, {}};
        if (i.max_vcpus != ES_MAX_VCPUS)
            return problem("max_vcpus " + std::to_string(i.max_vcpus));
        return ok();
    });
    // The argument's generic cases, on a fresh VM of two vCPUs each time.
    struct_cases<es_vcpu_create>(
        "create_vcpu", [this] { return smp_vm(); }, ES_VM_CREATE_VCPU,
        [] { return sized<es_vcpu_create>(); },
        [](es_vcpu_create&, long fd) {
            close(static_cast<int>(fd));
            return ok();
        },
        false);
    add("create_vcpu/index_past_the_vcpus", {ERANGE}, [=, this] {
        fd_guard c;
        return got{make_vcpu(smp_vm(), 2, &c), {}};
    });
    add("create_vcpu/index_twice", {EEXIST}, [=, this] {
        const int v = smp_vm();
        fd_guard a, b;
        if (int e = make_vcpu(v, 1, &a))
            return problem("first: " + errno_text(e));
        return got{make_vcpu(v, 1, &b), {}};
    });
    add("create_vcpu/on_device", {ENOTTY}, [=, this] {
        auto c = sized<es_vcpu_create>();
        return got{xioctl(dev, ES_VM_CREATE_VCPU, c), {}};
    });
    add("vm_run/several_vcpus", {EOPNOTSUPP}, [=, this] {
        es_run r;
        return got{run(smp_vm(), &r), {}};
    });
    add("vm_set_state/several_vcpus", {EOPNOTSUPP}, [=, this] {
        return got{set_state(smp_vm(), ES_MODE_REAL, image_gpa), {}};
    });
    add("vcpu_set_state/linux64_on_vcpu_1", {EINVAL}, [=, this] {
        fd_guard c;
        if (int e = make_vcpu(smp_vm(), 1, &c))
            return problem("vcpu: " + errno_text(e));
        auto a = sized<es_vcpu_state>();
        a.mode = ES_MODE_LINUX64;
        a.entry = image_gpa;
        a.boot_params = page;
        return got{xioctl(c.fd, ES_VCPU_SET_STATE, a), {}};
    });
    add("vcpu_stats/scope_vcpu_on_vm", {EINVAL}, [=, this] {
        auto s = sized<es_stats>();
        s.scope = ES_SCOPE_VCPU;
        return got{xioctl(smp_vm(), ES_VM_STATS, s), {}};
    });
    // Two vCPUs halt on their own threads: each counts its HLT, the VM both.
    add("vcpu_run/two_vcpus_halt_counted_each", {0}, [=, this] {
        two_vcpus t;
        es_run r0, r1;
        if (const std::string why = t.make_and_run(dev, halt_image, sizeof halt_image, &r0, &r1);
            !why.empty())
            return problem(why);
        // The first to halt stops the VM: the other halted too, or ended with the VM's stop.
        const auto fine = [](u32 s) { return s == ES_STOP_HALTED || s == ES_STOP_VM_STOPPED; };
        if (!fine(r0.stop) || !fine(r1.stop) || r0.vcpu != 0 || r1.vcpu != 1)
            return problem("stops " + std::to_string(r0.stop) + "/" + std::to_string(r1.stop));
        got g = ok();
        const u64 vm_hlt = hlt_count(t.vm.fd, ES_VM_STATS, ES_SCOPE_VM, &g);
        const u64 own0 = hlt_count(t.c0.fd, ES_VCPU_STATS, ES_SCOPE_VCPU, &g);
        const u64 own1 = hlt_count(t.c1.fd, ES_VCPU_STATS, ES_SCOPE_VCPU, &g);
        if (!g.problem.empty())
            return g;
        const u64 want = (r0.stop == ES_STOP_HALTED) + (r1.stop == ES_STOP_HALTED);
        if (vm_hlt != own0 + own1 || vm_hlt != want || vm_hlt == 0)
            return problem("HLT counts: vm " + std::to_string(vm_hlt) + ", vcpus " +
                           std::to_string(own0) + "+" + std::to_string(own1));
        return ok();
    });
    // vCPU 1 spins; vCPU 0's HLT stops the VM, and vCPU 1's run ends with the VM's stop.
    add("vcpu_run/halt_stops_a_spinning_vcpu", {0}, [=, this] {
        two_vcpus t;
        es_run r0, r1;
        if (const std::string why = t.make_and_run(dev, spin_image, sizeof spin_image, &r0, &r1,
                                                   std::chrono::milliseconds(50));
            !why.empty())
            return problem(why);
        if (r0.stop != ES_STOP_HALTED || r1.stop != ES_STOP_VM_STOPPED)
            return problem("stops " + std::to_string(r0.stop) + "/" + std::to_string(r1.stop));
        // The VM stays stopped for every vCPU until vCPU 0 gets a new start state.
        if (int e = vcpu_run(t.c1.fd, &r1); e || r1.stop != ES_STOP_VM_STOPPED)
            return problem("second run of vCPU 1: stop " + std::to_string(r1.stop));
        return ok();
    });
    // A vCPU descriptor keeps the VM: the VM's own descriptor closed, it still runs; the VM
    // goes when the last descriptor closes.
    add("vcpu_fd/keeps_the_vm", {0}, [=, this] {
        const long before = vms_open(dev);
        fd_guard v, c0, c1;
        if (int e = make_smp_vm(dev, 2, halt_image, sizeof halt_image, &v))
            return problem("vm: " + errno_text(e));
        if (make_vcpu(v.fd, 0, &c0) || make_vcpu(v.fd, 1, &c1) || vcpu_state(c0.fd, image_gpa))
            return problem("vcpu setup failed");
        v.reset();
        es_run r;
        if (int e = vcpu_run(c0.fd, &r); e || r.stop != ES_STOP_HALTED)
            return problem("run after the VM's descriptor closed: " + errno_text(e));
        c0.reset();
        if (vms_open(dev) != before + 1)
            return problem("the VM went before its last vCPU descriptor");
        c1.reset();
        if (vms_open(dev) != before)
            return problem("the VM outlived its descriptors");
        return ok();
    });
    // SIGKILL of a process with two vCPU threads in their runs: every VM goes.
    add("vcpu_run/sigkill_with_two_threads", {0}, [=, this] {
        const long before = vms_open(dev);
        const pid_t pid = fork();
        if (pid == 0) {
            fd_guard v, c0, c1;
            if (make_smp_vm(dev, 2, spin_image, sizeof spin_image, &v) || make_vcpu(v.fd, 0, &c0) ||
                make_vcpu(v.fd, 1, &c1) || vcpu_state(c0.fd, second_image_gpa) ||
                vcpu_state(c1.fd, second_image_gpa))
                _exit(1);
            std::thread t([&] {
                es_run r;
                vcpu_run(c1.fd, &r);
            });
            es_run r;
            vcpu_run(c0.fd, &r);
            _exit(2);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        for (int i = 0; i < 100 && vms_open(dev) != before; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (!WIFSIGNALED(status))
            return problem("the child ended by itself: " + std::to_string(status));
        if (vms_open(dev) != before)
            return problem("a VM is left after SIGKILL");
        return ok();
    });
}

// A fresh VM of two vCPUs (its descriptor kept until the matrix ends), or -1.
int matrix::smp_vm() {
    auto a = create_args(vm_mem);
    a.vcpus = 2;
    long ret = -1;
    if (xioctl(dev, ES_IOC_CREATE_VM, a, &ret))
        return -1;
    kept.emplace_back(static_cast<int>(ret));
    return static_cast<int>(ret);
}

} // namespace ioctl_matrix
