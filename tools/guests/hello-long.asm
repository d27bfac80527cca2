; hello-long: greet from 64-bit long mode on the host-built identity page tables, then halt.
bits 64
org 0x1000

start:
    mov rsi, message
    call puts
    cli
    hlt

%include "console.inc"

message: db "Hello from 64-bit long mode!", 10, 0
