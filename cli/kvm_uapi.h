/*
 * The KVM user-space API, in one place. This is Linux's UAPI header for user programs (not a
 * kernel header: the kernel module's C++ includes no Linux header at all). It is not clean C++:
 * in Linux 6.1, struct kvm_cpuid2 ends in a flexible array that g++ sizes differently, so
 * cli/kvm_backend.cpp defines its own layout for that struct and checks it.
 */
#ifndef EXITSCOPE_KVM_UAPI_H
#define EXITSCOPE_KVM_UAPI_H

#include <linux/kvm.h>

#endif
