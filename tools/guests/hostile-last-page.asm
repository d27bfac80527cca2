; hostile-last-page: code and stack in the last page of guest RAM (load and enter at 0x1FF000
; with 2 MiB, protected mode: ESP starts at the very top). Calls, pushes, prints, halts.
bits 32
org 0x1ff000
    call greet
    push dword 0x12345678
    pop eax
    cmp eax, 0x12345678
    jne .bad
    cli
    hlt
.bad:
    mov al, 1
    out 0xf4, al
greet:
    mov esi, s_hello
    call puts
    ret

%include "console.inc"
s_hello: db "last-page: code and stack at the top of RAM", 10, 0
