/*
 * Exitscope ioctl ABI, shared by the kernel module and the CLI. Valid C and C++.
 *
 * Rules every struct follows: it starts with `size` (the caller sets it to sizeof the struct it was
 * compiled with; the module refuses other sizes with EINVAL) and ends with reserved space that
 * must be zero on input (else EINVAL), so the ABI can grow without breaking old callers.
 */
#ifndef EXITSCOPE_ABI_H
#define EXITSCOPE_ABI_H

/* User space gets the ioctl numbers too; kernel C includes <linux/ioctl.h> itself and the
 * module's freestanding C++ (ES_FREESTANDING) needs none. */
#if !defined(__KERNEL__) && !defined(ES_FREESTANDING)
#include <sys/ioctl.h>
#endif

#if defined(__cplusplus)
#include <cstdint>
typedef std::uint8_t es_u8;
typedef std::uint32_t es_u32;
typedef std::uint64_t es_u64;
#elif defined(__KERNEL__)
#include <linux/types.h>
typedef __u8 es_u8;
typedef __u32 es_u32;
typedef __u64 es_u64;
#else
#include <stdint.h>
typedef uint8_t es_u8;
typedef uint32_t es_u32;
typedef uint64_t es_u64;
#endif

#define ES_ABI_VERSION 1
#define ES_DEVICE_PATH "/dev/exitscope"

/* Per-reason arrays cover basic exit reasons 0..ES_NR_REASONS-1 (see include/sdm/exit_reasons.hpp). */
#define ES_NR_REASONS 78
#define ES_MAX_INFO_CPUS 64
/* Latency histogram: bucket b counts exits whose handling took c cycles with floor(log2(c)) == b
 * (c = 0 and 1 land in bucket 0); the last bucket also takes everything longer. */
#define ES_HIST_BUCKETS 40
/* Flight recorder: the last ES_TRACE_RING exits per CPU, and the last ES_TRACE_OUTLIERS exits
 * per CPU whose handling took more than the outlier threshold. */
#define ES_TRACE_RING 1024
#define ES_TRACE_OUTLIERS 64

/* Guest RAM limits for ES_IOC_CREATE_VM. */
#define ES_GUEST_MEM_MIN (64ull * 1024ull)
#define ES_GUEST_MEM_MAX (1024ull * 1024u * 1024u)
#define ES_PAGE_SIZE 4096u

/* ---- /dev/exitscope ---- */

struct es_info_cpu {
    es_u32 online;
    es_u32 vmx_on;
};

struct es_info {
    es_u32 size;
    es_u32 abi_version;     /* out: ES_ABI_VERSION */
    es_u32 vmx_available;   /* out: module holds VMX on every online CPU */
    es_u32 nr_cpus;         /* out: entries filled in cpus[] */
    es_u64 msr[24];         /* out: raw capability MSRs, indexed by enum es_info_msr */
    es_u32 controls[5];     /* out: pin, proc, proc2, exit, entry controls every VM uses */
    es_u32 cpuid_scope;     /* out: 0 per VM, 1 global */
    es_u32 instrument;      /* out: instrumentation level: 0 off, 1 counts and cycles,
                               2 + min/max/sum of squares/histograms, 3 + flight recorder */
    es_u32 vms;             /* out: VMs open now */
    es_u32 entry_mitigations; /* out: ES_MITIGATE_* in force before VM entry (was reserved0) */
    struct es_info_cpu cpus[ES_MAX_INFO_CPUS];
    es_u32 max_vcpus;       /* out: ES_MAX_VCPUS (0 from older modules: one vCPU per VM) */
    es_u32 reserved0;
    es_u64 reserved[7];
};

/* CPU buffer clearing before VM entry, as the host kernel's own mitigation state asks for it
 * (read once at module load; Linux's /sys/devices/system/cpu/vulnerabilities says why). */
