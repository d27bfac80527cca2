// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel services the C++ core needs, one small function each (include/exitscope/boundary.h).
 */
#include <linux/cpu.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <trace/events/ipi.h> /* smp_send_reschedule traces the IPI since 6.6 */
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/pkru.h>
#include <asm/special_insns.h>
#include <asm/tsc.h>
#include <asm/tlbflush.h>

#include "exitscope/boundary.h"
#include "es_module.h"

void *es_shim_alloc_page(u64 *phys)
{
	/* Fail rather than invoke the OOM killer: a too-large VM is the caller's ENOMEM. */
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_RETRY_MAYFAIL |
				       __GFP_NOWARN);

	if (!page)
		return NULL;
	*phys = page_to_phys(page);
	return page_address(page);
}

u64 es_shim_available_bytes(void)
{
	return (u64)si_mem_available() << PAGE_SHIFT;
}

void es_shim_free_page(void *page)
{
	if (page)
		free_page((unsigned long)page);
}

void *es_shim_zalloc(u64 bytes)
{
	return kvzalloc(bytes, GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}

void es_shim_free(void *p)
{
	kvfree(p);
}

int es_shim_rdmsr_safe(u32 msr, u64 *value)
{
	return rdmsrl_safe(msr, value) ? -EIO : 0;
}

int es_shim_wrmsr_safe(u32 msr, u64 value)
{
	return wrmsrl_safe(msr, value) ? -EIO : 0;
}

u64 es_shim_cr4_read(void)
{
	return __read_cr4();
}

/* Through the kernel's CR4 shadow, so its later CR4 writes keep VMXE. */
void es_shim_cr4_set_vmxe(void)
{
	cr4_set_bits(X86_CR4_VMXE);
}

void es_shim_cr4_clear_vmxe(void)
{
	cr4_clear_bits(X86_CR4_VMXE);
}

int es_shim_this_cpu(void)
{
	return raw_smp_processor_id();
}

int es_shim_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

void es_shim_log(int error, const char *message)
{
	if (error)
		pr_err("exitscope: %s\n", message);
	else
		pr_info("exitscope: %s\n", message);
}

int es_shim_copy_from_user(void *dst, u64 user_src, u64 len)
{
	return copy_from_user(dst, u64_to_user_ptr(user_src), len) ? -EFAULT : 0;
}

int es_shim_copy_to_user(u64 user_dst, const void *src, u64 len)
{
	return copy_to_user(u64_to_user_ptr(user_dst), src, len) ? -EFAULT : 0;
}

u64 es_shim_fpu_area_size(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return 512;
	/* CPUID.(EAX=0DH,ECX=0):EBX = XSAVE area size for the features XCR0 enables now. */
	cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx);
	return ebx;
}

u64 es_shim_tsc_khz(void)
{
	return tsc_khz;
}

void *es_shim_waker_new(void)
{
	wait_queue_head_t *q = kmalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);

	if (q)
		init_waitqueue_head(q);
	return q;
}

void es_shim_waker_free(void *waker)
{
	kfree(waker);
}

int es_shim_idle_wait(u64 ns, void *waker, const u32 *word, u32 seen)
{
	ktime_t expires = ns_to_ktime(ns);
	DEFINE_WAIT(wait);

	/* Queued and TASK_INTERRUPTIBLE before *word is read: a writer that changes it and then
	 * wakes the queue either is seen here or wakes the sleep. */
	prepare_to_wait(waker, &wait, TASK_INTERRUPTIBLE);
	if (READ_ONCE(*word) == seen)
		schedule_hrtimeout(&expires, HRTIMER_MODE_REL);
	finish_wait(waker, &wait);
	return signal_pending(current) ? -EINTR : 0;
}

void es_shim_wake(void *waker)
{
	wake_up_interruptible(waker);
}

void es_shim_kick_cpu(es_u32 cpu)
{
	int me = get_cpu();

	if (cpu != me && cpu < nr_cpu_ids && cpu_online(cpu))
		smp_send_reschedule(cpu);
	put_cpu();
}

u64 es_shim_real_seconds(void)
{
	return ktime_get_real_seconds();
}

u32 es_shim_current_tgid(void)
{
	return task_tgid_nr(current);
}

u64 es_shim_xcr0(void)
{
	return boot_cpu_has(X86_FEATURE_OSXSAVE) ? xgetbv(XCR_XFEATURE_ENABLED_MASK) : 0;
}

/* Load the guest's FPU/SSE/AVX state (all-init at first: a zero XSAVE header) so that no host
 * register value is ever visible to the guest. */
static void es_fpu_load(void *area)
{
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		asm volatile("xrstor64 %0" : : "m"(*(u8 *)area), "a"(-1), "d"(-1) : "memory");
	else
		asm volatile("fxrstor64 %0" : : "m"(*(u8 *)area) : "memory");
}

static void es_fpu_save(void *area)
{
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		asm volatile("xsave64 %0" : "+m"(*(u8 *)area) : "a"(-1), "d"(-1) : "memory");
	else
		asm volatile("fxsave64 %0" : "+m"(*(u8 *)area) : : "memory");
}

