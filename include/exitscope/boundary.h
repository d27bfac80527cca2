/*
 * The C/C++ boundary inside the kernel module. Valid C and C++; includes no Linux header.
 *
 * es_shim_*: implemented in C (module/), the only code that calls the kernel.
 * es_core_*: implemented in C++ (vmx/, cpuid/), called directly by the C glue, never through a
 * function pointer the kernel holds.
 */
#ifndef EXITSCOPE_BOUNDARY_H
#define EXITSCOPE_BOUNDARY_H

/* Offsets into struct es_guest_regs, shared with module/vmenter.S. */
#define ES_REGS_RAX 0
#define ES_REGS_RCX 8
#define ES_REGS_RDX 16
#define ES_REGS_RBX 24
#define ES_REGS_RBP 32
#define ES_REGS_RSI 40
#define ES_REGS_RDI 48
#define ES_REGS_R8 56
#define ES_REGS_R9 64
#define ES_REGS_R10 72
#define ES_REGS_R11 80
#define ES_REGS_R12 88
#define ES_REGS_R13 96
#define ES_REGS_R14 104
#define ES_REGS_R15 112
#define ES_REGS_CR2 120
#define ES_REGS_HOST_RSP 128
/* VMCS encoding of HOST_RSP, for the assembly (C++ asserts it equals sdm::vmcs_field::host_rsp). */
#define ES_VMCS_HOST_RSP 0x6c14

#ifndef __ASSEMBLY__

#include "abi.h"

#if defined(__cplusplus)
typedef std::uint16_t es_u16;
#elif defined(__KERNEL__)
typedef __u16 es_u16;
#else
typedef uint16_t es_u16;
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct es_vm; /* opaque to C */

/* Guest general-purpose registers, saved and loaded by module/vmenter.S around VMLAUNCH/VMRESUME.
 * The ES_REGS_* offsets above are part of the contract with the assembly; C++ static_asserts
 * them. */
struct es_guest_regs {
    es_u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
    es_u64 r8, r9, r10, r11, r12, r13, r14, r15;
    es_u64 cr2;
    es_u64 host_rsp; /* not the guest's: the HOST_RSP the VMCS holds (0: not written yet) */
};

/* module/vmenter.S: enter the guest whose VMCS is current (VMLAUNCH unless `launched`) and
 * return at its next VM exit with the guest's registers saved in *regs. Returns the TSC read
 * right after the exit, or 0 when VMLAUNCH/VMRESUME itself failed (VM-instruction error in the
 * VMCS, or no current VMCS). */
es_u64 es_vmx_enter(struct es_guest_regs* regs, int launched);
/* The host RIP every VM exit lands on (a label inside es_vmx_enter). */
extern const char es_vmx_exit_landing[];

/* ---- C shim, implemented in module/shim.c ---- */
void* es_shim_alloc_page(es_u64* phys); /* zeroed 4 KiB page, NULL when out of memory */
void es_shim_free_page(void* page);
es_u64 es_shim_available_bytes(void); /* memory the kernel could still hand out */
void* es_shim_zalloc(es_u64 bytes);   /* zeroed, possibly vmalloc'ed */
void es_shim_free(void* p);
int es_shim_rdmsr_safe(es_u32 msr, es_u64* value); /* 0, or -EIO when the MSR faults */
int es_shim_wrmsr_safe(es_u32 msr, es_u64 value);
es_u64 es_shim_cr4_read(void);
void es_shim_cr4_set_vmxe(void);
void es_shim_cr4_clear_vmxe(void);
int es_shim_this_cpu(void);
int es_shim_nr_cpu_ids(void);
void es_shim_log(int error, const char* message);
/* CPU buffer clearing before VM entry (module/mitigations.c): ES_MITIGATE_* bits the host
 * kernel's mitigations ask for, or a negative errno (no memory for the software L1D flush).
 * The VERW itself is in vmenter.S; es_shim_flush_l1d runs right before an entry. */
int es_shim_mitigations_init(void);
void es_shim_mitigations_exit(void);
void es_shim_flush_l1d(void);
int es_shim_copy_from_user(void* dst, es_u64 user_src, es_u64 len); /* 0 or -EFAULT */
int es_shim_copy_to_user(es_u64 user_dst, const void* src, es_u64 len);

