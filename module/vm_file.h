/* SPDX-License-Identifier: GPL-2.0 */
/* The VM descriptor's state and the ioctl helpers that main.c, vcpu_file.c and observe.c share. */
#ifndef ES_VM_FILE_H
#define ES_VM_FILE_H

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "exitscope/abi.h"

/* One VM per descriptor. `lock` serialises ES_VM_LOAD; each vCPU's start state and runs are
 * serialised by its own `vcpu_lock`, whichever descriptor they come through (the VM's for a VM of
 * one vCPU, the vCPU's), and different vCPUs run in parallel. */
struct es_vm_file {
	struct mutex lock;
	struct es_vm *vm;
	/* ES_VM_INPUT runs beside the runs, one writer at a time. */
	struct mutex input_lock;
	struct mutex vcpu_lock[ES_MAX_VCPUS];
};

/* Copy a versioned struct in (kvfree it): `size` must match exactly (the ABI is at version 1).
 * NULL with *err set otherwise. */
void *es_copy_in(unsigned long arg, size_t size, long *err);
long es_copy_out(unsigned long arg, const void *buf, size_t size);

/* vcpu_file.c: a vCPU's start state or run (`run`), its statistics (`vcpu_index` NULL: the VM's),
 * and ES_VM_CREATE_VCPU. */
long es_vcpu_op(struct es_vm_file *vf, u32 index, bool run, unsigned long arg);
long es_stats_op(struct es_vm_file *vf, const u32 *vcpu_index, unsigned long arg);
long es_create_vcpu(struct file *vm_file, unsigned long arg);

/* observe.c: the device's listings, ES_IOC_TRACE and ES_IOC_VMS. */
long es_trace_ioctl(unsigned long arg);
long es_vms_ioctl(unsigned long arg);

#endif
