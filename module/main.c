// SPDX-License-Identifier: GPL-2.0
/*
 * Module entry, /dev/exitscope and the VM descriptor: the thin C layer between Linux and the C++
 * core. Everything here copies arguments in and out and calls es_core_*; no VMX logic lives here.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "exitscope/abi.h"
#include "exitscope/boundary.h"
#include "es_module.h"
#include "vm_file.h"

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Exitscope developers");
MODULE_DESCRIPTION("Exitscope: a minimal VMX hypervisor that counts and times every VM exit");

static char *cpuid_scope = "vm";
module_param(cpuid_scope, charp, 0444);
MODULE_PARM_DESC(cpuid_scope, "what the CPUID leaves 0x4FFFFFFC..F report: vm (default) or global");

static int preemption_slice = 22;
module_param(preemption_slice, int, 0444);
MODULE_PARM_DESC(preemption_slice, "guest time slice between host checks: 2^N TSC ticks, N 10..30 (default 22)");

static int instrument = 3;
module_param(instrument, int, 0444);
MODULE_PARM_DESC(instrument, "0 off, 1 counts and cycles, 2 + min/max/stddev/histograms, 3 + flight recorder (default)");

static int shadow_prefetch = 8;
module_param(shadow_prefetch, int, 0444);
MODULE_PARM_DESC(shadow_prefetch, "PTEs of the same guest page table a shadow-paging fill maps around the fault: 0 off, or a power of two up to 512 (default 8)");

static ulong outlier_cycles = 100000;
module_param(outlier_cycles, ulong, 0444);
MODULE_PARM_DESC(outlier_cycles, "exits handled in more TSC cycles than this go to the outlier ring");

static int es_vm_release(struct inode *inode, struct file *file)
{
	struct es_vm_file *vf = file->private_data;

	es_core_vm_destroy(vf->vm);
	kfree(vf);
	es_vmx_put();
	module_put(THIS_MODULE);
	return 0;
}

/* Input for a VM that another thread may be running: beside the run, not behind its lock. */
static long es_vm_input(struct es_vm_file *vf, unsigned long arg)
{
	struct es_input *a;
	long err = 0;

	a = es_copy_in(arg, sizeof(*a), &err);
	if (!a)
		return err;
	if (mutex_lock_interruptible(&vf->input_lock)) {
		kvfree(a);
		return -EINTR;
	}
	err = es_core_vm_input(vf->vm, a);
	mutex_unlock(&vf->input_lock);
	if (!err)
		err = es_copy_out(arg, a, sizeof(*a));
	kvfree(a);
	return err;
}

/* ES_VM_SET_STATE and ES_VM_RUN drive vCPU 0 of a VM that has no other. */
static long es_vm_single_vcpu(struct es_vm_file *vf, bool run, unsigned long arg)
{
	u32 n = es_core_vm_vcpus(vf->vm);

	if (n != 1) {
		pr_info_ratelimited("exitscope: this VM has %u vCPUs: start and run each through its own descriptor (ES_VM_CREATE_VCPU, then ES_VCPU_SET_STATE and ES_VCPU_RUN)\n",
				    n);
		return -EOPNOTSUPP;
	}
	return es_vcpu_op(vf, 0, run, arg);
}

static long es_vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct es_vm_file *vf = file->private_data;
	long err = 0;
	void *buf;

	switch (cmd) {
	case ES_VM_INPUT:
		return es_vm_input(vf, arg);
	case ES_VM_CREATE_VCPU:
		return es_create_vcpu(file, arg);
	case ES_VM_SET_STATE:
		return es_vm_single_vcpu(vf, false, arg);
	case ES_VM_RUN:
		return es_vm_single_vcpu(vf, true, arg);
	case ES_VM_STATS:
		return es_stats_op(vf, NULL, arg);
	case ES_VM_LOAD:
		break;
	default:
		return -ENOTTY;
	}
	buf = es_copy_in(arg, sizeof(struct es_vm_load), &err);
	if (!buf)
		return err;
	if (mutex_lock_interruptible(&vf->lock)) {
		kvfree(buf);
		return -EINTR;
	}
	err = es_core_vm_load(vf->vm, buf);
	mutex_unlock(&vf->lock);
	kvfree(buf);
	return err;
}

