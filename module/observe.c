// SPDX-License-Identifier: GPL-2.0
/* The device's listings: the flight recorder (ES_IOC_TRACE) and the live VMs (ES_IOC_VMS). */
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "exitscope/boundary.h"
#include "vm_file.h"

/* Flight recorder: merge the per-CPU rings in kernel memory, copy out the entries, then the
 * header. More entries than all rings hold are never needed. */
long es_trace_ioctl(unsigned long arg)
{
	struct es_trace_entry *entries = NULL;
	struct es_trace *t;
	long err = 0;
	u32 cap;

	t = es_copy_in(arg, sizeof(*t), &err);
	if (!t)
		return err;
	err = es_core_check_trace(t);
	if (err)
		goto out;
	cap = min_t(u32, t->capacity, nr_cpu_ids * ES_TRACE_RING);
	if (cap) {
		entries = kvcalloc(cap, sizeof(*entries), GFP_KERNEL_ACCOUNT);
		if (!entries) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = es_core_trace(t, entries, cap);
	if (!err && t->count &&
	    copy_to_user(u64_to_user_ptr(t->entries), entries, t->count * sizeof(*entries)))
		err = -EFAULT;
	if (!err)
		err = es_copy_out(arg, t, sizeof(*t));
out:
	kvfree(entries);
	kvfree(t);
	return err;
}

/* The live VMs: listed into kernel memory under the registry mutex, then copied out. A caller
 * that asks for more entries than ES_VMS_MAX_LIST gets that many (count still says how many
 * VMs are live). */
#define ES_VMS_MAX_LIST 4096u
long es_vms_ioctl(unsigned long arg)
{
	struct es_vm_entry *entries = NULL;
	struct es_vms *v;
	long err = 0;
	u32 cap;

	v = es_copy_in(arg, sizeof(*v), &err);
	if (!v)
		return err;
	if (v->capacity && !v->entries) {
		err = -EFAULT;
		goto out;
	}
	cap = min_t(u32, v->capacity, ES_VMS_MAX_LIST);
	if (cap) {
		entries = kvcalloc(cap, sizeof(*entries), GFP_KERNEL_ACCOUNT);
		if (!entries) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = es_core_list_vms(v, entries, cap);
	if (!err && cap && v->count &&
	    copy_to_user(u64_to_user_ptr(v->entries), entries,
			 min_t(u32, v->count, cap) * sizeof(*entries)))
		err = -EFAULT;
	if (!err)
		err = es_copy_out(arg, v, sizeof(*v));
out:
	kvfree(entries);
	kvfree(v);
	return err;
}