/* The run loop's kernel services. */
/* The SYSCALL MSRs in es_host_switch's order: STAR, LSTAR, CSTAR, SFMASK (IA32_FMASK), four
 * consecutive MSR numbers. shim.c and C++ (msr_policy.hpp) both assert them. */
#define ES_SYSCALL_MSR_FIRST 0xc0000081u
#define ES_SYSCALL_MSR_COUNT 4
/* Host state VMX does not switch and the run loop must: saved at the start of a guest section,
 * restored at its end (KERNEL_GS_BASE would otherwise let SWAPGS hand host values to the guest). */
struct es_host_switch {
    void* fpu_area;              /* 64-byte aligned, es_shim_fpu_area_size() bytes */
    es_u64 guest_kernel_gs_base; /* kept across runs */
    es_u64 host_kernel_gs_base;
    es_u64 host_fs_base;
    es_u64 host_debugctl;
    es_u16 ds, es, fs, gs;
    /* XCR0 and PKRU are the guest's for the whole section (the guest's XSAVE features, its
     * protection keys), the host's outside it. */
    es_u64 guest_xcr0; /* kept across runs; XSETBV exits write it (and the hardware) */
    es_u64 host_xcr0;
    es_u32 guest_pkru; /* kept across runs */
    es_u32 host_pkru;
    /* A Linux guest's SYSCALL MSRs (ES_SYSCALL_MSR_* order), live in the
     * hardware during its sections so SYSCALL needs no exit; toy guests never write them. */
    int switch_syscall_msrs;
    es_u64 guest_syscall[ES_SYSCALL_MSR_COUNT];
    es_u64 host_syscall[ES_SYSCALL_MSR_COUNT];
};
es_u64 es_shim_fpu_area_size(void);
/* Disable preemption, take the FPU for the guest, switch what VMX does not. */
void es_shim_begin_guest_section(struct es_host_switch* s);
/* Undo the above; also reload the host GDT limit and TSS limit VM exits truncated. */
void es_shim_end_guest_section(struct es_host_switch* s);
/* Set once the reboot notifier turned VMX off: no VMX instruction may follow. */
int es_shim_vmx_going_down(void);
void es_shim_irq_disable(void);
void es_shim_irq_enable(void);
int es_shim_pending_work(void); /* -EINTR on a signal, 1 when rescheduling is due, else 0 */
void es_shim_reschedule(void);
void es_shim_deliver_nmi(void);
es_u64 es_shim_xcr0(void);
es_u64 es_shim_tsc_khz(void); /* the TSC frequency the host kernel measured */
/* Sleep until `ns` nanoseconds have passed or a signal arrives: -EINTR then, else 0. For a Linux
 * guest's HLT, outside any guest section. */
/* A wait queue of a vCPU's own (NULL when out of memory); freeing NULL does nothing. */
void* es_shim_waker_new(void);
void es_shim_waker_free(void* waker);
/* Sleeps up to `ns` (a halted Linux guest), or less: a signal, or an es_shim_wake on `waker`
 * (the vCPU's, es_shim_waker_new's), or *word no longer `seen` (checked after the sleeper is
 * queued, so that no wake-up is lost). 0, or -EINTR for a signal. */
int es_shim_idle_wait(es_u64 ns, void* waker, const es_u32* word, es_u32 seen);
void es_shim_wake(void* waker);
/* Make `cpu` take an interrupt (a reschedule IPI, as KVM's kvm_vcpu_kick): a guest running
 * there exits. Nothing when `cpu` is the caller's. Any context, interrupts on or off. */
void es_shim_kick_cpu(es_u32 cpu);
es_u64 es_shim_real_seconds(void); /* wall-clock Unix time (the guest's CMOS clock) */
es_u32 es_shim_current_tgid(void);  /* the caller's process, in the initial PID namespace */
/* The registry (VM list, retired counters, reset baselines) has two locks. The mutex serialises
 * whatever changes it or reads whole VMs' counters (create, destroy, snapshots, reset) and may be
 * held across IPIs. The spinlock, taken with interrupts off inside the mutex for the change
 * itself, lets the exit path (global-scope CPUID leaves) read the registry. */
