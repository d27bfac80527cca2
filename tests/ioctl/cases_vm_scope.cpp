// The ioctl matrix: a VM's and a vCPU's statistics read on /dev/exitscope by the VM's id
// (es_stats.vm_id and .vcpu), the live-VM list (ES_IOC_VMS) and the flight recorder's vCPU.
#include "harness.hpp"

namespace ioctl_matrix {

namespace {

// A one-vCPU VM that ran halt_image to its HLT: its descriptor and its id.
struct halted_vm {
    fd_guard vm;
    es_run r{};
    int make(int dev) {
        if (int e = make_guest(dev, vm_mem, halt_image, sizeof halt_image, &vm))
            return e;
        return run(vm.fd, &r);
    }
};

int dev_stats(int dev, u32 scope, u32 vm_id, u32 vcpu, es_stats* s) {
    *s = sized<es_stats>();
    s->scope = scope;
    s->vm_id = vm_id;
    s->vcpu = vcpu;
    return xioctl(dev, ES_IOC_STATS, *s);
}

// ES_IOC_VMS with room for `capacity` entries.
int list_vms(int dev, u32 capacity, std::vector<es_vm_entry>* out, u32* count) {
    out->assign(capacity, es_vm_entry{});
    auto v = sized<es_vms>();
    v.capacity = capacity;
    v.entries = reinterpret_cast<u64>(out->data());
    const int e = xioctl(dev, ES_IOC_VMS, v);
    *count = v.count;
    return e;
}

const es_vm_entry* entry_of(const std::vector<es_vm_entry>& list, u32 count, u32 id) {
    for (u32 i = 0; i < count && i < list.size(); ++i)
        if (list[i].id == id)
            return &list[i];
    return nullptr;
}

} // namespace

void matrix::vm_scope_cases() {
    struct_cases<es_vms>(
        "vms", [this] { return dev; }, ES_IOC_VMS, [] { return sized<es_vms>(); },
        [](es_vms&, long) { return ok(); }, true);
    flags_cases<es_vms>(
        "vms", [this] { return dev; }, ES_IOC_VMS, [] { return sized<es_vms>(); });
    add("vms/entries_null_with_capacity", {EFAULT}, [=, this] {
        auto v = sized<es_vms>();
        v.capacity = 4;
        return got{xioctl(dev, ES_IOC_VMS, v), {}};
    });
    add("vms/entries_unmapped", {EFAULT}, [=, this] {
        auto v = sized<es_vms>();
        v.capacity = 4;
        v.entries = unmapped_address();
        return got{xioctl(dev, ES_IOC_VMS, v), {}};
    });
    // A VM that ran: listed with its id, vCPUs, memory, creator and exits, until it is closed.
    add("vms/lists_a_vm_until_it_closes", {0}, [=, this] {
        halted_vm h;
        if (int e = h.make(dev); e || h.r.stop != ES_STOP_HALTED)
            return problem("setup: " + errno_text(e));
        std::vector<es_vm_entry> list;
        u32 count = 0;
        if (int e = list_vms(dev, 64, &list, &count))
            return got{e, {}};
        const es_vm_entry* e = entry_of(list, count, h.r.vm_id);
        if (!e)
            return problem("VM " + std::to_string(h.r.vm_id) + " is not listed");
        if (e->vcpus != 1 || e->mem_bytes != vm_mem || e->owner_tgid != u32(getpid()) ||
            e->exits != h.r.exits ||
            (e->paging != ES_STATS_PAGING_EPT && e->paging != ES_STATS_PAGING_SHADOW))
            return problem("entry: vcpus " + std::to_string(e->vcpus) + ", mem " +
                           std::to_string(e->mem_bytes) + ", tgid " +
                           std::to_string(e->owner_tgid) + ", exits " + std::to_string(e->exits) +
                           " (run: " + std::to_string(h.r.exits) + ")");
        const u32 id = h.r.vm_id;
        h.vm.reset();
        if (int err = list_vms(dev, 64, &list, &count))
            return got{err, {}};
        if (entry_of(list, count, id))
            return problem("VM " + std::to_string(id) + " is still listed after its close");
        return ok();
    });
    // Room for one: count says how many are live, and nothing past the room is written.
    add("vms/capacity_below_the_count", {0}, [=, this] {
        halted_vm a, b;
        if (a.make(dev) || b.make(dev))
            return problem("setup failed");
        std::vector<es_vm_entry> list(2);
        std::memset(list.data(), 0xA5, sizeof(es_vm_entry) * 2);
        auto v = sized<es_vms>();
        v.capacity = 1;
        v.entries = reinterpret_cast<u64>(list.data());
        if (int e = xioctl(dev, ES_IOC_VMS, v))
            return got{e, {}};
        if (v.count < 2 || list[0].id == 0xA5A5A5A5u || list[1].id != 0xA5A5A5A5u)
            return problem("count " + std::to_string(v.count));
        return ok();
    });
    add("vms/capacity_0_counts", {0}, [=, this] {
        halted_vm a;
        if (a.make(dev))
            return problem("setup failed");
        auto v = sized<es_vms>();
        if (int e = xioctl(dev, ES_IOC_VMS, v))
            return got{e, {}};
        return v.count >= 1 ? ok() : problem("count 0 with a live VM");
    });

    // The VM's scope by id is the VM descriptor's.
    add("dev_stats/vm_scope_by_id", {0}, [=, this] {
        halted_vm h;
        if (int e = h.make(dev))
            return problem("setup: " + errno_text(e));
        es_stats by_id, own = sized<es_stats>();
        own.scope = ES_SCOPE_VM;
        if (int e = dev_stats(dev, ES_SCOPE_VM, h.r.vm_id, 0, &by_id))
            return got{e, {}};
        if (int e = xioctl(h.vm.fd, ES_VM_STATS, own))
            return problem("ES_VM_STATS: " + errno_text(e));
        if (by_id.reasons[hlt_reason].count != 1 || own.reasons[hlt_reason].count != 1 ||
            by_id.paging != own.paging)
            return problem("HLT " + std::to_string(by_id.reasons[hlt_reason].count) + "/" +
                           std::to_string(own.reasons[hlt_reason].count));
        return ok();
    });
    // Each vCPU's scope by id is its descriptor's; the VM's is their sum.
    add("dev_stats/vcpu_scope_by_id", {0}, [=, this] {
        two_vcpus t;
        es_run r0, r1;
        if (const std::string why = t.make_and_run(dev, halt_image, sizeof halt_image, &r0, &r1);
            !why.empty())
            return problem(why);
        u64 sum = 0;
        for (u32 i = 0; i < 2; ++i) {
            es_stats by_id, own = sized<es_stats>();
            own.scope = ES_SCOPE_VCPU;
            if (int e = dev_stats(dev, ES_SCOPE_VCPU, r0.vm_id, i, &by_id))
                return got{e, {}};
            if (int e = xioctl(i ? t.c1.fd : t.c0.fd, ES_VCPU_STATS, own))
                return problem("ES_VCPU_STATS: " + errno_text(e));
            if (std::memcmp(by_id.reasons, own.reasons, sizeof own.reasons) != 0)
                return problem("vCPU " + std::to_string(i) + ": by id and by descriptor differ");
            sum += by_id.reasons[hlt_reason].count;
        }
        es_stats vm_scope;
        if (int e = dev_stats(dev, ES_SCOPE_VM, r0.vm_id, 0, &vm_scope))
            return got{e, {}};
        if (vm_scope.reasons[hlt_reason].count != sum || sum == 0)
            return problem("VM HLT " + std::to_string(vm_scope.reasons[hlt_reason].count) +
                           ", vCPUs " + std::to_string(sum));
        return ok();
    });
    // Ids, scopes and vCPUs the device refuses, without a VM and with a halted one (`closed`:
    // its descriptor closed before the read).
    struct refusal {
        const char* name;
        int want;
        u32 scope, vm_id, vcpu;
    };
    for (const refusal& c :
         {refusal{"dev_stats/no_such_vm", ENOENT, ES_SCOPE_VM, 0xfffffff0u, 0},
          refusal{"dev_stats/vm_scope_without_id", EINVAL, ES_SCOPE_VM, 0, 0},
          refusal{"dev_stats/vcpu_scope_without_id", EINVAL, ES_SCOPE_VCPU, 0, 1},
          refusal{"dev_stats/vm_id_in_global_scope", EINVAL, ES_SCOPE_GLOBAL, 1, 0}})
        add(c.name, {c.want}, [=, this] {
            es_stats s;
            return got{dev_stats(dev, c.scope, c.vm_id, c.vcpu, &s), {}};
        });
    struct vm_refusal {
        const char* name;
        int want;
        u32 scope, vcpu;
        bool closed;
    };
    for (const vm_refusal& c :
         {vm_refusal{"dev_stats/vcpu_past_the_vcpus", ERANGE, ES_SCOPE_VCPU, 1, false},
          vm_refusal{"dev_stats/vm_closed", ENOENT, ES_SCOPE_VM, 0, true},
          vm_refusal{"dev_stats/vcpu_in_vm_scope", EINVAL, ES_SCOPE_VM, 1, false}})
        add(c.name, {c.want}, [=, this] {
            halted_vm h;
            if (int e = h.make(dev))
                return problem("setup: " + errno_text(e));
            if (c.closed)
                h.vm.reset();
            es_stats s;
            return got{dev_stats(dev, c.scope, h.r.vm_id, c.vcpu, &s), {}};
        });
    add("vm_stats/vm_id_on_a_descriptor", {EINVAL}, [=, this] {
        halted_vm h;
        if (int e = h.make(dev))
            return problem("setup: " + errno_text(e));
        auto s = sized<es_stats>();
        s.scope = ES_SCOPE_VM;
        s.vm_id = h.r.vm_id;
        return got{xioctl(h.vm.fd, ES_VM_STATS, s), {}};
    });
    // The flight recorder names the vCPU of each exit (instrument=3, the default).
    add("trace/names_the_vcpu", {0}, [=, this] {
        two_vcpus t;
        es_run r0, r1;
        if (const std::string why = t.make_and_run(dev, halt_image, sizeof halt_image, &r0, &r1);
            !why.empty())
            return problem(why);
        std::vector<es_trace_entry> entries(64);
        auto tr = sized<es_trace>();
        tr.vm = r0.vm_id;
        tr.entries = reinterpret_cast<u64>(entries.data());
        tr.capacity = 64;
        if (int e = xioctl(dev, ES_IOC_TRACE, tr))
            return got{e, {}};
        bool seen[2] = {false, false};
        for (u32 i = 0; i < tr.count; ++i) {
            if (entries[i].vcpu > 1)
                return problem("vcpu " + std::to_string(entries[i].vcpu));
            seen[entries[i].vcpu] = true;
        }
        const bool want1 = r1.stop == ES_STOP_HALTED; // vCPU 1 may not have exited at all
        if (!seen[r0.stop == ES_STOP_HALTED ? 0 : 1] || (want1 && !seen[1]))
            return problem(std::to_string(tr.count) + " entries, vCPUs seen " +
                           std::to_string(seen[0]) + "," + std::to_string(seen[1]));
        return ok();
    });
}

} // namespace ioctl_matrix
