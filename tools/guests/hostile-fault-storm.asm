; hostile-fault-storm: 64-bit guest taking 3000 each of #UD, #GP and #PF in its own handlers.
; Exceptions are the guest's business (the exception bitmap is empty): none may reach the
; hypervisor, and the guest must finish. Exit code 0 with all 9000 counted, else 1.
bits 64
org 0x1000

ROUNDS equ 3000

    lgdt [gdt_desc]
    call build_idt
    lidt [idt_desc]
    mov ebp, ROUNDS
.round:
    ud2                         ; #UD, 2 bytes
    mov rbx, 0x8000000000000000
    mov al, [rbx]               ; non-canonical: #GP, 2 bytes
    mov rbx, 0x8000000000
    mov al, [rbx]               ; PML4 entry 1 not present: #PF, 2 bytes
    dec ebp
    jnz .round
    mov esi, s_done
    mov eax, [faults]
    call put_line_dec
    xor eax, eax
    cmp dword [faults], 3 * ROUNDS
    je .done
    mov al, 1
.done:
    out 0xf4, al

; Skip the 2-byte faulting instruction. #GP and #PF push an error code.
skip_no_error:
    add qword [rsp], 2
    inc dword [faults]
    iretq
skip_error:
    add rsp, 8
    jmp skip_no_error

build_idt:
    xor ecx, ecx
.gate:
    mov rax, skip_no_error
    cmp ecx, 13
    je .err
    cmp ecx, 14
    jne .set
.err:
    mov rax, skip_error
.set:
    mov rdi, rcx
    shl rdi, 4
    add rdi, idt
    mov dx, 0x08
    call set_gate64
    inc ecx
    cmp ecx, 32
    jb .gate
    ret

%include "console.inc"
%include "idt64.inc"

align 8
gdt:
    dq 0
    dq 0x00af9a000000ffff       ; 0x08: 64-bit code
    dq 0x00cf92000000ffff       ; 0x10: data
gdt_desc:
    dw gdt_desc - gdt - 1
    dq gdt
idt_desc:
    dw 32 * 16 - 1
    dq idt
faults: dd 0
s_done: db "fault-storm: exceptions handled in the guest: ", 0
align 16
idt: times 32 * 16 db 0
