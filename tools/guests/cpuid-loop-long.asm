; cpuid-loop-long: cpuid-loop in 64-bit long mode (--mode long), for shadow paging, which runs
; long-mode guests only: 1000 CPUIDs, then leaf 0x4FFFFFFE must say 1001.
bits 64
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
    mov rsi, s_result
    call put_line_dec
    cli
    hlt

%include "console.inc"

s_result: db "cpuid-loop-long: ran 1000 CPUIDs, leaf 0x4FFFFFFE says ", 0
