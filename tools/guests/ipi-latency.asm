; ipi-latency: a fake bzImage for a VM of two vCPUs (`exitscope run --kernel ipi-latency.bin
; --cpus 2`, or `--backend kvm --cpus 2`) that times a fixed IPI to a halted vCPU, the way issue
; 19's target measures it: from the sender's TSC before its ICR write to the TSC the target's
; handler reads first. vCPU 0 starts vCPU 1 by INIT/SIPI into a real-mode loop of STI; HLT with
; an interrupt vector of its own, then, ROUNDS times: waits until vCPU 1 has gone back to HLT,
; clears the handler's done flag, reads its TSC, writes the ICR and spins until the flag is set.
; It prints "ipi latency: rounds N, min A, mean B, max C ticks" and exits with code 0. vCPU 0
; keeps interrupts off throughout (the board's PIT does not interrupt the measurement).
bits 64

%include "bzimage.inc"
%include "x2apic.inc"

ROUNDS equ 200
STACK_TOP equ 0x80000
SIPI_PAGE equ 0x8000            ; vCPU 1's start: vector 8, CS 0x800
AP_VECTOR equ 0xf0              ; the IPI's vector, in vCPU 1's real-mode IVT
AP_READY equ 0x9000             ; byte: vCPU 1 set its APIC up and is about to halt
AP_TSC equ 0x9008               ; qword: the TSC vCPU 1's handler read first
AP_DONE equ 0x9010              ; byte: AP_TSC holds this round's TSC (stored after it: x86
                                ; stores are seen in order, "Memory Ordering in P6 and More
                                ; Recent Processor Families", SDM Vol. 3A, June 2023)
AP_STACK equ 0x7000
APIC_BASE_MSR equ 0x1b
APIC_EN_EXTD equ 0xc00          ; IA32_APIC_BASE: xAPIC global enable (11), x2APIC (10)
SVR equ 0x80f
SVR_ENABLED equ 0x1ff           ; APIC software enable, spurious vector 0xFF
EOI equ 0x80b
FIXED_TO_1 equ AP_VECTOR | (1 << 32)     ; fixed, physical, APIC ID 1
INIT_TO_1 equ 0x500 | (1 << 14) | (1 << 32)
STARTUP_TO_1 equ 0x600 | (SIPI_PAGE >> 12) | (1 << 32)
SETTLE_LOOPS equ 4000           ; lets vCPU 1 reach its HLT after its handler returned


entry64:
    cli
    mov rsp, STACK_TOP
    mov rsi, ap_code
    mov rdi, SIPI_PAGE
    mov ecx, ap_code_end - ap_code
    rep movsb
    mov byte [AP_READY], 0
    send_ipi INIT_TO_1
    send_ipi STARTUP_TO_1
.wait_ap:
    pause
    cmp byte [AP_READY], 1
    jne .wait_ap

    xor r13, r13                ; sum of the latencies
    mov r14, -1                 ; min
    xor r15, r15                ; max
    mov r12d, ROUNDS
.round:
    mov ecx, SETTLE_LOOPS
.settle:
    dec ecx
    jnz .settle
    mov byte [AP_DONE], 0
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov rbx, rax                ; the sender's TSC before the ICR write
    send_ipi FIXED_TO_1
.wait_handler:
    pause
    cmp byte [AP_DONE], 1
    jne .wait_handler
    mov rax, [AP_TSC]
    sub rax, rbx
    add r13, rax
    cmp rax, r14
    cmovb r14, rax
    cmp rax, r15
    cmova r15, rax
    dec r12d
    jnz .round

    mov rsi, s_rounds
    mov eax, ROUNDS
    call puts
    call put_dec
    mov rsi, s_min
    mov rax, r14
    call puts
    call put_dec
    mov rsi, s_mean
    mov rax, r13
    xor edx, edx
    mov ecx, ROUNDS
    div rcx
    call puts
    call put_dec
    mov rsi, s_max
    mov rax, r15
    call puts
    call put_dec
    mov rsi, s_ticks
    call puts
    xor eax, eax
    out EXIT_PORT, al

; vCPU 1, copied to SIPI_PAGE: real mode, CS = 0x800, so code offsets are from ap_code.
bits 16
ap_code:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, AP_STACK
    mov ecx, APIC_BASE_MSR      ; x2APIC mode, as vCPU 0's (an INIT leaves the APIC's mode)
    rdmsr
    or eax, APIC_EN_EXTD
    wrmsr
    mov ecx, SVR
    mov eax, SVR_ENABLED
    xor edx, edx
    wrmsr
    mov word [AP_VECTOR * 4], ap_handler - ap_code
    mov word [AP_VECTOR * 4 + 2], SIPI_PAGE >> 4
    mov byte [AP_READY], 1
.idle:
    sti                         ; STI's shadow covers the HLT: no interrupt in between
    hlt
    jmp .idle
ap_handler:
    push eax
    push ecx
    push edx
    rdtsc
    mov [AP_TSC], eax
    mov [AP_TSC + 4], edx
    mov byte [AP_DONE], 1
    mov ecx, EOI
    xor eax, eax
    xor edx, edx
    wrmsr
    pop edx
    pop ecx
    pop eax
    iret
ap_code_end:
bits 64

s_rounds: db "ipi latency: rounds ", 0
s_min: db ", min ", 0
s_mean: db ", mean ", 0
s_max: db ", max ", 0
s_ticks: db " ticks", 10, 0
