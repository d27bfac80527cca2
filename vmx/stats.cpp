// Statistics: snapshots for ES_IOC_STATS/ES_VM_STATS, reset, the global-scope figures of the
// CPUID leaves, and the flight-recorder ioctl. The live VMs they read come from vm_registry.hpp.
//
// Each VM's row is written only by the CPU running its vCPU, with interrupts off; everything
// wider is derived here. Global = the retired row (destroyed VMs) + every live VM's row - the
// baseline of the last reset. CPU scope = the counts and cycles of the guest sections that CPU
// ran (folded in as each section ends) + the section running there now - its baseline.
//
// A snapshot must not see half an update. A VM's row is copied on the CPU running the VM (by IPI,
// which that CPU takes only between two exits) or, while it runs nowhere, in place, checked by
// the VM's section sequence number. The registry mutex keeps VMs alive while a snapshot copies
// them; the registry spinlock lets the exit path read the registry for global-scope leaves.
#include "stats.hpp"

#include "core.hpp"
#include "exitscope/boundary.h"
#include "exitscope/errno.hpp"
#include "pure/arg_checks.hpp"
#include "pure/index_nospec.hpp"
#include "stats_state.hpp"
#include "vm_registry.hpp"
#include "vmx_ops.hpp"

namespace es {

constinit stats_state stats{};

namespace {

// ES_STATS_PAGING_* of the VMs that ran a section since load or the last reset (es_stats.paging
// in global scope). Set at section start, where the VM is known, and only when its bit is
// missing: after a VM's first section it costs a load and a branch, never a shared store.
constinit std::uint32_t paging_seen = 0;

std::uint32_t paging_of(const es_vm& vm) {
    return vm.shadow_paging ? ES_STATS_PAGING_SHADOW : ES_STATS_PAGING_EPT;
}

// Run `f(cpu)` on each CPU of [first, first + n) with interrupts off (see es_shim_on_cpus).
template <typename F> void on_cpus(std::uint32_t first, std::uint32_t n, F& f) {
    es_shim_on_cpus(
        first, n, [](void* arg, es_u32 c) { (*static_cast<F*>(arg))(c); }, &f);
}

// Snapshot scratch from the heap (a row is 43 KiB: too big for the kernel stack).
template <typename T> class scratch {
  public:
    scratch() : p_(static_cast<T*>(es_shim_zalloc(sizeof(T)))) {}
    ~scratch() { es_shim_free(p_); }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
    explicit operator bool() const { return p_ != nullptr; }
    T& operator*() const { return *p_; }

  private:
    T* p_;
};

// A VM that starts and ends sections faster than a snapshot can catch it still is copied word by
// word after this many tries (each word is still whole).
constexpr int copy_tries = 64;

// Copy `vcpu`'s row whole into `into`.
void copy_row(const es_vcpu& vcpu, counter_row& into) {
    for (int i = 0; i < copy_tries; ++i) {
        const std::int32_t cpu = __atomic_load_n(&vcpu.section_cpu, __ATOMIC_ACQUIRE);
        if (cpu != no_cpu) {
            bool copied = false;
            auto copy_there = [&vcpu, &into, &copied](std::uint32_t c) {
                if (__atomic_load_n(&vcpu.section_cpu, __ATOMIC_RELAXED) ==
                    static_cast<std::int32_t>(c)) {
                    into = *vcpu.row;
                    copied = true;
                }
            };
            on_cpus(static_cast<std::uint32_t>(cpu), 1, copy_there);
            if (copied)
                return;
            continue; // it moved or stopped meanwhile
        }
        const std::uint32_t seq = __atomic_load_n(&vcpu.section_seq, __ATOMIC_ACQUIRE);
        if (seq & 1)
            continue; // a section is starting
        into = *vcpu.row;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&vcpu.section_seq, __ATOMIC_RELAXED) == seq)
            return;
    }
    into = *vcpu.row;
}

// `into` += every vCPU row of `vm`, each copied whole; `row` is scratch.
void add_vm(counter_totals& into, const es_vm& vm, counter_row& row) {
    for (std::uint32_t i = 0; i < vm.nr_vcpus; ++i) {
        copy_row(vm.vcpus[i], row);
        add_row(into, row);
    }
}

