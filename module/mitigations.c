// SPDX-License-Identifier: GPL-2.0
/*
 * CPU buffer clearing before VM entry, following the host kernel's own mitigation state as KVM
 * does (arch/x86/kvm/vmx/vmx.c: vmx_setup_l1d_flush, vmx_l1d_flush; vmenter.S for VERW):
 * - VERW where the kernel sets X86_FEATURE_CLEAR_CPU_BUF_VM (MDS, TAA, MMIO stale data); the
 *   instruction sits in vmenter.S, right before VMLAUNCH/VMRESUME, after the last host load.
 * - An L1D flush where the CPU has L1TF and the kernel mitigates it: IA32_FLUSH_CMD when the
 *   microcode has it, else reading a buffer twice the L1D's size, as KVM's fallback does.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/vmx.h>

#include "exitscope/abi.h"
#include "exitscope/boundary.h"

/* 64 KiB: twice the largest L1D of the CPUs L1TF affects (KVM's L1D_CACHE_ORDER). */
#define ES_L1D_FLUSH_ORDER 4

static u32 es_mitigations;
static void *es_l1d_flush_pages;

static bool es_l1d_flush_skippable(void)
{
	u64 caps = 0;

	/* "Skip L1D flush on VM entry": set by a hypervisor below us that flushes already. */
	if (!boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES) ||
	    rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &caps))
		return false;
	return caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH;
}

/* KVM's choice: kvm_intel's vmentry_l1d_flush when it set one, else what l1tf= asked for. */
static u32 es_l1d_flush_policy(void)
{
	if (!boot_cpu_has_bug(X86_BUG_L1TF) || es_l1d_flush_skippable())
		return 0;
	switch (l1tf_vmx_mitigation) {
	case VMENTER_L1D_FLUSH_NEVER:
	case VMENTER_L1D_FLUSH_NOT_REQUIRED:
	case VMENTER_L1D_FLUSH_EPT_DISABLED:
		return 0;
	case VMENTER_L1D_FLUSH_ALWAYS:
		return ES_MITIGATE_L1D_FLUSH | ES_MITIGATE_L1D_FLUSH_ALWAYS;
	case VMENTER_L1D_FLUSH_COND:
		return ES_MITIGATE_L1D_FLUSH;
	default: /* AUTO: kvm_intel has not chosen */
		break;
	}
	switch (l1tf_mitigation) {
	case L1TF_MITIGATION_OFF:
		return 0;
	case L1TF_MITIGATION_FULL:
	case L1TF_MITIGATION_FULL_FORCE:
		return ES_MITIGATE_L1D_FLUSH | ES_MITIGATE_L1D_FLUSH_ALWAYS;
	default:
		return ES_MITIGATE_L1D_FLUSH;
	}
}

int es_shim_mitigations_init(void)
{
	u32 m = es_l1d_flush_policy();

#if defined(X86_FEATURE_CLEAR_CPU_BUF_VM)
	if (cpu_feature_enabled(X86_FEATURE_CLEAR_CPU_BUF_VM))
		m |= ES_MITIGATE_VERW;
#elif defined(X86_FEATURE_CLEAR_CPU_BUF)
	/* Kernels before the VM-specific feature clear buffers before entry on the general one. */
	if (cpu_feature_enabled(X86_FEATURE_CLEAR_CPU_BUF))
		m |= ES_MITIGATE_VERW;
#endif
	if ((m & ES_MITIGATE_L1D_FLUSH) && !boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		struct page *page = alloc_pages(GFP_KERNEL | __GFP_ZERO, ES_L1D_FLUSH_ORDER);

		if (!page)
			return -ENOMEM;
		es_l1d_flush_pages = page_address(page);
		m |= ES_MITIGATE_L1D_FLUSH_SOFTWARE;
	}
	es_mitigations = m;
	return m;
}

void es_shim_mitigations_exit(void)
{
	if (es_l1d_flush_pages)
		free_pages((unsigned long)es_l1d_flush_pages, ES_L1D_FLUSH_ORDER);
	es_l1d_flush_pages = NULL;
	es_mitigations = 0;
}

void es_shim_flush_l1d(void)
{
	const unsigned long size = PAGE_SIZE << ES_L1D_FLUSH_ORDER;
	const volatile u8 *p = es_l1d_flush_pages;
	unsigned long i;

	if (!p) {
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	/* Touch each page first so that the TLB misses do not evict lines mid-fill, then read
	 * every cache line: the L1D then holds only this buffer. */
	for (i = 0; i < size; i += PAGE_SIZE)
		(void)p[i];
	for (i = 0; i < size; i += L1_CACHE_BYTES)
		(void)p[i];
}