enum es_entry_mitigation {
    ES_MITIGATE_VERW = 1,             /* VERW right before VMLAUNCH/VMRESUME (MDS, TAA, MMIO
                                         stale data: X86_FEATURE_CLEAR_CPU_BUF_VM) */
    ES_MITIGATE_L1D_FLUSH = 2,        /* L1D flushed before the first entry after host code ran
                                         (L1TF; KVM's vmentry_l1d_flush=cond) */
    ES_MITIGATE_L1D_FLUSH_ALWAYS = 4, /* ... and before every entry (l1tf=full) */
    ES_MITIGATE_L1D_FLUSH_SOFTWARE = 8 /* the flush reads a 64 KiB buffer: no IA32_FLUSH_CMD */
};

enum es_info_msr {
    ES_MSR_BASIC,
    ES_MSR_PINBASED,
    ES_MSR_PROCBASED,
    ES_MSR_EXIT,
    ES_MSR_ENTRY,
    ES_MSR_MISC,
    ES_MSR_CR0_FIXED0,
    ES_MSR_CR0_FIXED1,
    ES_MSR_CR4_FIXED0,
    ES_MSR_CR4_FIXED1,
    ES_MSR_PROCBASED2,
    ES_MSR_EPT_VPID_CAP,
    ES_MSR_TRUE_PINBASED,
    ES_MSR_TRUE_PROCBASED,
    ES_MSR_TRUE_EXIT,
    ES_MSR_TRUE_ENTRY,
    ES_MSR_VMFUNC,
    ES_MSR_FEATURE_CONTROL,
    ES_MSR_COUNT
};

/* es_vm_create.flags: the VM's second-level translation. Without a flag, EPT; with
 * ES_VM_SHADOW_PAGING, shadow page tables the module builds from the guest's (a virtual TLB):
 * long-mode toy guests only for now (ES_VM_SET_STATE refuses other modes with EOPNOTSUPP). */
#define ES_VM_SHADOW_PAGING 0x1u
#define ES_VM_CREATE_FLAGS ES_VM_SHADOW_PAGING

/* vCPUs per VM: es_vm_create.vcpus up to ES_MAX_VCPUS (es_info.max_vcpus says it too). */
#define ES_MAX_VCPUS 16

struct es_vm_create {
    es_u32 size;
    es_u32 flags;    /* ES_VM_CREATE_FLAGS bits only */
    es_u64 mem_bytes; /* multiple of ES_PAGE_SIZE, ES_GUEST_MEM_MIN..ES_GUEST_MEM_MAX */
    es_u32 vcpus;     /* 1..ES_MAX_VCPUS; 0 means 1 (was reserved). A VM of one vCPU runs through
                         ES_VM_SET_STATE/ES_VM_RUN on its descriptor; a larger one gets a
                         descriptor per vCPU from ES_VM_CREATE_VCPU */
    es_u32 reserved0;
    es_u64 reserved[3];
};

/* ES_VM_CREATE_VCPU: a descriptor for vCPU `index` (0..vcpus-1, each once) of the VM, for
 * ES_VCPU_SET_STATE, ES_VCPU_RUN and ES_VCPU_STATS. It holds the VM: the VM ends when its own
 * descriptor and every vCPU descriptor are closed. Each vCPU runs in its own thread. */
struct es_vcpu_create {
    es_u32 size;
    es_u32 index;
    es_u64 reserved[2];
};

/* ES_SCOPE_VM: on a VM or vCPU descriptor, the sum over the VM's vCPUs. ES_SCOPE_VCPU: on a
 * vCPU descriptor, that vCPU's own exits. */
enum es_stats_scope { ES_SCOPE_GLOBAL = 0, ES_SCOPE_CPU = 1, ES_SCOPE_VM = 2, ES_SCOPE_VCPU = 3 };

/* One exit reason's statistics. min/max/sumsq/hist need instrument level 2 or more. */
struct es_reason_stats {
    es_u64 count;
    es_u64 cycles;     /* sum of handling cycles */
    es_u64 min_cycles; /* 0 until an exit was timed */
    es_u64 max_cycles;
    es_u64 sumsq_lo;   /* sum of cycles^2, 128 bits */
    es_u64 sumsq_hi;
    es_u64 hist[ES_HIST_BUCKETS];
};

