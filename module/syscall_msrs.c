// SPDX-License-Identifier: GPL-2.0
/*
 * A Linux guest's SYSCALL MSRs (STAR, LSTAR, CSTAR, SFMASK): switched around its guest sections
 * (shim.c), and guarded by a user-return notifier while the guest's are live.
 */
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/user-return-notifier.h>
#include <asm/msr.h>

#include "exitscope/boundary.h"
#include "es_module.h"

static const u32 es_syscall_msrs[ES_SYSCALL_MSR_COUNT] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR,
							   MSR_SYSCALL_MASK };
/* The order es_host_switch and msr_policy.hpp's syscall_msr_index agree on (boundary.h). */
static_assert(MSR_STAR == ES_SYSCALL_MSR_FIRST && MSR_LSTAR == ES_SYSCALL_MSR_FIRST + 1 &&
	      MSR_CSTAR == ES_SYSCALL_MSR_FIRST + 2 && MSR_SYSCALL_MASK == ES_SYSCALL_MSR_FIRST + 3);

/* Save the live SYSCALL MSRs into `save` and load `load` (guest sections of Linux guests: the
 * host's SYSCALL entry is only used once the task returns to user space, after the section). */
void es_switch_syscall_msrs(u64 *save, const u64 *load)
{
	int i;

	for (i = 0; i < ES_SYSCALL_MSR_COUNT; i++) {
		rdmsrl(es_syscall_msrs[i], save[i]);
		wrmsrl(es_syscall_msrs[i], load[i]);
	}
}

/* A section that never reaches es_shim_end_guest_section (an oops inside it kills the task)
 * would leave the guest's LSTAR live, and the next SYSCALL from user space on this CPU would
 * jump where the guest said. While the guest's SYSCALL MSRs are live, a user-return notifier is
 * armed on the CPU: the first return to user space there puts the host's back, as KVM restores
 * the MSRs it shares with guests. A normal section end disarms it. */
struct es_syscall_guard {
	struct user_return_notifier urn;
	u64 host[ES_SYSCALL_MSR_COUNT];
	bool armed;
};
static DEFINE_PER_CPU(struct es_syscall_guard, es_syscall_guard);

static void es_syscall_guard_disarm(struct es_syscall_guard *g)
{
	if (!g->armed)
		return;
	user_return_notifier_unregister(&g->urn);
	g->armed = false;
}

static void es_syscall_guard_fire(struct user_return_notifier *urn)
{
	struct es_syscall_guard *g = container_of(urn, struct es_syscall_guard, urn);
	int i;

	for (i = 0; i < ES_SYSCALL_MSR_COUNT; i++)
		wrmsrl(es_syscall_msrs[i], g->host[i]);
	es_syscall_guard_disarm(g);
}

void es_syscall_guard_arm(const u64 *host)
{
	struct es_syscall_guard *g = this_cpu_ptr(&es_syscall_guard);

	memcpy(g->host, host, sizeof(g->host));
	if (g->armed)
		return;
	g->urn.on_user_return = es_syscall_guard_fire;
	user_return_notifier_register(&g->urn);
	g->armed = true;
}

void es_syscall_guard_disarm_this_cpu(void)
{
	es_syscall_guard_disarm(this_cpu_ptr(&es_syscall_guard));
}

static void es_drop_syscall_guard(void *unused)
{
	es_syscall_guard_disarm_this_cpu();
}

void es_shim_drop_syscall_guards(void)
{
	on_each_cpu(es_drop_syscall_guard, NULL, 1);
}
