; hostile-xsetbv: XSETBV with an invalid XCR index, without x87, AVX without SSE, and reserved
; bits; each must be #GP. A valid value must not fault. Exit code 0 when all behaved, else 1.
bits 16
org 0x1000
%include "pm32_macros.inc"
    PM32_ENTER main

%macro BAD 3                    ; BAD ecx, edx, eax: must fault
    mov dword [resume], %%next
    mov ecx, %1
    mov edx, %2
    mov eax, %3
    xsetbv
    inc dword [missed]
%%next:
%endmacro

main:
    mov eax, cr4
    or eax, 1 << 18             ; CR4.OSXSAVE
    mov cr4, eax
    BAD 1, 0, 1
    BAD 0, 0, 0
    BAD 0, 0, 4
    BAD 0, 0x80000000, 3
    mov dword [resume], .valid_faulted
    xor ecx, ecx
    xor edx, edx
    mov eax, 3                  ; x87 | SSE: valid on any XSAVE CPU
    xsetbv
    jmp .check
.valid_faulted:
    inc dword [missed]
.check:
    mov esi, s_missed
    mov eax, [missed]
    jmp pm32_exit_with_count

%include "pm32.inc"
missed: dd 0
s_missed: db "xsetbv: wrong outcomes: ", 0