/* es_stats.paging: the second-level translation of the VMs in the figures. ES_SCOPE_VM: that
 * VM's. ES_SCOPE_GLOBAL: of every VM that ran since load or the last ES_IOC_RESET_STATS (both
 * bits when both kinds ran; 0 when none did). ES_SCOPE_CPU: 0 (not kept per CPU). */
#define ES_STATS_PAGING_EPT 0x1u
#define ES_STATS_PAGING_SHADOW 0x2u

/* A snapshot of all counters of a scope. Each CPU's counters are copied on that CPU between two
 * of its exits (an IPI), so no update is ever seen in part; count/cycles/sums/histograms are
 * since load or the last ES_IOC_RESET_STATS (global and CPU scope) or since the VM was created;
 * min and max are since load. */
struct es_stats {
    es_u32 size;
    es_u32 scope;      /* in: enum es_stats_scope (ES_SCOPE_VM only on a VM descriptor) */
    es_u32 cpu;        /* in: for ES_SCOPE_CPU */
    es_u32 nr_reasons; /* out: ES_NR_REASONS */
    es_u64 tsc;        /* out: TSC when the snapshot was taken */
    es_u64 retries;    /* out: always 0 (reads are never repeated); kept for ABI version 1 */
    es_u32 instrument; /* out: instrumentation level in force (0..3) */
    es_u32 paging;     /* out: ES_STATS_PAGING_* (was reserved0; 0 from older modules) */
    struct es_reason_stats reasons[ES_NR_REASONS];
    /* in, on /dev/exitscope only (0 on a descriptor and in the other scopes): the VM of
     * ES_SCOPE_VM and ES_SCOPE_VCPU (es_run.vm_id; ES_IOC_VMS lists them), and the vCPU of
     * ES_SCOPE_VCPU (was reserved[0]) */
    es_u32 vm_id;
    es_u32 vcpu;
    es_u64 reserved[3];
};

struct es_trace_entry {
    es_u64 tsc;           /* TSC at the VM exit */
    es_u64 cycles;        /* handling cycles; 0 while the exit is still being handled */
    es_u64 qualification;
    es_u64 rip;           /* guest RIP at the exit */
    es_u32 reason;        /* raw exit-reason field */
    es_u32 vm;            /* VM id (es_run.vm_id) */
    es_u32 cpu;
    es_u32 vcpu;          /* the vCPU's index in its VM (was reserved) */
};

#define ES_TRACE_OUTLIER_RING 0x1u

struct es_trace {
    es_u32 size;
    es_u32 flags;          /* in: ES_TRACE_OUTLIER_RING for the outliers instead of the last exits */
    es_u32 vm;             /* in: only this VM's exits; 0 for all */
    es_u32 count;          /* out: entries written, oldest first */
    es_u64 entries;        /* in: user pointer to capacity es_trace_entry */
    es_u32 capacity;       /* in */
    es_u32 reserved0;
    es_u64 outlier_cycles; /* out: the outlier threshold in force */
    es_u64 reserved[4];
};

/* ES_IOC_VMS: the live VMs, one entry each, newest first. */
struct es_vm_entry {
    es_u32 id;         /* es_run.vm_id */
    es_u32 vcpus;      /* vCPUs it was created with */
    es_u32 paging;     /* ES_STATS_PAGING_EPT or ES_STATS_PAGING_SHADOW */
    es_u32 owner_tgid; /* the process that created it, as the initial PID namespace numbers it */
    es_u64 mem_bytes;
    es_u64 exits;      /* of all its vCPUs since it was created */
    es_u64 reserved[2];
};

struct es_vms {
    es_u32 size;
    es_u32 flags;     /* must be 0 */
    es_u64 entries;   /* in: user pointer to capacity es_vm_entry */
    es_u32 capacity;  /* in */
    es_u32 count;     /* out: live VMs; min(count, capacity) entries were written */
    es_u64 reserved[4];
};