void es_shim_registry_mutex_lock(void);
void es_shim_registry_mutex_unlock(void);
es_u64 es_shim_registry_lock(void);
void es_shim_registry_unlock(es_u64 flags);
/* Call fn(arg, cpu) for each CPU of [first, first + n), one after the other, with interrupts off
 * and never inside that CPU's exit path: on the CPU itself by IPI when it is online (a CPU in a
 * guest takes it between two exits), here when it is offline (nothing runs there). CPU hotplug
 * waits meanwhile. Process context only. */
void es_shim_on_cpus(es_u32 first, es_u32 n, void (*fn)(void* arg, es_u32 cpu), void* arg);

/* ---- C++ core ---- */
struct es_load_params {
    int cpuid_scope_global;
    int instrument; /* level 0..3 */
    es_u64 outlier_cycles;
    int preemption_slice_log2; /* guest time slice: 2^N TSC ticks */
    int shadow_prefetch;       /* PTE prefetch window of a shadow fill: 0 or a power of two <= 512 */
};
/* Parse capabilities from this CPU's MSRs and choose controls; 0 or -errno (message logged). */
int es_core_load(const struct es_load_params* params);
void es_core_unload(void);
/* Bytes of exit counters each VM allocates (the same whatever the number of CPUs). */
es_u64 es_core_vm_counter_bytes(void);
/* On the calling CPU, with preemption off: enable VMX with this VMXON region. 0 or -errno. */
int es_core_cpu_on(void* vmxon_region, es_u64 vmxon_phys);
void es_core_cpu_off(void);
int es_core_fill_info(struct es_info* info); /* 0 or -EINVAL (reserved fields) */
int es_core_fill_reasons(struct es_reasons* out);
/* `vm`: the descriptor's VM, or NULL on /dev/exitscope, where es_stats.vm_id names the VM of
 * ES_SCOPE_VM and ES_SCOPE_VCPU (-ENOENT when no live VM has it, -ERANGE past its vCPUs). */
int es_core_stats(struct es_stats* out, const struct es_vm* vm);
/* ES_IOC_VMS: v->count and up to `capacity` entries of `buffer` (kernel memory). 0 or -EINVAL. */
int es_core_list_vms(struct es_vms* v, struct es_vm_entry* buffer, es_u32 capacity);int es_core_reset_stats(void);
int es_core_check_trace(const struct es_trace* t);
/* Fill `buffer` (capacity entries, kernel memory) and t->count, t->outlier_cycles. */
int es_core_trace(struct es_trace* t, struct es_trace_entry* buffer, es_u32 capacity);

/* Argument check before anything is allocated, pure: 0 or -errno. (The VM ioctls check
 * their arguments inside es_core_vm_*.) */
int es_core_check_create(const struct es_vm_create* a);

struct es_vm* es_core_vm_create(const struct es_vm_create* a, int* error);
/* ES_VM_INPUT: may run while another thread runs the VM; one caller at a time (the glue's
 * input lock). */
int es_core_vm_input(struct es_vm* vm, struct es_input* a);
void es_core_vm_destroy(struct es_vm* vm);
int es_core_vm_load(struct es_vm* vm, const struct es_vm_load* a);
/* The VM's vCPU count (es_vm_create.vcpus, 0 made 1). */
es_u32 es_core_vm_vcpus(const struct es_vm* vm);
/* ES_VM_CREATE_VCPU: 0 when the index is valid and not yet handed out (it is now), else -errno. */
int es_core_vcpu_claim(struct es_vm* vm, const struct es_vcpu_create* a);
/* vCPU `index` of the VM (< es_core_vm_vcpus): its start state, its run, its figures. The glue
 * serialises each vCPU's calls; different vCPUs run in parallel. ES_VM_SET_STATE and ES_VM_RUN
 * are these with index 0, for a VM of one vCPU. */
int es_core_vcpu_set_state(struct es_vm* vm, es_u32 index, const struct es_vcpu_state* a);
int es_core_vcpu_run(struct es_vm* vm, es_u32 index, struct es_run* r);
/* ES_VCPU_STATS: scope ES_SCOPE_VCPU reads vCPU `index`'s row, the others as es_core_stats. */
int es_core_vcpu_stats(struct es_stats* out, const struct es_vm* vm, es_u32 index);

#ifdef __cplusplus
}
#endif

#endif /* __ASSEMBLY__ */

#endif /* EXITSCOPE_BOUNDARY_H */
