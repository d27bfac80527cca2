// Statistics: the registry of live VMs, snapshots for ES_IOC_STATS/ES_VM_STATS, reset, and the
// flight-recorder ioctl. Exit paths write only their own VM's row on their own CPU, with
// interrupts off; everything global is derived here by summing. A snapshot copies each CPU's
// rows on that CPU (es_shim_on_cpus: an IPI, taken only between two exits), so it never sees
// half an update and the exit path needs no sequence counter. The registry (VM list, retired
// rows, reset baselines) is under a spinlock taken with interrupts off, so the CPUID exit path
// and those IPIs may take it too.
#include "stats.hpp"

#include "arg_checks.hpp"
#include "core.hpp"
#include "exitscope/boundary.h"
#include "exitscope/errno.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

// Holds the registry lock for a scope.
class registry_guard {
  public:
    registry_guard() : flags_(es_shim_registry_lock()) {}
    ~registry_guard() { es_shim_registry_unlock(flags_); }
    registry_guard(const registry_guard&) = delete;
    registry_guard& operator=(const registry_guard&) = delete;

  private:
    es_u64 flags_;
};

// Call f(rows) for the retired rows and for each live VM's (one row per CPU, indexed by CPU);
// under the registry lock.
template <typename F> void for_all_rows(F f) {
    f(core.retired_rows);
    for (const es_vm* vm = core.vm_list; vm; vm = vm->next_vm)
        f(vm->rows);
}

// The totals of a snapshot, from the heap (28 KiB: too big for the kernel stack).
struct snapshot_scratch {
    counter_totals* totals = static_cast<counter_totals*>(es_shim_zalloc(sizeof(counter_totals)));
    ~snapshot_scratch() { es_shim_free(totals); }
    snapshot_scratch() = default;
    snapshot_scratch(const snapshot_scratch&) = delete;
    snapshot_scratch& operator=(const snapshot_scratch&) = delete;
};

// The rows of `cpu`, of every live VM and the retired ones; under the registry lock, on `cpu`
// with interrupts off.
void add_cpu_rows(counter_totals& into, std::uint32_t cpu) {
    for_all_rows([&into, cpu](const counter_row* rows) { add_rows(into, rows + cpu, 1); });
}

// The counters of global and CPU scope: since the last reset.
void add_cpu_since_reset(counter_totals& into, std::uint32_t cpu) {
    const registry_guard g;
    add_cpu_rows(into, cpu);
    subtract(into, core.baselines[cpu]);
}

// Run `f(cpu)` on each CPU of [first, first + n), one after the other (see es_shim_on_cpus).
template <typename F> void on_cpus(std::uint32_t first, std::uint32_t n, F& f) {
    es_shim_on_cpus(
        first, n, [](void* arg, es_u32 cpu) { (*static_cast<F*>(arg))(cpu); }, &f);
}

void copy_out(es_stats& out, const counter_totals& t) {
    for (std::uint32_t r = 0; r < nr_reasons; ++r)
        out.reasons[r] = t.r[r];
}

template <typename T> bool arguments_clear(const T& a) {
    return reserved_clear(a) && a.reserved0 == 0;
}

} // namespace

bool alloc_stats(std::uint32_t nr_cpus) {
    core.retired_rows = alloc_counter_rows(nr_cpus, &core.retired_alloc);
    core.baselines = static_cast<counter_totals*>(
        es_shim_zalloc(sizeof(counter_totals) * std::uint64_t{nr_cpus}));
    const std::uint64_t rec_bytes = sizeof(cpu_recorder) * std::uint64_t{nr_cpus} + 64;
    core.recorders_alloc = es_shim_zalloc(rec_bytes);
    core.recorders = core.recorders_alloc
                         ? static_cast<cpu_recorder*>(align_up(core.recorders_alloc, 64))
                         : nullptr;
    return core.retired_rows && core.baselines && core.recorders;
}

