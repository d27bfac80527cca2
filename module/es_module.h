/* SPDX-License-Identifier: GPL-2.0 */
/* Internal interface between the C files of module/. */
#ifndef ES_MODULE_H
#define ES_MODULE_H

#include "exitscope/abi.h"

int es_vmx_cpus_start(void);
void es_vmx_cpus_stop(void);
void es_fill_cpu_info(struct es_info *info);
/* A VM exists: VMX must be on (on every CPU) until the matching put. 0 or -errno. */
int es_vmx_get(void);
void es_vmx_put(void);
/* At unload: no CPU keeps a notifier of this module armed (shim.c's SYSCALL-MSR guard). */
void es_shim_drop_syscall_guards(void);

#endif
