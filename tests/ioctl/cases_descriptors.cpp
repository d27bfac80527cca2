// The ioctl matrix: a VM descriptor's statistics, ioctls on the wrong kind of descriptor, unknown
// requests, closed descriptors and read-only opens.
#include "harness.hpp"

namespace ioctl_matrix {

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

} // namespace ioctl_matrix