void free_stats() {
    es_shim_free(core.retired_alloc);
    es_shim_free(core.baselines);
    es_shim_free(core.recorders_alloc);
    core.retired_rows = nullptr;
    core.baselines = nullptr;
    core.recorders = nullptr;
}

void register_vm(es_vm& vm) {
    const registry_guard g;
    vm.prev_vm = nullptr;
    vm.next_vm = core.vm_list;
    if (core.vm_list)
        core.vm_list->prev_vm = &vm;
    core.vm_list = &vm;
}

void unregister_vm(es_vm& vm) {
    const registry_guard g;
    // The VM runs nowhere now (its descriptor is gone), so its rows are stable.
    for (std::uint32_t cpu = 0; cpu < core.nr_cpus; ++cpu)
        fold_row(core.retired_rows[cpu], vm.rows[cpu]);
    if (vm.prev_vm)
        vm.prev_vm->next_vm = vm.next_vm;
    else
        core.vm_list = vm.next_vm;
    if (vm.next_vm)
        vm.next_vm->prev_vm = vm.prev_vm;
}

// One cell of one reason over every VM, since the last reset (whose baselines are per CPU).
template <std::uint64_t es_reason_stats::*Base,
          std::uint64_t (*Sum)(const counter_row*, std::uint32_t, std::uint32_t)>
std::uint64_t global_cell(std::uint32_t reason) {
    const registry_guard g;
    std::uint64_t base = 0;
    for (std::uint32_t cpu = 0; cpu < core.nr_cpus; ++cpu)
        base += core.baselines[cpu].r[reason].*Base;
    std::uint64_t sum = 0;
    for_all_rows(
        [&sum, reason](const counter_row* rows) { sum += Sum(rows, core.nr_cpus, reason); });
    return sum - base;
}

std::uint64_t global_count(std::uint32_t reason) {
    return global_cell<&es_reason_stats::count, sum_count>(reason);
}

std::uint64_t global_cycles(std::uint32_t reason) {
    return global_cell<&es_reason_stats::cycles, sum_cycles>(reason);
}

} // namespace es

using namespace es;

extern "C" int es_core_stats(es_stats* out, const es_vm* vm) {
    if (!arguments_clear(*out))
        return -err::inval;
    if (out->scope == ES_SCOPE_CPU && out->cpu >= core.nr_cpus)
        return -err::inval;
    if (out->scope > ES_SCOPE_VM || (out->scope == ES_SCOPE_VM && !vm))
        return -err::inval;
    const snapshot_scratch s;
    if (!s.totals)
        return -err::no_mem;
    out->nr_reasons = nr_reasons;
    out->instrument = static_cast<std::uint32_t>(core.instrument);
    out->tsc = hw::rdtsc();
    counter_totals& t = *s.totals;
    auto add_cpu = [&t, vm, scope = out->scope](std::uint32_t cpu) {
        if (scope == ES_SCOPE_VM) // the VM is alive while its descriptor is held
            add_rows(t, vm->rows + cpu, 1);
        else
            add_cpu_since_reset(t, cpu);
    };
    if (out->scope == ES_SCOPE_CPU)
        on_cpus(out->cpu, 1, add_cpu);
    else
        on_cpus(0, core.nr_cpus, add_cpu);
    out->retries = 0; // nothing is ever read twice (see the top of this file)
    copy_out(*out, *s.totals);
    return 0;
}

extern "C" int es_core_reset_stats(void) {
    auto reset_cpu = [](std::uint32_t cpu) {
        const registry_guard g;
        clear(core.baselines[cpu]);
        add_cpu_rows(core.baselines[cpu], cpu);
    };
    on_cpus(0, core.nr_cpus, reset_cpu);
    return 0;
}

extern "C" int es_core_trace(es_trace* t, es_trace_entry* buffer, es_u32 capacity) {
    t->count = collect_trace(core.recorders, core.nr_cpus, (t->flags & ES_TRACE_OUTLIER_RING) != 0,
                             t->vm, buffer, capacity);
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