#define ES_REASON_DEFINED 0x1u
#define ES_REASON_ENABLED 0x2u

struct es_reasons {
    es_u32 size;
    es_u32 nr_reasons; /* out: ES_NR_REASONS */
    es_u8 flags[128];  /* out: ES_REASON_* per basic reason number */
    /* in: whose reasons: 0 or ES_STATS_PAGING_EPT for an EPT VM's, ES_STATS_PAGING_SHADOW for a
     * shadow-paging VM's, both for either's (enabled when it is for one of them; pass
     * es_stats.paging); other bits EINVAL (was reserved[0]) */
    es_u32 paging;
    es_u32 reserved0;
    es_u64 reserved[3];
};

/* ---- VM descriptor ---- */

struct es_vm_load {
    es_u32 size;
    es_u32 flags; /* must be 0 */
    es_u64 gpa;   /* where in guest RAM */
    es_u64 data;  /* user pointer */
    es_u64 len;
    es_u64 reserved[4];
};

/* ES_MODE_LINUX64 is the 64-bit entry of Linux's x86 boot protocol ("64-bit Boot Protocol" in
 * Documentation/arch/x86/boot.rst): long mode on identity page tables, a GDT with flat
 * __BOOT_CS (0x10) and __BOOT_DS (0x18), interrupts off, RSI = the zero page (`boot_params`).
 * The module writes the page tables and the GDT into the top ES_LINUX64_HOST_BYTES of guest RAM:
 * a loader keeps that range out of the e820 map and puts nothing there. Only this mode gives the
 * guest the 16550A UART at 0x3F8; other modes keep the plain port conventions. */
enum es_guest_mode {
    ES_MODE_REAL = 0,
    ES_MODE_PROTECTED = 1,
    ES_MODE_LONG = 2,
    ES_MODE_LINUX64 = 3
};

#define ES_LINUX64_HOST_BYTES (16u * 1024u)

struct es_vcpu_state {
    es_u32 size;
    es_u32 mode; /* enum es_guest_mode */
    es_u64 entry; /* guest-physical RIP (real mode: below 1 MiB) */
    es_u64 stack; /* initial RSP; 0 picks the default (top of RAM below the page tables) */
    es_u64 boot_params; /* ES_MODE_LINUX64: GPA of the zero page, page aligned; else 0 */
    es_u64 reserved[3];
};

enum es_stop {
    ES_STOP_HALTED = 1,        /* HLT */
    ES_STOP_EXIT_REQUEST = 2,  /* OUT to port 0xF4; exit_code holds the value */
    ES_STOP_UNHANDLED = 3,     /* an exit this hypervisor does not handle */
    ES_STOP_ENTRY_FAILED = 4,  /* VMLAUNCH/VMRESUME failed or entry failure exit */
    ES_STOP_TRIPLE_FAULT = 5,
    ES_STOP_EPT_VIOLATION = 6, /* access outside guest RAM; gpa holds the address */
    ES_STOP_CONSOLE_FULL = 7,  /* console buffer full, or a Linux guest went idle (HLT) with
                                  bytes in it: drain it and run again */
    ES_STOP_EXIT_LIMIT = 8,    /* max_exits reached (the guest is resumable) */
    ES_STOP_RESET = 9,         /* a Linux guest reset the machine (port 0x64 or 0xCF9) */
    ES_STOP_RIP_WRAP = 10,     /* an instruction ended at the top of the guest's address space:
                                * the next RIP is non-canonical (64-bit code) or past 4 GiB */
    ES_STOP_VM_STOPPED = 11,   /* another vCPU of the VM stopped (halt, reset, a fault...): the
                                * VM stops with it; this vCPU is resumable but the guest is done */
};

/* ES_VM_INPUT: bytes for the guest's serial port (the 16550A at 0x3F8 of ES_MODE_LINUX64),
 * given while the VM may be running in another thread; never blocks. They wait in a ring of
 * ES_INPUT_RING_BYTES until the guest's receive FIFO has room; `accepted` says how many the ring
 * took (the caller offers the rest again later). Other modes have no serial port: their input
 * waits in the ring, unread. A halted guest waiting for an interrupt wakes when bytes arrive. */
