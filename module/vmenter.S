/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Enter the guest and come back: the only assembly in Exitscope, in the shape of KVM's
 * __vmx_vcpu_run and Jailhouse's vmx-vmexit.S (save, enter; on exit save, return).
 *
 * es_u64 es_vmx_enter(struct es_guest_regs *regs, int launched)
 *
 * Saves the host's callee-saved registers, makes HOST_RSP and CR2 right for this entry (each
 * written only when it changed), loads the guest's registers and runs VMLAUNCH (launched == 0)
 * or VMRESUME. The next VM exit lands on es_vmx_exit_landing with RSP = HOST_RSP: the guest's
 * registers and CR2 go back to *regs, the guest values left in registers are cleared so none
 * steers host speculation, and the function returns the TSC read right after the exit (the
 * start of the exit's handling time). Every exit returns here: the run loop handles it in C++
 * and calls es_vmx_enter again.
 *
 * Returns 0 when VMLAUNCH/VMRESUME itself failed (VM-instruction error in the VMCS, or no
 * current VMCS); a TSC is never 0 once the kernel runs.
 * Offsets: ES_REGS_* and ES_VMCS_HOST_RSP in include/exitscope/boundary.h (C++ asserts them).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "exitscope/boundary.h"

/* Load the guest's general registers from \regs (a register that is loaded last). */
.macro LOAD_GUEST regs:req
	mov ES_REGS_RAX(\regs), %rax
	mov ES_REGS_RCX(\regs), %rcx
	mov ES_REGS_RDX(\regs), %rdx
	mov ES_REGS_RBX(\regs), %rbx
	mov ES_REGS_RBP(\regs), %rbp
	mov ES_REGS_RSI(\regs), %rsi
	mov ES_REGS_R8(\regs), %r8
	mov ES_REGS_R9(\regs), %r9
	mov ES_REGS_R10(\regs), %r10
	mov ES_REGS_R11(\regs), %r11
	mov ES_REGS_R12(\regs), %r12
	mov ES_REGS_R13(\regs), %r13
	mov ES_REGS_R14(\regs), %r14
	mov ES_REGS_R15(\regs), %r15
	mov ES_REGS_RDI(\regs), \regs
.endm

.section .text, "ax"

SYM_FUNC_START(es_vmx_enter)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	/* regs: all the exit path finds on the stack. */
	push %rdi

	/* Every exit lands with RSP = HOST_RSP. It is the same for every entry from the same
	 * kernel stack, so VMWRITE it only when it changed (first entry, another thread). */
	cmp %rsp, ES_REGS_HOST_RSP(%rdi)
	je .Lhost_rsp_ok
	mov $ES_VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lvmfail
	mov %rsp, ES_REGS_HOST_RSP(%rdi)
.Lhost_rsp_ok:

	/* VMX does not switch CR2: the guest's goes in by hand, only when it differs. */
	mov ES_REGS_CR2(%rdi), %rax
	mov %cr2, %rdx
	cmp %rax, %rdx
	je .Lcr2_ok
	mov %rax, %cr2
.Lcr2_ok:

	/* CF=1 (launched == 0) selects VMLAUNCH; MOV leaves the flags alone, and VERW changes
	 * only ZF. */
	cmp $1, %esi
	LOAD_GUEST %rdi

	/* CPU buffers cleared after the last host load, where the host kernel asks for it (MDS,
	 * TAA, MMIO stale data), as KVM's vmenter.S does (module/mitigations.c reports it). */
#if defined(X86_FEATURE_CLEAR_CPU_BUF_VM)
	VM_CLEAR_CPU_BUFFERS
#elif defined(X86_FEATURE_CLEAR_CPU_BUF)
	CLEAR_CPU_BUFFERS
#endif

	UNWIND_HINT_SAVE
	jnc .Lvmresume
	vmlaunch
	jmp .Lvmfail
.Lvmresume:
	vmresume
	jmp .Lvmfail

SYM_INNER_LABEL(es_vmx_exit_landing, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	/* HOST_RIP is an address objtool sees referenced from data: mark it as a branch target,
	 * as KVM marks its vmx_vmexit. */
	ENDBR
	push %rdi
	mov 8(%rsp), %rdi
	mov %rax, ES_REGS_RAX(%rdi)
	mov %rdx, ES_REGS_RDX(%rdi)
	/* The start of this exit's handling time. */
	rdtsc
	mov %rcx, ES_REGS_RCX(%rdi)
	mov %rbx, ES_REGS_RBX(%rdi)
	mov %rbp, ES_REGS_RBP(%rdi)
	mov %rsi, ES_REGS_RSI(%rdi)
	mov %r8, ES_REGS_R8(%rdi)
	mov %r9, ES_REGS_R9(%rdi)
	mov %r10, ES_REGS_R10(%rdi)
	mov %r11, ES_REGS_R11(%rdi)
	mov %r12, ES_REGS_R12(%rdi)
	mov %r13, ES_REGS_R13(%rdi)
	mov %r14, ES_REGS_R14(%rdi)
	mov %r15, ES_REGS_R15(%rdi)
	pop ES_REGS_RDI(%rdi)
	mov %cr2, %rcx
	mov %rcx, ES_REGS_CR2(%rdi)
	/* The return value: RDTSC cleared the upper halves of RAX and RDX. */
	shl $32, %rdx
	or %rdx, %rax

.Lclear_and_return:
	/* Clear the guest values the caller could otherwise see; RBX, RBP and R12-R15 are
	 * reloaded from the stack below. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	add $8, %rsp
	/* The guest may have poisoned the return stack buffer: refill it where the CPU needs it,
	 * before the first RET that pops more than the host pushed since the exit. */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

.Lvmfail:
	/* VMLAUNCH/VMRESUME (or the HOST_RSP VMWRITE) fell through: VMfailValid or
	 * VMfailInvalid. The guest's values may be loaded: the same clearing applies. */
	xor %eax, %eax
	jmp .Lclear_and_return
SYM_FUNC_END(es_vmx_enter)
