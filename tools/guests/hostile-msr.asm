; hostile-msr: RDMSR/WRMSR of reserved, host-sensitive and pseudo-random MSRs. Every access but
; IA32_EFER must be #GP (nothing reaches a host MSR), EFER writes may only touch LME/NXE.
; Exit code 0 when every access faulted as expected, else 1.
bits 16
org 0x1000
%include "pm32_macros.inc"
    PM32_ENTER main

main:
    mov esi, sensitive
.each:
    mov ecx, [esi]
    test ecx, ecx
    jz .random
    call probe
    add esi, 4
    jmp .each
.random:
    mov ebx, 12345              ; xorshift, 200 MSR numbers
    mov edi, 200
.next_random:
    mov eax, ebx
    shl eax, 13
    xor ebx, eax
    mov eax, ebx
    shr eax, 17
    xor ebx, eax
    mov eax, ebx
    shl eax, 5
    xor ebx, eax
    mov ecx, ebx
    cmp ecx, 0xc0000080         ; EFER is the one MSR the guest may use
    je .skip
    call probe
.skip:
    dec edi
    jnz .next_random

    mov dword [resume], .after_sce ; EFER.SCE (syscall) is not the guest's: #GP
    mov ecx, 0xc0000080
    mov eax, 1
    xor edx, edx
    wrmsr
    inc dword [missed]
.after_sce:
    mov esi, s_missed
    mov eax, [missed]
    jmp pm32_exit_with_count

; probe: RDMSR then WRMSR of MSR ECX; each must fault. Counts accesses that did not in [missed].
probe:
    pusha
    mov dword [resume], .after_read
    rdmsr
    inc dword [missed]
.after_read:
    mov dword [resume], .after_write
    mov eax, 0x41414141
    mov edx, 0x41414141
    wrmsr
    inc dword [missed]
.after_write:
    popa
    ret

%include "pm32.inc"
missed: dd 0
sensitive:
    dd 0x10, 0x1b, 0x3a, 0x48, 0x49, 0x174, 0x175, 0x176, 0x1d9, 0x277, 0x2ff, 0x38f
    dd 0x480, 0x48d, 0x491, 0x6e0, 0x802, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084
    dd 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0xc0010000, 0x40000000, 0xffffffff, 0
s_missed: db "msr: accesses that did not fault: ", 0
