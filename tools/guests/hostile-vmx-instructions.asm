; hostile-vmx-instructions: every VMX instruction from the guest. Each must exit, be counted
; under its own reason and be answered with #UD (the guest sees no VMX). Exit code 0 when all
; 13 faulted and all 13 reasons counted 1, else 1.
bits 16
org 0x1000
%include "pm32_macros.inc"
    PM32_ENTER main

%macro TRY 2                    ; TRY reason, instruction...
    mov dword [resume], %%next
    %2
%%next:
    mov ecx, %1
    call count_of
    cmp eax, 1
    je %%ok
    inc dword [wrong]
%%ok:
%endmacro

main:
    TRY 18, vmcall
    TRY 19, {vmclear [scratch]}
    TRY 20, vmlaunch
    TRY 21, {vmptrld [scratch]}
    TRY 22, {vmptrst [scratch]}
    TRY 23, {vmread [scratch], eax}
    TRY 24, vmresume
    TRY 25, {vmwrite eax, [scratch]}
    TRY 26, vmxoff
    TRY 27, {vmxon [scratch]}
    TRY 50, {invept eax, [scratch]}
    TRY 53, {invvpid eax, [scratch]}
    mov dword [resume], .after_vmfunc
    vmfunc                      ; VM functions are not enabled: #UD without an exit
.after_vmfunc:
    mov esi, s_faults
    call puts
    mov eax, [faults]
    call put_dec
    mov esi, s_wrong
    call puts
    mov eax, [wrong]
    call put_dec
    mov al, 10
    call put_char
    xor eax, eax
    cmp dword [faults], 13
    jne .bad
    cmp dword [wrong], 0
    je .done
.bad:
    mov al, 1
.done:
    out 0xf4, al

%include "pm32.inc"
align 16
scratch: times 16 db 0
wrong: dd 0
s_faults: db "vmx-instructions: #UD delivered ", 0
s_wrong: db ", reasons not counted exactly once: ", 0
