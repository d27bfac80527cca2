// SPDX-License-Identifier: GPL-2.0
/* Versioned ioctl arguments in and out of user memory (vm_file.h). */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vm_file.h"

void *es_copy_in(unsigned long arg, size_t size, long *err)
{
	void *buf;
	u32 user_size;

	if (get_user(user_size, (u32 __user *)arg)) {
		*err = -EFAULT;
		return NULL;
	}
	if (user_size != size) {
		*err = -EINVAL;
		return NULL;
	}
	buf = vmemdup_user((void __user *)arg, size);
	if (IS_ERR(buf)) {
		*err = PTR_ERR(buf);
		return NULL;
	}
	return buf;
}

long es_copy_out(unsigned long arg, const void *buf, size_t size)
{
	return copy_to_user((void __user *)arg, buf, size) ? -EFAULT : 0;
}