// The global counters since the last reset, under the registry mutex. `row` is scratch.
void add_global(counter_totals& into, counter_row& row) {
    add_row(into, *stats.retired);
    for_each_live_vm([&into, &row](const es_vm& vm) { add_vm(into, vm, row); });
}

// CPU `cpu`'s counts and cycles: its folded sections and the one running there now. On that
// CPU with interrupts off, so the running section is between two exits.
void cpu_sums_now(reason_sums& into, std::uint32_t cpu) {
    into = stats.cpu_sums[cpu];
    if (const es_vcpu* vcpu = stats.running[cpu])
        add_section(into, *vcpu->row, vcpu->section_base);
}

void copy_out(es_stats& out, const counter_totals& t) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r)
        out.reasons[r] = t.r[r];
}

template <typename T> bool arguments_clear(const T& a) {
    return reserved_clear(a) && a.reserved0 == 0;
}

// es_stats.paging is an out field (reserved0 before it): what the caller left there is replaced.
bool arguments_clear(const es_stats& a) {
    return reserved_clear(a);
}

bool arguments_clear(const es_vms& a) {
    return reserved_clear(a) && a.flags == 0;
}

} // namespace

bool stats_alloc(std::uint32_t nr_cpus) {
    stats = stats_state{};
    __atomic_store_n(&paging_seen, 0, __ATOMIC_RELAXED);
    stats.nr_cpus = nr_cpus;
    stats.retired = static_cast<counter_row*>(es_shim_zalloc(sizeof(counter_row)));
    stats.baseline = static_cast<counter_totals*>(es_shim_zalloc(sizeof(counter_totals)));
    const std::uint64_t sums_bytes = sizeof(reason_sums) * std::uint64_t{nr_cpus};
    stats.cpu_sums = static_cast<reason_sums*>(es_shim_zalloc(sums_bytes));
    stats.cpu_baselines = static_cast<reason_sums*>(es_shim_zalloc(sums_bytes));
    stats.running =
        static_cast<const es_vcpu**>(es_shim_zalloc(sizeof(es_vcpu*) * std::uint64_t{nr_cpus}));
    const std::uint64_t rec_bytes = sizeof(cpu_recorder) * std::uint64_t{nr_cpus} + 64;
    stats.recorders_alloc = es_shim_zalloc(rec_bytes);
    stats.recorders = stats.recorders_alloc
                          ? static_cast<cpu_recorder*>(align_up(stats.recorders_alloc, 64))
                          : nullptr;
    if (stats.retired)
        init_row(*stats.retired);
    return stats.retired && stats.baseline && stats.cpu_sums && stats.cpu_baselines &&
           stats.running && stats.recorders;
}

void stats_free() {
    es_shim_free(stats.retired);
    es_shim_free(stats.baseline);
    es_shim_free(stats.cpu_sums);
    es_shim_free(stats.cpu_baselines);
    es_shim_free(stats.running);
    es_shim_free(stats.recorders_alloc);
    stats = stats_state{};
}

cpu_recorder& recorder_of(std::uint32_t cpu) {
    return stats.recorders[cpu];
}

