/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Enter the guest and come back: the only assembly in Exitscope.
 *
 * int es_vmx_enter(struct es_guest_regs *regs, int launched)
 *
 * Saves the host's callee-saved registers, records HOST_RSP (every VM exit lands on
 * es_vmx_exit_landing with this stack), reads the TSC, loads the guest's registers and CR2 (VMX
 * switches neither), and runs VMLAUNCH or VMRESUME. After the exit it reads the TSC first, saves
 * the guest's registers and clears them so no guest value steers host speculation.
 * Offsets: ES_REGS_* in include/exitscope/boundary.h.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "exitscope/boundary.h"

/* VMCS encoding of HOST_RSP (SDM appendix "Field Encoding in VMCS"). */
#define VMCS_HOST_RSP 0x6c14

.section .text, "ax"

SYM_FUNC_START(es_vmx_enter)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	/* @regs stays on top of the stack for the exit path. */
	push %rdi

	mov $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe .Lvmfail_early

	/* VMX does not switch CR2; load the guest's. */
	mov ES_REGS_CR2(%rdi), %rax
	mov %rax, %cr2

	/* The last TSC reading before entry: the end of the previous exit's handling time. */
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, ES_REGS_ENTRY_TSC(%rdi)

	/* ZF=1 selects VMLAUNCH; MOV leaves the flags alone. */
	test %esi, %esi

	mov ES_REGS_RAX(%rdi), %rax
	mov ES_REGS_RCX(%rdi), %rcx
	mov ES_REGS_RDX(%rdi), %rdx
	mov ES_REGS_RBX(%rdi), %rbx
	mov ES_REGS_RBP(%rdi), %rbp
	mov ES_REGS_RSI(%rdi), %rsi
	mov ES_REGS_R8(%rdi), %r8
	mov ES_REGS_R9(%rdi), %r9
	mov ES_REGS_R10(%rdi), %r10
	mov ES_REGS_R11(%rdi), %r11
	mov ES_REGS_R12(%rdi), %r12
	mov ES_REGS_R13(%rdi), %r13
	mov ES_REGS_R14(%rdi), %r14
	mov ES_REGS_R15(%rdi), %r15
	mov ES_REGS_RDI(%rdi), %rdi

	UNWIND_HINT_SAVE
	jnz .Lvmresume
	vmlaunch
	jmp .Lvmfail
.Lvmresume:
	vmresume
	jmp .Lvmfail

SYM_INNER_LABEL(es_vmx_exit_landing, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	/* The first thing after the exit: the start of this exit's handling time. */
	push %rdx
	push %rax
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov 16(%rsp), %rax
	mov %rdx, ES_REGS_EXIT_TSC(%rax)
	pop ES_REGS_RAX(%rax)
	pop ES_REGS_RDX(%rax)
	mov %rcx, ES_REGS_RCX(%rax)
	mov %rbx, ES_REGS_RBX(%rax)
	mov %rbp, ES_REGS_RBP(%rax)
	mov %rsi, ES_REGS_RSI(%rax)
	mov %rdi, ES_REGS_RDI(%rax)
	mov %r8, ES_REGS_R8(%rax)
	mov %r9, ES_REGS_R9(%rax)
	mov %r10, ES_REGS_R10(%rax)
	mov %r11, ES_REGS_R11(%rax)
	mov %r12, ES_REGS_R12(%rax)
	mov %r13, ES_REGS_R13(%rax)
	mov %r14, ES_REGS_R14(%rax)
	mov %r15, ES_REGS_R15(%rax)
	mov %cr2, %rcx
	mov %rcx, ES_REGS_CR2(%rax)
	xor %ebx, %ebx

.Lclear_regs:
	/* The guest may have poisoned the return stack buffer: refill it where the CPU needs it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	pop %rax
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	mov %rbx, %rax
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

.Lvmfail:
	/* VMLAUNCH/VMRESUME fell through: VMfailValid or VMfailInvalid. */
	mov $1, %ebx
	jmp .Lclear_regs

.Lvmfail_early:
	pop %rdi
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	mov $1, %eax
	RET
SYM_FUNC_END(es_vmx_enter)
