// Running a VM of several vCPUs on /dev/exitscope: a thread per vCPU, as KVM's users do. vCPU 0
// runs on the calling thread (it gets SIGINT/SIGTERM, which the others block); each other vCPU
// runs on a thread of its own. Any vCPU's stop that ends the guest ends the others' runs in the
// module (ES_STOP_VM_STOPPED); a signal ends them from here.
#pragma once

#include <cstdint>
#include <vector>

#include "exitscope/abi.h"

namespace es::cli {

struct vcpu_runs {
    bool ok = true;           // false: an ioctl failed (printed)
    bool interrupted = false; // SIGINT/SIGTERM
    std::vector<es_run> last; // each vCPU's last run
    std::uint64_t exits = 0, cycles = 0;
    std::vector<std::uint64_t> vcpu_exits; // each vCPU's exits in all its run calls
    // The run whose stop ended the guest: the first with a stop that is not ES_STOP_VM_STOPPED
    // (vCPU 0's when there is none).
    const es_run& deciding() const;
};

// Runs the vCPU descriptors `fds` (index = vCPU) until the guest stops or a signal arrives, the
// console bytes of every vCPU on standard output (`raw`: as they are). `max_exits` bounds each
// vCPU's run calls (0: no limit).
vcpu_runs run_vcpu_threads(const std::vector<int>& fds, std::uint64_t max_exits, bool raw);

} // namespace es::cli
