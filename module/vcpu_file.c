// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU descriptor (ES_VM_CREATE_VCPU) and what it shares with the VM descriptor: a vCPU's
 * start state, its run and its statistics, each under that vCPU's own lock.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "exitscope/boundary.h"
#include "vm_file.h"

/* A vCPU descriptor holds its VM's file: the VM lives until the last descriptor closes. */
struct es_vcpu_file {
	struct file *vm_file;
	struct es_vm_file *vf;
	u32 index;
};

/* A vCPU's start state or run (`run`: ES_VM_RUN/ES_VCPU_RUN, else the SET_STATE pair), under
 * its own lock: a second thread on the same vCPU waits, and a signal ends the wait. */
long es_vcpu_op(struct es_vm_file *vf, u32 index, bool run, unsigned long arg)
{
	size_t size = run ? sizeof(struct es_run) : sizeof(struct es_vcpu_state);
	long err = 0;
	void *buf;

	buf = es_copy_in(arg, size, &err);
	if (!buf)
		return err;
	if (mutex_lock_interruptible(&vf->vcpu_lock[index])) {
		kvfree(buf);
		return -EINTR;
	}
	if (run)
		err = es_core_vcpu_run(vf->vm, index, buf);
	else
		err = es_core_vcpu_set_state(vf->vm, index, buf);
	mutex_unlock(&vf->vcpu_lock[index]);
	/* A run interrupted by a signal, or whose console buffer faulted, still reports why it
	 * stopped and its counts. */
	if (run && (!err || err == -EINTR || err == -EFAULT)) {
		long out = es_copy_out(arg, buf, size);

		if (out)
			err = out;
	}
	kvfree(buf);
	return err;
}

long es_stats_op(struct es_vm_file *vf, const u32 *vcpu_index, unsigned long arg)
{
	long err = 0;
	void *buf = es_copy_in(arg, sizeof(struct es_stats), &err);

	if (!buf)
		return err;
	err = vcpu_index ? es_core_vcpu_stats(buf, vf->vm, *vcpu_index) : es_core_stats(buf, vf->vm);
	if (!err)
		err = es_copy_out(arg, buf, sizeof(struct es_stats));
	kvfree(buf);
	return err;
}

static int es_vcpu_release(struct inode *inode, struct file *file)
{
	struct es_vcpu_file *cf = file->private_data;

	fput(cf->vm_file);
	kfree(cf);
	return 0;
}

static long es_vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct es_vcpu_file *cf = file->private_data;

	switch (cmd) {
	case ES_VCPU_SET_STATE:
		return es_vcpu_op(cf->vf, cf->index, false, arg);
	case ES_VCPU_RUN:
		return es_vcpu_op(cf->vf, cf->index, true, arg);
	case ES_VCPU_STATS:
		return es_stats_op(cf->vf, &cf->index, arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations es_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = es_vcpu_release,
	.unlocked_ioctl = es_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

long es_create_vcpu(struct file *vm_file, unsigned long arg)
{
	struct es_vm_file *vf = vm_file->private_data;
	struct es_vcpu_create *a;
	struct es_vcpu_file *cf;
	long err = 0;
	int fd;

	a = es_copy_in(arg, sizeof(*a), &err);
	if (!a)
		return err;
	cf = kzalloc(sizeof(*cf), GFP_KERNEL_ACCOUNT);
	if (!cf) {
		err = -ENOMEM;
		goto out;
	}
	err = es_core_vcpu_claim(vf->vm, a);
	if (err)
		goto out_free;
	cf->vf = vf;
	cf->index = a->index;
	cf->vm_file = get_file(vm_file);
	fd = anon_inode_getfd("exitscope-vcpu", &es_vcpu_fops, cf, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* The index stays claimed: a VM whose descriptor could not be made is not reused. */
		fput(vm_file);
		err = fd;
		goto out_free;
	}
	kvfree(a);
	return fd;
out_free:
	kfree(cf);
out:
	kvfree(a);
	return err;
}
