; cpuid-loop: execute CPUID (leaf 0) exactly 1000 times, then ask leaf 0x4FFFFFFE how many CPUID
; exits this VM took. The answer must be 1001: the thousand plus the asking CPUID itself.
bits 16
org 0x1000

LOOPS equ 1000

start:
    mov ebp, LOOPS
.again:
    xor eax, eax
    cpuid
    dec ebp
    jnz .again
    mov eax, 0x4ffffffe
    mov ecx, 10
    cpuid
    mov esi, s_result
    call put_line_dec
    cli
    hlt

%include "console.inc"

s_result: db "cpuid-loop: ran 1000 CPUIDs, leaf 0x4FFFFFFE says ", 0