static const struct file_operations es_vm_fops = {
	.owner = THIS_MODULE,
	.release = es_vm_release,
	.unlocked_ioctl = es_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static long es_create_vm(unsigned long arg)
{
	struct es_vm_create *a;
	struct es_vm_file *vf;
	long err = 0;
	int fd, i, core_err = 0;

	a = es_copy_in(arg, sizeof(*a), &err);
	if (!a)
		return err;
	err = es_core_check_create(a);
	if (err)
		goto out;
	vf = kzalloc(sizeof(*vf), GFP_KERNEL_ACCOUNT);
	if (!vf) {
		err = -ENOMEM;
		goto out;
	}
	mutex_init(&vf->lock);
	mutex_init(&vf->input_lock);
	for (i = 0; i < ES_MAX_VCPUS; ++i)
		mutex_init(&vf->vcpu_lock[i]);
	/* VMX goes on with the first VM (EBUSY while another hypervisor holds it). */
	err = es_vmx_get();
	if (err)
		goto out_free;
	vf->vm = es_core_vm_create(a, &core_err);
	if (!vf->vm) {
		err = core_err;
		goto out_vmx;
	}
	/* The descriptor keeps the module loaded: rmmod is refused while a VM exists. */
	if (!try_module_get(THIS_MODULE)) {
		err = -ENODEV;
		goto out_vm;
	}
	fd = anon_inode_getfd("exitscope-vm", &es_vm_fops, vf, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		module_put(THIS_MODULE);
		err = fd;
		goto out_vm;
	}
	kvfree(a);
	return fd;

out_vm:
	es_core_vm_destroy(vf->vm);
out_vmx:
	es_vmx_put();
out_free:
	kfree(vf);
out:
	kvfree(a);
	return err;
}

static long es_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	long err = 0;
	void *buf;

	switch (cmd) {
	case ES_IOC_CREATE_VM:
		return es_create_vm(arg);
	case ES_IOC_RESET_STATS:
		return es_core_reset_stats();
	case ES_IOC_TRACE:
		return es_trace_ioctl(arg);
	case ES_IOC_VMS:
		return es_vms_ioctl(arg);
	case ES_IOC_INFO:
		buf = es_copy_in(arg, sizeof(struct es_info), &err);
		if (!buf)
			return err;
		err = es_core_fill_info(buf);
		if (!err) {
			es_fill_cpu_info(buf);
			err = es_copy_out(arg, buf, sizeof(struct es_info));
		}
		break;
	case ES_IOC_REASONS:
		buf = es_copy_in(arg, sizeof(struct es_reasons), &err);
		if (!buf)
			return err;
		err = es_core_fill_reasons(buf);
		if (!err)
			err = es_copy_out(arg, buf, sizeof(struct es_reasons));
		break;
	case ES_IOC_STATS:
		buf = es_copy_in(arg, sizeof(struct es_stats), &err);
		if (!buf)
			return err;
		err = es_core_stats(buf, NULL);
		if (!err)
			err = es_copy_out(arg, buf, sizeof(struct es_stats));
		break;
	default:
		return -ENOTTY;
	}
	kvfree(buf);
	return err;
}

static const struct file_operations es_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = es_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice es_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "exitscope",
	.fops = &es_dev_fops,
	.mode = 0600,
};

static int __init es_init(void)
{
	struct es_load_params params = { .instrument = instrument,
					 .outlier_cycles = outlier_cycles,
					 .preemption_slice_log2 = preemption_slice,
					 .shadow_prefetch = shadow_prefetch };
	int err;

	if (instrument < 0 || instrument > 3) {
		pr_err("exitscope: instrument=%d is out of range: use 0 (off) to 3 (everything)\n",
		       instrument);
		return -EINVAL;
	}
	if (preemption_slice < 10 || preemption_slice > 30) {
		pr_err("exitscope: preemption_slice=%d is out of range: use 10 to 30 (2^N TSC ticks)\n",
		       preemption_slice);
		return -EINVAL;
	}
	if (!strcmp(cpuid_scope, "global")) {
		params.cpuid_scope_global = 1;
	} else if (strcmp(cpuid_scope, "vm")) {
		pr_err("exitscope: cpuid_scope=%s is not valid: use vm or global\n", cpuid_scope);
		return -EINVAL;
	}
	err = es_core_load(&params);
	if (err)
		return err;
	err = es_vmx_cpus_start();
	if (err)
		goto out_core;
	err = misc_register(&es_misc);
	if (err) {
		pr_err("exitscope: cannot register /dev/exitscope (%d)\n", err);
		goto out_cpus;
	}
	pr_info("exitscope: ready on %u CPUs, /dev/exitscope (VMX on while a VM exists; cpuid_scope=%s, instrument=%d)\n",
		num_online_cpus(), cpuid_scope, instrument);
	pr_info("exitscope: counters take %llu bytes per VM (%u possible CPUs)\n",
		es_core_vm_counter_bytes(), nr_cpu_ids);
	return 0;

out_cpus:
	es_vmx_cpus_stop();
out_core:
	es_core_unload();
	return err;
}

static void __exit es_exit(void)
{
	misc_deregister(&es_misc);
	es_vmx_cpus_stop();
	es_shim_drop_syscall_guards();
	es_core_unload();
	pr_info("exitscope: unloaded\n");
}

module_init(es_init);
module_exit(es_exit);
