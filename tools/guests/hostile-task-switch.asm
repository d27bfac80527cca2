; hostile-task-switch: a far jump to a TSS selector asks for a hardware task switch, which
; Exitscope does not emulate: the run must stop as an unhandled exit naming "task switch"
; (status 70), never crash or hang.
bits 16
org 0x1000
%include "pm32_macros.inc"
    PM32_ENTER main
main:
    mov eax, tss
    mov [tss_desc + 2], ax
    shr eax, 16
    mov [tss_desc + 4], al
    mov [tss_desc + 7], ah
    lgdt [gdt2_desc]
    jmp 0x18:0
    hlt

%include "pm32.inc"
align 8
gdt2:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
tss_desc:
    dq 0x0000890000000067       ; available 32-bit TSS, limit 0x67
gdt2_desc:
    dw gdt2_desc - gdt2 - 1
    dd gdt2
tss: times 0x68 db 0
