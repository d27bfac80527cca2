// Reading the flight recorder: a k-way merge of the per-CPU rings by exit TSC.
#include "flight_recorder.hpp"

namespace es {

namespace {

// Merge the rings oldest first; skip the first `skip` matching entries, write up to `capacity`.
// Returns how many entries matched in all.
template <typename Ring>
std::uint64_t merge(const cpu_recorder* cpus, std::uint32_t nr, const Ring cpu_recorder::*which,
                    std::uint32_t vm, es_trace_entry* out, std::uint32_t capacity,
                    std::uint64_t skip, ring_cursor* cur) {
    // The ring of each CPU is already in TSC order; repeatedly take the oldest head.
    std::uint32_t n = 0;
    std::uint64_t seen = 0;
    for (std::uint32_t c = 0; c < nr; ++c) {
        const Ring& r = cpus[c].*which;
        const ring_window w = r.window();
        cur[c] = {r.s, Ring::slots, w.first, w.end};
    }
    for (;;) {
        std::int32_t best = -1;
        for (std::uint32_t c = 0; c < nr; ++c) {
            if (cur[c].next >= cur[c].end)
                continue;
            const es_trace_entry& e = cur[c].at(cur[c].next);
            if (best < 0 || e.tsc < cur[best].at(cur[best].next).tsc)
                best = static_cast<std::int32_t>(c);
        }
        if (best < 0)
            return seen;
        const es_trace_entry& e = cur[best].at(cur[best].next);
        cur[best].next += 1;
        if (vm && e.vm != vm)
            continue;
        if (seen++ < skip)
            continue;
        if (n < capacity) {
            out[n] = e;
            out[n].cpu = static_cast<std::uint32_t>(best); // the exit path leaves it to us
            ++n;
        }
    }
}

template <typename Ring>
std::uint32_t collect(const cpu_recorder* cpus, std::uint32_t nr, const Ring cpu_recorder::*which,
                      std::uint32_t vm, es_trace_entry* out, std::uint32_t capacity,
                      ring_cursor* cursors) {
    // First pass counts the matching entries so the second keeps only the newest `capacity`.
    const std::uint64_t total = merge(cpus, nr, which, vm, out, 0, 0, cursors);
    const std::uint64_t skip = total > capacity ? total - capacity : 0;
    merge(cpus, nr, which, vm, out, capacity, skip, cursors);
    return static_cast<std::uint32_t>(total - skip < capacity ? total - skip : capacity);
}

} // namespace

std::uint32_t collect_trace(const cpu_recorder* cpus, std::uint32_t nr, bool outliers,
                            std::uint32_t vm, es_trace_entry* out, std::uint32_t capacity,
                            ring_cursor* cursors) {
    return outliers ? collect(cpus, nr, &cpu_recorder::outliers, vm, out, capacity, cursors)
                    : collect(cpus, nr, &cpu_recorder::last, vm, out, capacity, cursors);
}

} // namespace es