void es_shim_begin_guest_section(struct es_host_switch *s)
{
	/* kernel_fpu_begin() disables preemption and saves the task's FPU state, but not its PKRU:
	 * Linux restores PKRU only on a context switch, never on the way back to user space, so the
	 * host's is saved here and put back at the section's end (as KVM does). */
	kernel_fpu_begin();
	s->host_pkru = read_pkru(); /* read_pkru and write_pkru: no-ops without OSPKE */
	/* All the host's XCR0 components from the guest's area, then the guest's XCR0. */
	es_fpu_load(s->fpu_area);
	if (boot_cpu_has(X86_FEATURE_OSXSAVE)) {
		s->host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		if (s->guest_xcr0 != s->host_xcr0)
			xsetbv(XCR_XFEATURE_ENABLED_MASK, s->guest_xcr0);
	}
	write_pkru(s->guest_pkru);
	savesegment(ds, s->ds);
	savesegment(es, s->es);
	savesegment(fs, s->fs);
	savesegment(gs, s->gs);
	rdmsrl(MSR_FS_BASE, s->host_fs_base);
	s->host_debugctl = get_debugctlmsr();
	rdmsrl(MSR_KERNEL_GS_BASE, s->host_kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, s->guest_kernel_gs_base);
	if (s->switch_syscall_msrs) {
		es_switch_syscall_msrs(s->host_syscall, s->guest_syscall);
		es_syscall_guard_arm(s->host_syscall);
	}
}

void es_shim_end_guest_section(struct es_host_switch *s)
{
	rdmsrl(MSR_KERNEL_GS_BASE, s->guest_kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, s->host_kernel_gs_base);
	if (s->switch_syscall_msrs) {
		es_switch_syscall_msrs(s->guest_syscall, s->host_syscall);
		es_syscall_guard_disarm_this_cpu();
	}
	/* VM exits load null DS/ES/FS/GS selectors; put back any the task really had. */
	if (s->ds)
		loadsegment(ds, s->ds);
	if (s->es)
		loadsegment(es, s->es);
	if (s->fs) {
		loadsegment(fs, s->fs);
		wrmsrl(MSR_FS_BASE, s->host_fs_base);
	}
	if (s->gs) {
		load_gs_index(s->gs);
		wrmsrl(MSR_KERNEL_GS_BASE, s->host_kernel_gs_base);
	}
	/* VM exits set the GDT limit to 0xFFFF and the TR limit to 0x67 (SDM "Loading Host
	 * Segment and Descriptor-Table Registers"): restore both as KVM does. */
	load_fixmap_gdt(raw_smp_processor_id());
	invalidate_tss_limit();
	/* VM exits reset DR7 to 0x400 and clear IA32_DEBUGCTL: re-arm host breakpoints and
	 * branch tracing if the host was using them. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (s->host_debugctl)
		update_debugctlmsr(s->host_debugctl);
	s->guest_pkru = read_pkru();
	/* The guest's XCR0 components, under its XCR0; then the host's XCR0 and PKRU. */
	es_fpu_save(s->fpu_area);
	if (boot_cpu_has(X86_FEATURE_OSXSAVE) && s->guest_xcr0 != s->host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, s->host_xcr0);
	write_pkru(s->host_pkru);
	kernel_fpu_end();
}

static DEFINE_MUTEX(es_registry_mutex);
static DEFINE_RAW_SPINLOCK(es_registry_lock);

void es_shim_registry_mutex_lock(void)
{
	mutex_lock(&es_registry_mutex);
}

void es_shim_registry_mutex_unlock(void)
{
	mutex_unlock(&es_registry_mutex);
}

u64 es_shim_registry_lock(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&es_registry_lock, flags);
	return flags;
}

void es_shim_registry_unlock(u64 saved)
{
	unsigned long flags = saved;

	raw_spin_unlock_irqrestore(&es_registry_lock, flags);
}

struct es_on_cpu {
	void (*fn)(void *arg, es_u32 cpu);
	void *arg;
	es_u32 cpu;
};

static void es_on_cpu_call(void *info)
{
	struct es_on_cpu *c = info;

	c->fn(c->arg, c->cpu);
}

void es_shim_on_cpus(es_u32 first, es_u32 n, void (*fn)(void *arg, es_u32 cpu), void *arg)
{
	struct es_on_cpu c = { .fn = fn, .arg = arg };
	unsigned long flags;
	es_u32 cpu;

	/* With hotplug held off, an online CPU stays online until its call has run, and an
	 * offline one cannot start a guest behind our back. */
	cpus_read_lock();
	for (cpu = first; cpu < first + n && cpu < nr_cpu_ids; ++cpu) {
		c.cpu = cpu;
		if (cpu_online(cpu)) {
			/* Runs fn on cpu with interrupts off, or here if cpu is this CPU. */
			smp_call_function_single(cpu, es_on_cpu_call, &c, 1);
		} else {
			local_irq_save(flags);
			fn(arg, cpu);
			local_irq_restore(flags);
		}
	}
	cpus_read_unlock();
}

void es_shim_irq_disable(void)
{
	local_irq_disable();
}

void es_shim_irq_enable(void)
{
	local_irq_enable();
}

int es_shim_pending_work(void)
{
	if (signal_pending(current))
		return -EINTR;
	return need_resched() ? 1 : 0;
}

void es_shim_reschedule(void)
{
	cond_resched();
}

/* An NMI that arrived in the guest caused a VM exit instead of running the host's handler: run
 * it now, as KVM did for years. */
void es_shim_deliver_nmi(void)
{
	asm volatile("int $2");
}