#define ES_INPUT_RING_BYTES 4096u
struct es_input {
    es_u32 size;
    es_u32 flags;    /* must be 0 */
    es_u64 data;     /* in: user pointer */
    es_u32 len;      /* in: bytes at data, at most ES_INPUT_RING_BYTES */
    es_u32 accepted; /* out */
    es_u64 reserved[2];
};

struct es_run {
    es_u32 size;
    es_u32 flags;          /* must be 0 */
    es_u64 console;        /* in: user buffer for the guest's port-0xE9 bytes */
    es_u32 console_cap;    /* in: its size */
    es_u32 console_len;    /* out: bytes written */
    es_u64 max_exits;      /* in: stop after this many exits in this call; 0: no limit */
    es_u32 stop;           /* out: enum es_stop */
    es_u32 exit_reason;    /* out: raw exit-reason field of the last exit */
    es_u64 exit_code;      /* out: for ES_STOP_EXIT_REQUEST */
    es_u64 qualification;  /* out */
    es_u64 gpa;            /* out: for EPT violations and misconfigurations */
    es_u64 rip;            /* out: guest RIP at the stop */
    es_u32 vm_instruction_error; /* out: for failed VMLAUNCH/VMRESUME */
    es_u32 cpu;            /* out: CPU the run ended on */
    es_u32 vm_id;          /* out: this VM's id in traces */
    es_u32 vcpu;           /* out: the vCPU this run ran (0 through ES_VM_RUN; was reserved0) */
    es_u64 exits;          /* out: exits this vCPU took in this call */
    es_u64 cycles;         /* out: exit-handling TSC ticks in this call */
    es_u64 console_seq;    /* out: the VM-wide offset of this call's first console byte: the
                              VM's vCPUs share one console, and their pieces join in this order
                              (was reserved[0]) */
    es_u64 reserved[3];
};

#if defined(_IOWR)
#define ES_IOC_MAGIC 0xE5
#define ES_IOC_INFO _IOWR(ES_IOC_MAGIC, 0x00, struct es_info)
#define ES_IOC_CREATE_VM _IOWR(ES_IOC_MAGIC, 0x01, struct es_vm_create)
/* es_stats is larger than an ioctl number can encode (16 KiB): its size travels in `size`. */
#define ES_IOC_STATS _IO(ES_IOC_MAGIC, 0x02)
#define ES_IOC_RESET_STATS _IO(ES_IOC_MAGIC, 0x03)
#define ES_IOC_REASONS _IOWR(ES_IOC_MAGIC, 0x04, struct es_reasons)
#define ES_IOC_TRACE _IOWR(ES_IOC_MAGIC, 0x05, struct es_trace)
#define ES_IOC_VMS _IOWR(ES_IOC_MAGIC, 0x06, struct es_vms)
#define ES_VM_LOAD _IOWR(ES_IOC_MAGIC, 0x10, struct es_vm_load)
#define ES_VM_SET_STATE _IOWR(ES_IOC_MAGIC, 0x11, struct es_vcpu_state)
#define ES_VM_RUN _IOWR(ES_IOC_MAGIC, 0x12, struct es_run)
#define ES_VM_STATS _IO(ES_IOC_MAGIC, 0x13)
#define ES_VM_INPUT _IOWR(ES_IOC_MAGIC, 0x14, struct es_input)
#define ES_VM_CREATE_VCPU _IOWR(ES_IOC_MAGIC, 0x15, struct es_vcpu_create)
/* ---- vCPU descriptor ---- */
#define ES_VCPU_SET_STATE _IOWR(ES_IOC_MAGIC, 0x20, struct es_vcpu_state)
#define ES_VCPU_RUN _IOWR(ES_IOC_MAGIC, 0x21, struct es_run)
#define ES_VCPU_STATS _IO(ES_IOC_MAGIC, 0x22)
#endif

#endif /* EXITSCOPE_ABI_H */
