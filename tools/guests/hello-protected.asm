; hello-protected: greet from 32-bit flat protected mode (paging off), then halt.
bits 32
org 0x1000

start:
    mov esi, message
    call puts
    cli
    hlt

%include "console.inc"

message: db "Hello from 32-bit protected mode!", 10, 0
