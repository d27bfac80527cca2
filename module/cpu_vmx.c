// SPDX-License-Identifier: GPL-2.0
/*
 * VMX on the CPUs: VMXON regions, the "VMX in use" count, CPU hotplug and the reboot notifier.
 *
 * Policy: VMX is on, on every online CPU, exactly while at least one Exitscope VM exists (as KVM
 * did before Linux 6.12). So Exitscope and kvm_intel can both be loaded and take turns: whoever
 * creates a VM while the other has one gets EBUSY with a message naming the other. Loading also
 * refuses (EBUSY) when another hypervisor holds VMX at that moment.
 */
#include <linux/cpu.h>
#include <asm/processor-flags.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/smp.h>

#include "exitscope/boundary.h"
#include "es_module.h"

struct es_vmxon_region {
	void *page;
	u64 phys;
	bool on;
	int error;
};

static DEFINE_PER_CPU(struct es_vmxon_region, es_vmxon);
static enum cpuhp_state es_hp_state;
static DEFINE_MUTEX(es_vmx_lock); /* guards es_vmx_users and on/off transitions */
static unsigned int es_vmx_users;  /* VMs that exist */
static unsigned int es_vms;
/* Set by the reboot notifier: VMX is going away on every CPU; no VMX instruction may follow. */
static int es_vmx_going_down;

int es_shim_vmx_going_down(void)
{
	return READ_ONCE(es_vmx_going_down);
}

static void es_cpu_on_local(void *unused)
{
	struct es_vmxon_region *r = this_cpu_ptr(&es_vmxon);

	r->error = r->on ? 0 : es_core_cpu_on(r->page, r->phys);
	if (!r->error)
		r->on = true;
}

static void es_cpu_off_local(void *unused)
{
	struct es_vmxon_region *r = this_cpu_ptr(&es_vmxon);

	if (r->on) {
		es_core_cpu_off();
		r->on = false;
	}
}

/* CPU hotplug "online" callback: runs on the CPU itself, for each online CPU at setup too.
 * A CPU already in VMX operation (CR4.VMXE) belongs to another hypervisor: refuse. */
static int es_cpu_online(unsigned int cpu)
{
	struct es_vmxon_region *r = per_cpu_ptr(&es_vmxon, cpu);
	int err = 0;

	if (!r->page) {
		r->page = es_shim_alloc_page(&r->phys);
		if (!r->page)
			return -ENOMEM;
	}
	preempt_disable();
	if (es_vmx_users) {
		es_cpu_on_local(NULL);
		err = r->error;
	} else if (!r->on && (es_shim_cr4_read() & X86_CR4_VMXE)) {
		pr_err("exitscope: VMX is already in use on CPU %u (CR4.VMXE set), probably by kvm_intel with a running VM or kvm.enable_virt_at_load=1 (Linux 6.12+): stop its VMs or unload it (rmmod kvm_intel), or load kvm with enable_virt_at_load=0, then load exitscope again\n",
		       cpu);
		err = -EBUSY;
	}
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

/* VMX blocks INIT: a CPU left in VMX operation hangs reboot and kexec. A CPU running a guest
 * takes the IPI between two exits, with its VMCS loaded; the run loop sees the flag before its
 * next VMX instruction and ends the run (module/../vmx/run_loop.cpp). */
static int es_reboot(struct notifier_block *nb, unsigned long action, void *data)
{
	WRITE_ONCE(es_vmx_going_down, 1);
	smp_mb();
	on_each_cpu(es_cpu_off_local, NULL, 1);
	pr_info("exitscope: VMX turned off on every CPU for %s\n",
		action == SYS_RESTART ? "restart" : action == SYS_HALT ? "halt" : "power off");
	return NOTIFY_OK;
}

static struct notifier_block es_reboot_nb = {
	.notifier_call = es_reboot,
};

int es_vmx_get(void)
{
	int cpu, err = 0;

	mutex_lock(&es_vmx_lock);
	cpus_read_lock();
	if (READ_ONCE(es_vmx_going_down)) {
		err = -ESHUTDOWN;
	} else if (!es_vmx_users) {
		on_each_cpu(es_cpu_on_local, NULL, 1);
		for_each_online_cpu(cpu) {
			if (per_cpu_ptr(&es_vmxon, cpu)->error)
				err = per_cpu_ptr(&es_vmxon, cpu)->error;
		}
		if (err)
			on_each_cpu(es_cpu_off_local, NULL, 1);
	}
	if (!err) {
		es_vmx_users++;
		es_vms++;
	}
	cpus_read_unlock();
	mutex_unlock(&es_vmx_lock);
	return err;
}

void es_vmx_put(void)
{
	mutex_lock(&es_vmx_lock);
	cpus_read_lock();
	es_vms--;
	if (!--es_vmx_users)
		on_each_cpu(es_cpu_off_local, NULL, 1);
	cpus_read_unlock();
	mutex_unlock(&es_vmx_lock);
}

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
	info->vms = READ_ONCE(es_vms);
}