// The section protocol copy_row relies on: the sequence number is odd while the vCPU runs a
// section (the release fence orders it before the row's updates), and section_cpu names the CPU.
void begin_section(es_vcpu& vcpu, std::uint32_t cpu) {
    section_start(vcpu.section_base, *vcpu.row);
    __atomic_store_n(&vcpu.section_seq, vcpu.section_seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    stats.running[cpu] = &vcpu;
    __atomic_store_n(&vcpu.section_cpu, static_cast<std::int32_t>(cpu), __ATOMIC_RELEASE);
    const std::uint32_t paging = paging_of(*vcpu.vm);
    if (!(__atomic_load_n(&paging_seen, __ATOMIC_RELAXED) & paging))
        __atomic_fetch_or(&paging_seen, paging, __ATOMIC_RELAXED);
}

void end_section(es_vcpu& vcpu, std::uint32_t cpu) {
    add_section(stats.cpu_sums[cpu], *vcpu.row, vcpu.section_base);
    stats.running[cpu] = nullptr;
    __atomic_store_n(&vcpu.section_cpu, no_cpu, __ATOMIC_RELEASE);
    __atomic_store_n(&vcpu.section_seq, vcpu.section_seq + 1, __ATOMIC_RELEASE);
}

// One global figure for the CPUID leaves: retired + live VMs - baseline. The registry spinlock
// is taken once; the cost grows with the live VMs, not with CPUs or reasons.
template <typename RowFigure, typename BaseFigure>
std::uint64_t global_figure(RowFigure of_row, BaseFigure of_base) {
    const registry_lock_guard g;
    std::uint64_t sum = of_row(*stats.retired) - of_base(*stats.baseline);
    for_each_live_vm([&sum, &of_row](const es_vm& vm) {
        for (std::uint32_t i = 0; i < vm.nr_vcpus; ++i)
            sum += of_row(*vm.vcpus[i].row);
    });
    return sum;
}

std::uint64_t global_count(std::uint32_t reason) {
    return global_figure(
        [reason](const counter_row& row) { return relaxed_read(row.cell[reason].count); },
        [reason](const counter_totals& base) { return base.r[reason].count; });
}

std::uint64_t global_cycles(std::uint32_t reason) {
    return global_figure(
        [reason](const counter_row& row) { return relaxed_read(row.cell[reason].cycles); },
        [reason](const counter_totals& base) { return base.r[reason].cycles; });
}

std::uint64_t global_exits() {
    return global_figure([](const counter_row& row) { return relaxed_read(row.exits); },
                         [](const counter_totals& base) { return base.exits; });
}

std::uint64_t global_exit_cycles() {
    return global_figure([](const counter_row& row) { return relaxed_read(row.cycles); },
                         [](const counter_totals& base) { return base.cycles; });
}

} // namespace es

using namespace es;

namespace {

// A snapshot of `out->scope` of `vm` and `vcpu` (null where the scope has none). The caller
// has checked the arguments and keeps the VM alive (its descriptor, or the registry mutex).
int take_stats(es_stats* out, const es_vm* vm, const es_vcpu* vcpu) {
    const scratch<counter_totals> totals;
    const scratch<counter_row> row;
    const scratch<reason_sums> sums;
    if (!totals || !row || !sums)
        return -err::no_mem;
    out->nr_reasons = nr_reasons;
    out->instrument = static_cast<std::uint32_t>(core.instrument);
    out->tsc = hw::rdtsc();
    out->paging = 0;
    counter_totals& t = *totals;
    switch (out->scope) {
    case ES_SCOPE_VM:
        out->paging = paging_of(*vm);
        add_vm(t, *vm, *row);
        break;
    case ES_SCOPE_VCPU:
        out->paging = paging_of(*vm);
        copy_row(*vcpu, *row);
        add_row(t, *row);
        break;
    case ES_SCOPE_CPU: {
        auto read_cpu = [&s = *sums](std::uint32_t cpu) { cpu_sums_now(s, cpu); };
        on_cpus(out->cpu, 1, read_cpu);
        add_sums(t, *sums);
        const reason_sums& base = stats.cpu_baselines[out->cpu];
        for (std::uint32_t r = 0; r < nr_reasons; ++r) {
            t.r[r].count -= base.r[r].count;
            t.r[r].cycles -= base.r[r].cycles;
        }
        break;
    }
    default: {
        const registry_mutex_guard m;
        add_global(t, *row);
        subtract(t, *stats.baseline);
        out->paging = __atomic_load_n(&paging_seen, __ATOMIC_RELAXED);
        break;
    }
    }
    out->retries = 0; // nothing is ever read twice
    copy_out(*out, t);
    return 0;
}

// The scope's fields, as far as they can be checked without the registry: `on_device` is
// /dev/exitscope, where vm_id names the VM of the VM and vCPU scopes; a descriptor names its own.
int check_scope(const es_stats& a, bool on_device, bool on_vcpu) {
    if (!arguments_clear(a) || a.scope > ES_SCOPE_VCPU)
        return -err::inval;
    if (a.scope == ES_SCOPE_CPU && a.cpu >= stats.nr_cpus)
        return -err::inval;
    const bool names_vm = a.scope == ES_SCOPE_VM || a.scope == ES_SCOPE_VCPU;
    if (!on_device)
        return a.vm_id || a.vcpu || (a.scope == ES_SCOPE_VCPU && !on_vcpu) ? -err::inval : 0;
    if (names_vm != (a.vm_id != 0) || (a.vcpu && a.scope != ES_SCOPE_VCPU))
        return -err::inval;
    return 0;
}

// ES_IOC_STATS of the VM or a vCPU named by id: looked up and copied under the registry mutex,
// so the VM cannot go away meanwhile.
int take_named_stats(es_stats* out) {
    const registry_mutex_guard m;
    const es_vm* vm = find_live_vm(out->vm_id);
    if (!vm)
        return -err::no_entry;
    const es_vcpu* vcpu = nullptr;
    if (out->scope == ES_SCOPE_VCPU) {
        if (out->vcpu >= vm->nr_vcpus)
            return -err::range;
        vcpu = &vm->vcpus[array_index_nospec(out->vcpu, vm->nr_vcpus)];
    }
    return take_stats(out, vm, vcpu);
}

} // namespace

