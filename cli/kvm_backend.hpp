// `exitscope run --backend kvm`: the same image, guest conventions and start state, run under
// Linux KVM (/dev/kvm) by a plain user-space loop. The conversions, the parsing of KVM's binary
// statistics and the summary text are pure functions, unit-tested on the host without /dev/kvm.
#pragma once

#include "kvm_uapi.h"
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "options.hpp"
#include "run.hpp"
#include "vmx/pure/guest_modes.hpp"

namespace es::cli {

// Runs the guest under KVM; console on stdout, one summary line on stderr. Returns the exit
// status documented in the README (the same statuses as the Exitscope backend).
int run_kvm(const run_options& o);

// ---- pure helpers ----

// A segment in VMX access-rights form as a KVM segment (type/s/dpl/present/avl/l/db/g/unusable).
kvm_segment to_kvm_segment(const es::segment_state& s);

// Overwrites segments, descriptor tables (base 0, limit 0xFFFF, as Exitscope's VMCS), CR0/CR3/CR4
// (the shadow values: what the guest sees; KVM adds its own fixed bits) and EFER in `sregs`.
// APIC base and the interrupt bitmap are left as they are (take them from KVM_GET_SREGS).
void fill_kvm_sregs(const es::guest_start_state& g, kvm_sregs& sregs);
// RIP, RSP, RFLAGS; every other register zero.
void fill_kvm_regs(const es::guest_start_state& g, kvm_regs& regs);

// One single-valued statistic of a KVM binary statistics file (KVM_GET_STATS_FD).
struct kvm_stat {
    std::string name;
    std::uint64_t value;
};
// Parses the whole file (header, descriptors, data; offsets from the header). Histograms and
// other multi-valued statistics are skipped. Returns false on a malformed or truncated buffer.
bool parse_kvm_stats(const std::uint8_t* data, std::size_t len, std::vector<kvm_stat>& out);

// "exits 1012, io_exits 3, halt_exits 1, mmio_exits 0, irq_exits 2, signal_exits 0": the
// statistics worth a summary, in that order, those present only; "" when none is.
std::string format_kvm_stats(const std::vector<kvm_stat>& stats);

// How a KVM run ended, in Exitscope's terms (`stop` is an enum es_stop value).
struct kvm_stop {
    std::uint32_t stop = 0;
    std::uint64_t exit_code = 0; // ES_STOP_EXIT_REQUEST
    std::uint64_t gpa = 0;       // ES_STOP_EPT_VIOLATION (KVM_EXIT_MMIO)
    std::uint64_t rip = 0;
    std::string detail; // what KVM said, for the summary: exit name, error codes
};

// The one-line summary ("exitscope[kvm]: ...") and the exit status for it.
stop_summary summarize_kvm_stop(const kvm_stop& s, std::uint64_t user_exits,
                                const std::vector<kvm_stat>& stats, bool interrupted);

// Name of a KVM_EXIT_* number ("KVM_EXIT_IO"), or "KVM exit N".
std::string kvm_exit_name(std::uint32_t reason);

} // namespace es::cli
