; serial-echo: a fake bzImage (`exitscope run --kernel serial-echo.bin`) that echoes what arrives
; on COM1 to the console, the way Linux's 8250 driver takes it: received-data interrupt (IRQ 4,
; with OUT2), IIR, then RBR while LSR.DR. The PIT ticks every 55 ms meanwhile, so a HLT sleeps
; and input must wake it. It prints "ready", then every byte but 'q'; 'q' prints "bye" and exits
; with code 0.
bits 64
%include "bzimage.inc"

STACK_TOP equ 0x80000
IDT_BASE equ 0x70000
VECTOR_BASE equ 32
COM1 equ 0x3f8

entry64:
    mov rsp, STACK_TOP
    mov rdi, VECTOR_BASE + 0
    mov rax, timer
    call set_gate
    mov rdi, VECTOR_BASE + 4
    mov rax, com1
    call set_gate
    lidt [idt_pointer]
    ; 8259A: vectors 32.., IRQ 0 (PIT) and IRQ 4 (COM1) unmasked.
    mov al, 0x11
    out 0x20, al
    mov al, VECTOR_BASE
    out 0x21, al
    mov al, 4
    out 0x21, al
    mov al, 1
    out 0x21, al
    mov al, 0xee
    out 0x21, al
    ; 8254 channel 0, mode 2, count 65536 (55 ms).
    mov al, 0x34
    out 0x43, al
    xor eax, eax
    out 0x40, al
    out 0x40, al
    ; 16550A: FIFO on, received-data interrupt on, OUT2 (which gates the IRQ line).
    mov dx, COM1 + 2
    mov al, 1
    out dx, al
    mov dx, COM1 + 1
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x08
    out dx, al
    mov rsi, s_ready
    call puts
    sti
.idle:
    hlt
    cmp byte [done], 0
    je .idle
    cli
    mov rsi, s_bye
    call puts
    xor eax, eax
    out EXIT_PORT, al

; set_gate: IDT entry RDI -> handler RAX.
set_gate:
    shl rdi, 4
    add rdi, IDT_BASE
    mov dx, BOOT_CS
    jmp set_gate64

%include "idt64.inc"

timer:
    push rax
    mov al, 0x20
    out 0x20, al
    pop rax
    iretq

com1:
    push rax
    push rdx
    mov dx, COM1 + 2            ; IIR: which interrupt (received data)
    in al, dx
.next:
    mov dx, COM1 + 5            ; LSR
    in al, dx
    test al, 1                  ; DR
    jz .eoi
    mov dx, COM1                ; RBR
    in al, dx
    cmp al, 'q'
    je .quit
    out CONSOLE_PORT, al
    jmp .next
.quit:
    mov byte [done], 1
    jmp .next
.eoi:
    mov al, 0x20
    out 0x20, al
    pop rdx
    pop rax
    iretq

done: db 0
align 8
idt_pointer:
    dw (VECTOR_BASE + 5) * 16 - 1
    dq IDT_BASE
s_ready: db "ready", 10, 0
s_bye: db "bye", 10, 0
