; bench-cpuid: time 1000 CPUID exits with RDTSC from inside the guest and print the ticks per
; round trip (exit, handling, entry). In Bochs the TSC advances about one tick per emulated
; instruction, so the figure is deterministic.
bits 16
org 0x1000

LOOPS equ 1000

start:
    xor eax, eax                ; warm-up exit
    cpuid
    rdtsc
    mov esi, eax
    mov edi, edx
    mov ebp, LOOPS
.again:
    xor eax, eax
    cpuid
    dec ebp
    jnz .again
    rdtsc
    sub eax, esi
    sbb edx, edi
    mov ecx, LOOPS
    div ecx                     ; ticks per exit (the loop adds 3 instructions each)
    mov esi, s_result
    call put_line_dec
    cli
    hlt

%include "console.inc"

s_result: db "bench: ticks per CPUID exit: ", 0
