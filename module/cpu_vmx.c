// SPDX-License-Identifier: GPL-2.0
/*
 * VMX on every CPU: VMXON regions, CPU hotplug and the reboot notifier.
 *
 * Policy: VMX is on, on every online CPU, for as long as the module is loaded (KVM before 6.12
 * instead turned it on only while a VM existed). So kvm_intel cannot run VMs while Exitscope is
 * loaded, and Exitscope refuses to load while another hypervisor holds VMX.
 */
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/smp.h>

#include "exitscope/boundary.h"
#include "es_module.h"

struct es_vmxon_region {
	void *page;
	u64 phys;
	bool on;
};

static DEFINE_PER_CPU(struct es_vmxon_region, es_vmxon);
static enum cpuhp_state es_hp_state;
static atomic_t es_vms = ATOMIC_INIT(0);

void es_vm_count_inc(void) { atomic_inc(&es_vms); }
void es_vm_count_dec(void) { atomic_dec(&es_vms); }

static void es_cpu_off_local(void *unused)
{
	struct es_vmxon_region *r = this_cpu_ptr(&es_vmxon);

	if (r->on) {
		es_core_cpu_off();
		r->on = false;
	}
}

/* CPU hotplug "online" callback: runs on the CPU itself, for each online CPU at setup too. */
static int es_cpu_online(unsigned int cpu)
{
	struct es_vmxon_region *r = per_cpu_ptr(&es_vmxon, cpu);
	int err;

	if (!r->page) {
		r->page = es_shim_alloc_page(&r->phys);
		if (!r->page)
			return -ENOMEM;
	}
	preempt_disable();
	err = es_core_cpu_on(r->page, r->phys);
	if (!err)
		r->on = true;
	preempt_enable();
	return err;
}

static int es_cpu_offline(unsigned int cpu)
{
	preempt_disable();
	es_cpu_off_local(NULL);
	preempt_enable();
	return 0;
}

/* VMX blocks INIT: a CPU left in VMX operation hangs reboot and kexec. */
static int es_reboot(struct notifier_block *nb, unsigned long action, void *data)
{
	on_each_cpu(es_cpu_off_local, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block es_reboot_nb = {
	.notifier_call = es_reboot,
};

int es_vmx_cpus_start(void)
{
	int err;

	err = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "exitscope:online", es_cpu_online,
				es_cpu_offline);
	if (err < 0) {
		/* The failing CPU logged why; the state machine already undid the others. */
		es_vmx_cpus_stop();
		return err;
	}
	es_hp_state = err;
	register_reboot_notifier(&es_reboot_nb);
	return 0;
}

void es_vmx_cpus_stop(void)
{
	int cpu;

	if (es_hp_state) {
		unregister_reboot_notifier(&es_reboot_nb);
		cpuhp_remove_state(es_hp_state);
		es_hp_state = 0;
	}
	for_each_possible_cpu(cpu) {
		struct es_vmxon_region *r = per_cpu_ptr(&es_vmxon, cpu);

		if (r->page) {
			es_shim_free_page(r->page);
			r->page = NULL;
		}
	}
}

void es_fill_cpu_info(struct es_info *info)
{
	unsigned int cpu, n = 0;

	for_each_possible_cpu(cpu) {
		if (n >= ES_MAX_INFO_CPUS)
			break;
		info->cpus[n].online = cpu_online(cpu);
		info->cpus[n].vmx_on = per_cpu_ptr(&es_vmxon, cpu)->on;
		n++;
	}
	info->nr_cpus = n;
	info->vms = atomic_read(&es_vms);
}
