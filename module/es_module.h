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
/* A Linux guest's SYSCALL MSRs (syscall_msrs.c): the live ones saved into `save` and `load`
 * loaded; the guard armed with the host's values while the guest's are live, disarmed at the
 * section's end on this CPU; and at unload on every CPU, so that no CPU keeps a notifier of
 * this module armed. */
void es_switch_syscall_msrs(u64 *save, const u64 *load);
void es_syscall_guard_arm(const u64 *host);
void es_syscall_guard_disarm_this_cpu(void);
void es_shim_drop_syscall_guards(void);

#endif
