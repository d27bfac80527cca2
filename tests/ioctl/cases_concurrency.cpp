// The ioctl matrix: two threads running one VM, statistics read during runs, and a create/destroy
// loop.
#include "harness.hpp"

namespace ioctl_matrix {

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

} // namespace ioctl_matrix
