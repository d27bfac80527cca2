// Module load and unload of the C++ core, and the read-only ioctls (info, reasons, stats).
#include "core.hpp"

#include "exit_table.hpp"
#include "exitscope/abi.h"
#include "exitscope/boundary.h"
#include "exitscope/errno.hpp"
#include "mmu/shadow_prefetch.hpp"
#include "pure/arg_checks.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/msrs.hpp"
#include "stats.hpp"
#include "vm.hpp"
#include "vmx_ops.hpp"

namespace es {

constinit core_state core{};

namespace {

constexpr sdm::msr capability_msr_numbers[ES_MSR_COUNT] = {
    sdm::msr::vmx_basic,
    sdm::msr::vmx_pinbased_ctls,
    sdm::msr::vmx_procbased_ctls,
    sdm::msr::vmx_exit_ctls,
    sdm::msr::vmx_entry_ctls,
    sdm::msr::vmx_misc,
    sdm::msr::vmx_cr0_fixed0,
    sdm::msr::vmx_cr0_fixed1,
    sdm::msr::vmx_cr4_fixed0,
    sdm::msr::vmx_cr4_fixed1,
    sdm::msr::vmx_procbased_ctls2,
    sdm::msr::vmx_ept_vpid_cap,
    sdm::msr::vmx_true_pinbased_ctls,
    sdm::msr::vmx_true_procbased_ctls,
    sdm::msr::vmx_true_exit_ctls,
    sdm::msr::vmx_true_entry_ctls,
    sdm::msr::vmx_vmfunc,
    sdm::msr::feature_control,
};

// Optional MSRs may be absent (they fault); a zero value then means "no such capability".
void read_capability_msrs(vmx_msrs& m) {
    for (int i = 0; i < ES_MSR_COUNT; ++i) {
        std::uint64_t v = 0;
        if (es_shim_rdmsr_safe(sdm::to_number(capability_msr_numbers[i]), &v) != 0)
            v = 0;
        m.value[i] = v;
    }
}

void derive_reason_flags() {
    for (std::uint32_t r = 0; r < nr_reasons; ++r) {
        std::uint8_t f = 0;
        if (sdm::is_defined_exit_reason(r))
            f |= ES_REASON_DEFINED;
        const auto with_enabled = [f](bool on) {
            return static_cast<std::uint8_t>(on ? f | ES_REASON_ENABLED : f);
        };
        core.reason_flags[r] = with_enabled(exit_enabled(r, core.controls));
        core.shadow_reason_flags[r] =
            with_enabled(!core.shadow_problem && exit_enabled(r, core.shadow_controls));
    }
}

int refuse(int error, const char* message) {
    es_shim_log(1, message);
    return -error;
}

} // namespace

} // namespace es

using namespace es;

