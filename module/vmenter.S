/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Enter the guest and come back: the only assembly in Exitscope.
 *
 * int es_vmx_enter(struct es_guest_regs *regs, int launched,
 *                  int (*on_exit)(void *ctx, u64 exit_tsc), void *ctx)
 *
 * Saves the host's callee-saved registers, records HOST_RSP (every VM exit lands on
 * es_vmx_exit_landing with this stack), loads the guest's registers and CR2 (VMX switches
 * neither), and runs VMLAUNCH or VMRESUME.
 *
 * After each exit it saves the guest's registers, clears them so no guest value steers host
 * speculation, and calls on_exit(ctx, exit_tsc), the core's exit handler, with the TSC read
 * first thing after the exit. When that returns nonzero the
 * guest is re-entered at once from here: the round trip of a common exit (CPUID, I/O, MSR)
 * then runs no function prologue, no VMWRITE of HOST_RSP and no CR2 switch. When it returns 0
 * (the guest stops, or the host has work), es_vmx_enter returns 0 to its caller.
 *
 * Why CR2 is left alone while the handler runs: nothing on that path enables interrupts or can
 * page fault, and NMI handlers restore CR2 themselves, so CR2 still holds the guest's value at
 * the next VMRESUME; it is saved only when the guest is left.
 *
 * Why the return stack buffer is refilled only on the way out: after a VM exit it may hold the
 * guest's return predictions, which matter to a RET that pops more than the host pushed since
 * the exit. The call to on_exit is balanced (it returns to the CALL that made it), so the first
 * unbalanced RET is es_vmx_enter's own, and the refill comes right before it.
 *
 * Returns 0 when on_exit asked to leave, 1 when VMLAUNCH/VMRESUME itself failed.
 * Offsets: ES_REGS_* in include/exitscope/boundary.h.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "exitscope/boundary.h"

/* VMCS encoding of HOST_RSP (SDM appendix "Field Encoding in VMCS"). */
#define VMCS_HOST_RSP 0x6c14

/* Stack at HOST_RSP: the arguments the exit path needs. */
#define FRAME_REGS 0
#define FRAME_ON_EXIT 8
#define FRAME_CTX 16
#define FRAME_SIZE 24

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
	push %rcx
	push %rdx
	push %rdi

	mov $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe .Lvmfail_early

	/* VMX does not switch CR2; load the guest's. */
	mov ES_REGS_CR2(%rdi), %rax
	mov %rax, %cr2

	/* ZF=1 selects VMLAUNCH; MOV leaves the flags alone. */
	test %esi, %esi
	LOAD_GUEST %rdi

	UNWIND_HINT_SAVE
	jnz .Lvmresume
	vmlaunch
	jmp .Lvmfail
.Lvmresume:
	vmresume
	jmp .Lvmfail

SYM_INNER_LABEL(es_vmx_exit_landing, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	push %rdi
	mov 8+FRAME_REGS(%rsp), %rdi
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
	/* The exit's TSC is on_exit's second argument (RDTSC cleared the upper halves of RAX and
	 * RDX, so a shift and an add join them). */
	shl $32, %rdx
	lea (%rax,%rdx), %rsi
	/* RAX and RDX now hold the TSC and RSI the argument; clear the other guest values. */
	xor %ecx, %ecx
	xor %ebx, %ebx
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d

	mov FRAME_CTX(%rsp), %rdi
	mov FRAME_ON_EXIT(%rsp), %rax
	CALL_NOSPEC rax
	test %eax, %eax
	jz .Lleave
	/* The handler says re-enter: HOST_RSP and CR2 are still right (see the top). */
	mov FRAME_REGS(%rsp), %rdi
	LOAD_GUEST %rdi
	vmresume
	jmp .Lvmfail

.Lleave:
	mov FRAME_REGS(%rsp), %rax
	mov %cr2, %rcx
	mov %rcx, ES_REGS_CR2(%rax)
	xor %ebx, %ebx

.Lreturn:
	/* The guest may have poisoned the return stack buffer: refill it where the CPU needs it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	add $FRAME_SIZE, %rsp
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
	jmp .Lreturn

.Lvmfail_early:
	add $FRAME_SIZE, %rsp
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	mov $1, %eax
	RET
SYM_FUNC_END(es_vmx_enter)
