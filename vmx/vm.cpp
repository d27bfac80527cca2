// VM lifetime: RAM, EPT and MSR bitmap pages, its vCPU's VMCS, VPID and FPU area, loading images
// and the start state.
#include "vm.hpp"

#include "apic_bus.hpp"
#include "core.hpp"
#include "efer_switch.hpp"
#include "exitscope/errno.hpp"
#include "exitscope/ports.hpp"
#include "pure/arg_checks.hpp"
#include "pure/ept.hpp"
#include "pure/msr_policy.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/vmx_controls.hpp"
#include "shadow_mmu.hpp"
#include "vm_registry.hpp"

namespace es {

namespace {

// VPIDs 1..4095 (0 is the host's); a bit per VPID, claimed and released atomically.
constexpr std::uint32_t vpid_words = 64;
constinit std::uint64_t vpid_bitmap[vpid_words] = {1}; // VPID 0 never handed out

std::uint16_t claim_vpid() {
    for (std::uint32_t w = 0; w < vpid_words; ++w) {
        std::uint64_t cur = __atomic_load_n(&vpid_bitmap[w], __ATOMIC_RELAXED);
        while (cur != ~0ull) {
            const std::uint64_t bit = ~cur & (cur + 1); // lowest clear bit
            if (__atomic_compare_exchange_n(&vpid_bitmap[w], &cur, cur | bit, false,
                                            __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
                return static_cast<std::uint16_t>(w * 64 + __builtin_ctzll(bit));
        }
    }
    return 0; // none left: run without VPID tagging
}

void release_vpid(std::uint16_t vpid) {
    if (vpid)
        __atomic_fetch_and(&vpid_bitmap[vpid / 64], ~(1ull << (vpid % 64)), __ATOMIC_ACQ_REL);
}

bool alloc_page(host_page& p) {
    p.va = es_shim_alloc_page(&p.pa);
    return p.va != nullptr;
}

void free_page(host_page& p) {
    es_shim_free_page(p.va);
    p.va = nullptr;
}

// Build the 4-level EPT over the RAM pages: one PML4, PDPT and PD (RAM is at most 1 GiB) and a
// page table per 2 MiB.
bool build_ept(ept_tables& ept, const guest_memory& mem) {
    const std::uint64_t tables = ept::page_tables_for(mem.nr_pages);
    ept.nr_pages = static_cast<std::uint32_t>(3 + tables);
    for (std::uint32_t i = 0; i < ept.nr_pages; ++i)
        if (!alloc_page(ept.pages[i]))
            return false;
    auto* pml4 = static_cast<std::uint64_t*>(ept.pages[0].va);
    auto* pdpt = static_cast<std::uint64_t*>(ept.pages[1].va);
    auto* pd = static_cast<std::uint64_t*>(ept.pages[2].va);
    pml4[0] = ept::table_entry(ept.pages[1].pa);
    pdpt[0] = ept::table_entry(ept.pages[2].pa);
    for (std::uint64_t t = 0; t < tables; ++t)
        pd[t] = ept::table_entry(ept.pages[3 + t].pa);
    for (std::uint64_t i = 0; i < mem.nr_pages; ++i) {
        const std::uint64_t gpa = i * ES_PAGE_SIZE;
        auto* pt = static_cast<std::uint64_t*>(ept.pages[3 + (gpa >> 21)].va);
        pt[ept::pt_index(gpa)] = ept::leaf_entry(mem.pages[i].pa);
    }
    ept.eptp = ept::pointer(ept.pages[0].pa);
    return true;
}

void free_vcpu(es_vcpu& vcpu) {
    if (vcpu.vmcs.va)
        free_page(vcpu.vmcs);
    free_efer_switch(vcpu);
    release_vpid(vcpu.vpid);
    es_shim_free(vcpu.fpu_alloc);
    es_shim_free(vcpu.row);
    es_shim_waker_free(vcpu.waker);
}

void free_vm(es_vm* vm) {
    for (es_vcpu& vcpu : vm->vcpus)
        free_vcpu(vcpu);
    if (vm->mem.pages) {
        for (std::uint64_t i = 0; i < vm->mem.nr_pages; ++i)
            free_page(vm->mem.pages[i]);
        es_shim_free(vm->mem.pages);
    }
    for (auto& p : vm->ept.pages)
        if (p.va)
            free_page(p);
    if (vm->msr_bitmap.va)
        free_page(vm->msr_bitmap);
    free_shadow(*vm);
    es_shim_free(vm);
}

// A zeroed XSAVE/FXSAVE image is the init state, except MXCSR, whose power-on value masks all
// SSE exceptions ("MXCSR Control/Status Register").
constexpr std::uint32_t mxcsr_offset = 24;
constexpr std::uint32_t mxcsr_default = 0x1f80;
constexpr std::uint32_t fcw_default = 0x37f;

bool alloc_fpu_area(es_vcpu& vcpu) {
    vcpu.fpu_alloc = es_shim_zalloc(core.fpu_area_size + 64);
    if (!vcpu.fpu_alloc)
        return false;
    auto* area = static_cast<std::uint8_t*>(align_up(vcpu.fpu_alloc, 64)); // XSAVE wants 64
    *reinterpret_cast<std::uint16_t*>(area) = fcw_default;
    *reinterpret_cast<std::uint32_t*>(area + mxcsr_offset) = mxcsr_default;
    vcpu.host.fpu_area = area;
    return true;
}

// XCR0 and PKRU at power-on ("XSAVE-Supported Features and State-Component Bitmaps",
// "Protection Keys"): x87 alone, every key allowing access.
void reset_xsave_state(es_vcpu& vcpu) {
    vcpu.host.guest_xcr0 = sdm::xcr0::x87;
    vcpu.host.guest_pkru = 0;
}

// The vCPU's own pages and state: a VMCS, a VPID, an FPU area, its counter row (one whatever the
// number of CPUs; an allocation this size is page aligned) and wait queue; real mode at the
// default entry until user space sets a start state.
bool init_vcpu(es_vcpu& vcpu, es_vm& vm, std::uint32_t index) {
    vcpu.vm = &vm;
    vcpu.index = index;
    reset_xsave_state(vcpu);
    vcpu.mode = guest_mode::real;
    vcpu.entry = default_image_gpa;
    vcpu.guest_dirty = true;
    vcpu.row = static_cast<counter_row*>(es_shim_zalloc(sizeof(counter_row)));
    vcpu.waker = es_shim_waker_new();
    if (!vcpu.row || !vcpu.waker || !alloc_page(vcpu.vmcs) || !alloc_fpu_area(vcpu) ||
        !alloc_efer_switch(vcpu))
        return false;
    init_row(*vcpu.row);
    // The VMCS region starts with the revision identifier ("VMCS Region").
    *static_cast<std::uint32_t*>(vcpu.vmcs.va) = core.caps.vmcs_revision;
    if (core.controls.proc2 & sdm::proc_ctl2::enable_vpid)
        vcpu.vpid = claim_vpid();
    return true;
}

// The board's CMOS clock reads the host's wall clock.
std::int64_t board_clock_seconds() {
    return static_cast<std::int64_t>(es_shim_real_seconds());
}

// `f(row)` summed over the VM's vCPUs.
template <typename F> std::uint64_t sum_rows(const es_vm& vm, F f) {
    std::uint64_t sum = 0;
    for (std::uint32_t i = 0; i < vm.nr_vcpus; ++i)
        sum += f(*vm.vcpus[i].row);
    return sum;
}

} // namespace

std::uint64_t vm_exits(const es_vm& vm) {
    return sum_rows(vm, [](const counter_row& r) { return relaxed_read(r.exits); });
}
std::uint64_t vm_exit_cycles(const es_vm& vm) {
    return sum_rows(vm, [](const counter_row& r) { return relaxed_read(r.cycles); });
}
std::uint64_t vm_count(const es_vm& vm, std::uint32_t reason) {
    return sum_rows(vm,
                    [reason](const counter_row& r) { return relaxed_read(r.cell[reason].count); });
}
std::uint64_t vm_cycles(const es_vm& vm, std::uint32_t reason) {
    return sum_rows(vm,
                    [reason](const counter_row& r) { return relaxed_read(r.cell[reason].cycles); });
}

void restart_vcpu(es_vcpu& vcpu, guest_mode mode, std::uint64_t entry, std::uint64_t stack,
                  std::uint64_t boot_params) {
    vcpu.mode = mode;
    vcpu.entry = entry;
    vcpu.stack = stack;
    vcpu.boot_params = boot_params;
    vcpu.start_at_sipi = false;
    // Nothing of an earlier run carries over: no event the VMCS still holds is delivered again
    // (write_guest_start_state clears the pending ones), and the MSRs kept here reset.
    vcpu.vectoring_stale = true;
    vcpu.irq_requeued = false;
    vcpu.idle_pending = false;
    vcpu.guest_pat = pat_reset_value;
    reset_xsave_state(vcpu);
    // A Linux guest's vCPUs have the SYSCALL MSRs live in their sections (an AP of one starts in
    // real mode, but runs the same kernel).
    vcpu.host.switch_syscall_msrs = mode == guest_mode::linux64 || vcpu.vm->has_lapic;
    vcpu.guest_dirty = true;
}

void wake_vcpu(es_vcpu& vcpu) {
    __atomic_add_fetch(&vcpu.wake_seq, 1, __ATOMIC_SEQ_CST);
    es_shim_wake(vcpu.waker);
}

void kick_vcpu(es_vcpu& vcpu) {
    wake_vcpu(vcpu);
    // After the caller's change (the sequentially consistent add above orders it): a vCPU whose
    // section started after this read checks for that change before its next entry.
    const std::int32_t cpu = __atomic_load_n(&vcpu.section_cpu, __ATOMIC_SEQ_CST);
    if (cpu != no_cpu)
        es_shim_kick_cpu(static_cast<es_u32>(cpu));
}

std::uint8_t* guest_ptr(es_vm& vm, std::uint64_t gpa) {
    if (gpa >= vm.mem.bytes)
        return nullptr;
    return static_cast<std::uint8_t*>(vm.mem.pages[gpa / ES_PAGE_SIZE].va) + gpa % ES_PAGE_SIZE;
}

} // namespace es

using namespace es;

extern "C" es_vm* es_core_vm_create(const es_vm_create* a, int* error) {
    if (const char* why = why_no_guests(core.caps)) {
        es_shim_log(1, why);
        *error = -err::not_supported;
        return nullptr;
    }
    const bool shadow_paging = (a->flags & ES_VM_SHADOW_PAGING) != 0;
    if (const char* why = why_no_ept_guests(core.caps); why && !shadow_paging) {
        es_shim_log(1, why);
        *error = -err::not_supported;
        return nullptr;
    }
    if (shadow_paging && core.shadow_problem) {
        es_shim_log(1, core.shadow_problem);
        *error = -err::not_supported;
        return nullptr;
    }
    // Refuse up front what would drive the host into reclaim or OOM; guests may not take more
    // than half of what is available.
    if (a->mem_bytes > es_shim_available_bytes() / 2) {
        *error = -err::no_mem;
        return nullptr;
    }
    auto* vm = static_cast<es_vm*>(es_shim_zalloc(sizeof(es_vm)));
    if (!vm) {
        *error = -err::no_mem;
        return nullptr;
    }
    vm->nr_vcpus = a->vcpus ? a->vcpus : 1;
    vm->shadow_paging = shadow_paging;
    vm->controls = shadow_paging ? &core.shadow_controls : &core.controls;
    vm->mem.bytes = a->mem_bytes;
    vm->mem.nr_pages = a->mem_bytes / ES_PAGE_SIZE;
    vm->mem.pages = static_cast<host_page*>(es_shim_zalloc(vm->mem.nr_pages * sizeof(host_page)));
    bool ok = vm->mem.pages != nullptr;
    for (std::uint64_t i = 0; ok && i < vm->mem.nr_pages; ++i)
        ok = alloc_page(vm->mem.pages[i]);
    // A shadow-paging VM keeps an EPT too (unused: the section start invalidates it like any).
    ok = ok && build_ept(vm->ept, vm->mem) && alloc_page(vm->msr_bitmap) &&
         (!shadow_paging || alloc_shadow(*vm));
    for (std::uint32_t i = 0; ok && i < vm->nr_vcpus; ++i)
        ok = init_vcpu(vm->vcpus[i], *vm, i);
    if (!ok) {
        free_vm(vm);
        *error = -err::no_mem;
        return nullptr;
    }
    // All ones: every RDMSR and WRMSR exits, so no guest value reaches a host MSR ("MSR-Bitmap
    // Address").
    auto* bitmap = static_cast<std::uint64_t*>(vm->msr_bitmap.va);
    for (std::uint32_t i = 0; i < ES_PAGE_SIZE / 8; ++i)
        bitmap[i] = ~0ull;
    static constinit std::uint32_t next_id = 0;
    vm->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    vm->owner_tgid = es_shim_current_tgid();
    register_vm(*vm);
    return vm;
}

extern "C" void es_core_vm_destroy(es_vm* vm) {
    // The VMCS is never left active on a CPU between runs (run_loop.cpp clears it), and every
    // run starts by invalidating its EPT and VPID tags, so the pages can go straight back.
    unregister_vm(*vm);
    free_vm(vm);
}

extern "C" int es_core_vm_load(es_vm* vm, const es_vm_load* a) {
    if (int e = check_load(*a, vm->mem.bytes))
        return e;
    std::uint64_t done = 0;
    while (done < a->len) {
        const std::uint64_t gpa = a->gpa + done;
        const std::uint64_t chunk = ES_PAGE_SIZE - gpa % ES_PAGE_SIZE;
        const std::uint64_t n = chunk < a->len - done ? chunk : a->len - done;
        if (int e = es_shim_copy_from_user(guest_ptr(*vm, gpa), a->data + done, n))
            return e;
        done += n;
    }
    return 0;
}

extern "C" int es_core_vcpu_set_state(es_vm* vm, es_u32 index, const es_vcpu_state* a) {
    if (int e = check_state(*a, vm->mem.bytes))
        return e;
    if (int e = check_paging_mode(vm->shadow_paging, a->mode)) {
        es_shim_log(1, "shadow paging runs long-mode and Linux guests only (real and protected "
                       "mode need EPT with unrestricted guest)");
        return e;
    }
    const auto mode = static_cast<guest_mode>(a->mode);
    if ((mode == guest_mode::real || mode == guest_mode::protected32) &&
        !runs_unpaged_modes(core.caps)) {
        es_shim_log(1, "this CPU's VMX has no unrestricted guest: real-mode and protected-mode "
                       "(paging off) guests cannot run; use long mode or a Linux guest");
        return -err::not_supported;
    }
    if (mode == guest_mode::linux64 && index != 0) {
        es_shim_log(1, "the other vCPUs of a Linux guest start by INIT and SIPI from vCPU 0: set "
                       "the state of vCPU 0 only");
        return -err::inval;
    }
    // Several vCPUs of a Linux guest: the APs start in real mode at their SIPI's vector.
    const bool smp_linux = mode == guest_mode::linux64 && vm->nr_vcpus > 1;
    if (smp_linux && (vm->shadow_paging || !runs_unpaged_modes(core.caps))) {
        es_shim_log(1, "a Linux guest of several vCPUs needs EPT with unrestricted guest (its "
                       "other vCPUs start in real mode): use --paging ept on a CPU that has it, "
                       "or one vCPU");
        return -err::not_supported;
    }
    es_vcpu& vcpu = vm->vcpus[index];
    restart_vcpu(vcpu, mode, a->entry, a->stack, a->boot_params);
    if (index == 0) {
        // A Linux guest (linux64) gets the PC board, and with several vCPUs their APICs.
        vm->has_board = mode == guest_mode::linux64;
        vm->has_lapic = smp_linux;
        // A spinning vCPU (PAUSE loops) exits once per window, not at every PAUSE; the
        // controls go into every vCPU's VMCS at its next section.
        const vm_controls* controls = smp_linux ? &core.smp_controls : &core.controls;
        if (!vm->shadow_paging && vm->controls != controls) {
            vm->controls = controls;
            for (es_vcpu& v : vm->vcpus)
                v.vmcs_ready = false;
        }
        __atomic_store_n(&vm->stopped, 0u, __ATOMIC_RELEASE);
        if (vm->has_board)
            board_reset(vm->board, core.tsc_khz, board_clock_seconds);
        if (vm->has_lapic)
            apic_bus_reset(*vm);
    }
    return 0;
}

extern "C" int es_core_vm_input(es_vm* vm, es_input* a) {
    if (int e = check_input(*a))
        return e;
    // Through a small buffer: user memory may fault, and only what fits goes in.
    std::uint8_t chunk[256];
    std::uint32_t accepted = 0;
    while (accepted < a->len) {
        const std::uint32_t left = a->len - accepted;
        const std::uint32_t n = left < sizeof chunk ? left : sizeof chunk;
        if (es_shim_copy_from_user(chunk, a->data + accepted, n))
            return -err::fault;
        const auto pushed = static_cast<std::uint32_t>(serial_input_push(vm->input, chunk, n));
        accepted += pushed;
        if (pushed < n)
            break;
    }
    a->accepted = accepted;
    if (accepted)
        wake_vcpu(vm->vcpus[0]); // COM1's interrupt goes to the BSP
    return 0;
}

extern "C" int es_core_vcpu_claim(es_vm* vm, const es_vcpu_create* a) {
    if (int e = check_vcpu_create(*a, vm->nr_vcpus))
        return e;
    bool expected = false;
    if (!__atomic_compare_exchange_n(&vm->vcpus[a->index].handed_out, &expected, true, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return -err::exists;
    return 0;
}

extern "C" es_u32 es_core_vm_vcpus(const es_vm* vm) {
    return vm->nr_vcpus;
}