extern "C" int es_core_stats(es_stats* out, const es_vm* vm) {
    if (int e = check_scope(*out, vm == nullptr, false))
        return e;
    if (!vm && out->vm_id)
        return take_named_stats(out);
    return take_stats(out, vm, nullptr);
}

extern "C" int es_core_vcpu_stats(es_stats* out, const es_vm* vm, es_u32 index) {
    if (int e = check_scope(*out, false, true))
        return e;
    return take_stats(out, vm, &vm->vcpus[index]);
}

extern "C" int es_core_list_vms(es_vms* v, es_vm_entry* buffer, es_u32 capacity) {
    if (!arguments_clear(*v))
        return -err::inval;
    std::uint32_t n = 0;
    const registry_mutex_guard m;
    for_each_live_vm([&](const es_vm& vm) {
        if (n < capacity) {
            es_vm_entry& e = buffer[n];
            e = es_vm_entry{};
            e.id = vm.id;
            e.vcpus = vm.nr_vcpus;
            e.paging = paging_of(vm);
            e.owner_tgid = vm.owner_tgid;
            e.mem_bytes = vm.mem.bytes;
            e.exits = vm_exits(vm);
        }
        ++n;
    });
    v->count = n;
    return 0;
}

extern "C" int es_core_reset_stats(void) {
    const scratch<counter_totals> base;
    const scratch<counter_row> row;
    if (!base || !row)
        return -err::no_mem;
    const registry_mutex_guard m;
    add_global(*base, *row);
    {
        const registry_lock_guard g;
        *stats.baseline = *base;
    }
    auto reset_cpu = [](std::uint32_t cpu) { cpu_sums_now(stats.cpu_baselines[cpu], cpu); };
    on_cpus(0, stats.nr_cpus, reset_cpu);
    // A VM running now sets its bit again at its next section start; one that never runs again
    // has nothing in the figures since this reset.
    __atomic_store_n(&paging_seen, 0, __ATOMIC_RELAXED);
    return 0;
}

extern "C" int es_core_trace(es_trace* t, es_trace_entry* buffer, es_u32 capacity) {
    auto* cursors = static_cast<ring_cursor*>(
        es_shim_zalloc(sizeof(ring_cursor) * std::uint64_t{stats.nr_cpus}));
    if (!cursors)
        return -err::no_mem;
    t->count =
        collect_trace(stats.recorders, stats.nr_cpus, (t->flags & ES_TRACE_OUTLIER_RING) != 0,
                      t->vm, buffer, capacity, cursors);
    es_shim_free(cursors);
    t->outlier_cycles = core.outlier_cycles;
    return 0;
}

extern "C" int es_core_check_trace(const es_trace* t) {
    if (!arguments_clear(*t) || (t->flags & ~ES_TRACE_OUTLIER_RING))
        return -err::inval;
    if (t->capacity && !t->entries)
        return -err::fault;
    return 0;
}
