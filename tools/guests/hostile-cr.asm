; hostile-cr: control-register writes the hypervisor must refuse with #GP: CR4.VMXE, CR4.SMXE,
; reserved CR4 bits, CR0.PG without PE, CR0.NW without CD. Exit code 0 when all faulted.
bits 16
org 0x1000
%include "pm32_macros.inc"
    PM32_ENTER main

%macro BAD_CR4 1
    mov dword [resume], %%next
    mov eax, cr4
    or eax, %1
    mov cr4, eax
    inc dword [missed]
%%next:
%endmacro

%macro BAD_CR0 2                ; set bits %1, clear bits %2
    mov dword [resume], %%next
    mov eax, cr0
    or eax, %1
    and eax, ~(%2)
    mov cr0, eax
    inc dword [missed]
%%next:
%endmacro

main:
    BAD_CR4 1 << 13
    BAD_CR4 1 << 14
    BAD_CR4 1 << 31
    BAD_CR0 1 << 29, 1 << 30
    mov esi, s_missed
    mov eax, [missed]
    jmp pm32_exit_with_count

%include "pm32.inc"
missed: dd 0
s_missed: db "cr: writes that did not fault: ", 0
