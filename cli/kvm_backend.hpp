// `exitscope run --backend kvm`: the same image, guest conventions and start state, run under
// Linux KVM (/dev/kvm) by a plain user-space loop (the backend: kvm_backend.cpp). The
// conversions, the parsing of KVM's binary statistics and the summary's tally are pure
// functions, unit-tested on the host without /dev/kvm.
#pragma once

#include "kvm_uapi.h"
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cpuid/linux_leaves.hpp"
#include "options.hpp"
#include "stops.hpp"
#include "vmx/pure/guest_modes.hpp"

namespace es::cli {

// A segment in VMX access-rights form as a KVM segment (type/s/dpl/present/avl/l/db/g/unusable).
kvm_segment to_kvm_segment(const es::segment_state& s);

// Overwrites segments, descriptor tables (GDTR and IDTR from `g`, as Exitscope's VMCS has them),
// CR0/CR3/CR4 (the shadow values: what the guest sees; KVM adds its own fixed bits) and EFER in
// `sregs`.
// APIC base and the interrupt bitmap are left as they are (take them from KVM_GET_SREGS).
void fill_kvm_sregs(const es::guest_start_state& g, kvm_sregs& sregs);
// RIP, RSP, RFLAGS, RSI (linux64: the zero page); every other register zero.
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

// The summary's tally: "23 exits seen by user space (KVM counted: exits 30, halt_exits 1)", the
// parenthesis only when KVM counted any of format_kvm_stats' statistics.
std::string kvm_counts(std::uint64_t user_exits, const std::vector<kvm_stat>& stats);

// Every statistic with a nonzero value, "name value" joined by ", ", in the file's order.
std::string format_nonzero_kvm_stats(const std::vector<kvm_stat>& stats);

// The CPUID a Linux guest gets under KVM, from KVM's supported entries: each answer through
// linux_guest_view (cpuid/linux_leaves.hpp), the leaves the Linux view answers itself (0x15,
// 0x16 from `tsc_khz`, any up to linux_max_basic_leaf) from linux_own_answer, and no hypervisor
// leaves (0x40000000-0x4FFFFFFF: no KVM paravirtual clock or features, as under Exitscope).
// With several vCPUs, `vcpu` places the one asked for (linux_vcpu_view: APIC IDs in leaves 1,
// 0xB and 0x1F; the local APIC shown); single_vcpu_without_apic gives linux_guest_view's answers.
std::vector<kvm_cpuid_entry2>
linux_kvm_cpuid(const std::vector<kvm_cpuid_entry2>& supported, std::uint32_t tsc_khz,
                const es::linux_vcpu_topology& vcpu = es::single_vcpu_without_apic);

// KVM's paging (kvm_paging.cpp), from kvm_intel's `ept` parameter: `ept` true for EPT, false
// for shadow paging; nullopt with `why` when it cannot be told.
struct kvm_paging {
    std::optional<bool> ept;
    std::string why;
};
inline constexpr const char* kvm_ept_param_path = "/sys/module/kvm_intel/parameters/ept";
// The parameter file's text ("Y\n", "N\n") as EPT on or off; nullopt for anything else.
std::optional<bool> parse_kvm_ept_param(const std::string& text);
kvm_paging read_kvm_paging(const char* path = kvm_ept_param_path);
// Why `run --backend kvm --paging ept|shadow` cannot run as asked ("" when KVM's paging is the
// one asked for): the mismatch and the reload that fixes it, or why KVM's paging is unknown.
std::string kvm_paging_mismatch(bool want_shadow, const kvm_paging& kvm);
// The summary's "; KVM paging: ept|shadow" ("" when unknown).
std::string kvm_paging_note(const kvm_paging& kvm);

// Name of a KVM_EXIT_* number ("KVM_EXIT_IO"), or "KVM exit N".
std::string kvm_exit_name(std::uint32_t reason);

} // namespace es::cli
