// The ioctl matrix: the device descriptor's ioctls (info, reasons, stats, reset) and VM
// creation.
#include "harness.hpp"

namespace ioctl_matrix {

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
    // entry_mitigations (reserved0 before) is an out field: what the caller left there is
    // replaced by the module's ES_MITIGATE_* bits, nothing else.
    add("info/entry_mitigations_is_out", {0}, [=, this] {
        auto a = sized<es_info>();
        a.entry_mitigations = 0xffff0000u;
        const int e = xioctl(dev, ES_IOC_INFO, a);
        if (e == 0 && (a.entry_mitigations & ~0xfu))
            return problem("entry_mitigations " + std::to_string(a.entry_mitigations));
        return got{e, {}};
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

    // `paging` picks whose reasons: INVLPG (14) exits only under shadow paging.
    add("reasons/paging_picks_the_vm_kind", {0}, [=, this] {
        constexpr u32 invlpg = 14;
        std::uint8_t flags[4] = {};
        const u32 kinds[4] = {0, ES_STATS_PAGING_EPT, ES_STATS_PAGING_SHADOW,
                              ES_STATS_PAGING_EPT | ES_STATS_PAGING_SHADOW};
        for (int i = 0; i < 4; ++i) {
            auto r = sized<es_reasons>();
            r.paging = kinds[i];
            if (int e = xioctl(dev, ES_IOC_REASONS, r))
                return got{e, {}};
            flags[i] = r.flags[invlpg];
        }
        const bool enabled[4] = {
            (flags[0] & ES_REASON_ENABLED) != 0, (flags[1] & ES_REASON_ENABLED) != 0,
            (flags[2] & ES_REASON_ENABLED) != 0, (flags[3] & ES_REASON_ENABLED) != 0};
        // A CPU that cannot give a shadow VM its exits has INVLPG off for both kinds.
        if (enabled[0] || enabled[1] || enabled[3] != enabled[2])
            return problem("INVLPG enabled: default " + std::to_string(enabled[0]) + ", ept " +
                           std::to_string(enabled[1]) + ", shadow " + std::to_string(enabled[2]) +
                           ", both " + std::to_string(enabled[3]));
        return ok();
    });
    add("reasons/paging_unknown_bit", {EINVAL}, [=, this] {
        auto r = sized<es_reasons>();
        r.paging = 4;
        return got{xioctl(dev, ES_IOC_REASONS, r), {}};
    });
    add("reasons/reserved0_nonzero", {EINVAL}, [=, this] {
        auto r = sized<es_reasons>();
        r.reserved0 = 1;
        return got{xioctl(dev, ES_IOC_REASONS, r), {}};
    });

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
    // ES_VM_SHADOW_PAGING is the one defined flag.
    flags_cases<es_vm_create>("create_vm", dev_fd, ES_IOC_CREATE_VM, make, 2);
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

} // namespace ioctl_matrix