extern "C" int es_core_load(const es_load_params* params) {
    core = core_state{};
    core.cpuid_scope_global = params->cpuid_scope_global != 0;
    core.instrument = static_cast<instrument_level>(params->instrument);
    core.outlier_cycles = params->outlier_cycles;
    core.preemption_slice_log2 = static_cast<std::uint32_t>(params->preemption_slice_log2);
    if (params->shadow_prefetch < 0 ||
        !mmu::valid_prefetch_window(static_cast<unsigned>(params->shadow_prefetch)))
        return refuse(err::inval, "shadow_prefetch is out of range: use 0 (off) or a power of two "
                                  "up to 512 (the PTEs a shadow fill maps around the fault)");
    core.shadow_prefetch = static_cast<std::uint32_t>(params->shadow_prefetch);

    if (!(hw::cpuid(1, 0).ecx & sdm::cpuid1_ecx::vmx))
        return refuse(err::no_dev,
                      "VMX is unavailable: this CPU does not report VMX in CPUID (not an Intel "
                      "CPU, or a VM without nested virtualization); use tools/emu-run");
    read_capability_msrs(core.msrs);
    const std::uint64_t fc = core.msrs.value[ES_MSR_FEATURE_CONTROL];
    // Linux locks IA32_FEATURE_CONTROL at boot (enabling VMX if firmware left it unlocked), so
    // a locked MSR without "VMX outside SMX" means firmware switched VMX off.
    if ((fc & sdm::feature_control::lock) && !(fc & sdm::feature_control::vmx_outside_smx))
        return refuse(err::perm, "VMX is disabled by firmware (IA32_FEATURE_CONTROL locked with "
                                 "VMX off): enable VT-x in the BIOS/UEFI setup");
    core.caps = parse_capabilities(core.msrs);
    const controls_choice choice = choose_controls(core.caps);
    if (choice.problem) {
        es_shim_log(1, "this CPU's VMX lacks a feature Exitscope needs:");
        return refuse(err::not_supported, choice.problem);
    }
    core.controls = choice.controls;
    const controls_choice shadow = shadow_paging_controls(core.caps, core.controls);
    core.shadow_controls = shadow.controls;
    core.shadow_problem = shadow.problem;
    core.smp_controls = smp_controls(core.caps, core.controls);
    derive_reason_flags();
    core.host_xcr0 = es_shim_xcr0();
    core.fpu_area_size = es_shim_fpu_area_size();
    core.host_max_basic_leaf = hw::cpuid(0, 0).eax;
    core.tsc_khz = static_cast<std::uint32_t>(es_shim_tsc_khz());

    core.nr_cpus = static_cast<std::uint32_t>(es_shim_nr_cpu_ids());
    if (!stats_alloc(core.nr_cpus)) {
        stats_free();
        return refuse(err::no_mem, "out of memory for counters");
    }
    const int mitigations = es_shim_mitigations_init();
    if (mitigations < 0) {
        stats_free();
        return refuse(err::no_mem, "out of memory for the L1D flush buffer");
    }
    core.entry_mitigations = static_cast<std::uint32_t>(mitigations);
    core.l1d_flush = !(mitigations & ES_MITIGATE_L1D_FLUSH)         ? l1d_flush_rule::never
                     : (mitigations & ES_MITIGATE_L1D_FLUSH_ALWAYS) ? l1d_flush_rule::every_entry
                                                                    : l1d_flush_rule::after_host;
    return 0;
}

extern "C" es_u64 es_core_vm_counter_bytes(void) {
    return sizeof(counter_row) + sizeof(reason_sums); // the row and es_vcpu::section_base
}

extern "C" void es_core_unload(void) {
    es_shim_mitigations_exit();
    stats_free();
}

extern "C" int es_core_fill_info(es_info* info) {
    if (!reserved_clear(*info))
        return -err::inval;
    info->abi_version = ES_ABI_VERSION;
    for (int i = 0; i < ES_MSR_COUNT; ++i)
        info->msr[i] = core.msrs.value[i];
    info->controls[0] = core.controls.pin;
    info->controls[1] = core.controls.proc;
    info->controls[2] = core.controls.proc2;
    info->controls[3] = core.controls.exit;
    info->controls[4] = core.controls.entry;
    info->cpuid_scope = core.cpuid_scope_global ? 1 : 0;
    info->instrument = static_cast<std::uint32_t>(core.instrument);
    info->entry_mitigations = core.entry_mitigations;
    info->max_vcpus = ES_MAX_VCPUS;
    info->vmx_available = 1;
    return 0;
}

extern "C" int es_core_fill_reasons(es_reasons* out) {
    constexpr std::uint32_t both = ES_STATS_PAGING_EPT | ES_STATS_PAGING_SHADOW;
    if (!reserved_clear(*out) || out->reserved0 || (out->paging & ~both))
        return -err::inval;
    const bool ept = out->paging != ES_STATS_PAGING_SHADOW;
    const bool shadow = (out->paging & ES_STATS_PAGING_SHADOW) != 0;
    out->nr_reasons = nr_reasons;
    for (std::uint32_t r = 0; r < nr_reasons; ++r)
        out->flags[r] = static_cast<std::uint8_t>((ept ? core.reason_flags[r] : 0) |
                                                  (shadow ? core.shadow_reason_flags[r] : 0));
    return 0;
}
