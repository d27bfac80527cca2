; hello-real: greet from real mode (CS=0, IP=0x1000), then halt with interrupts off.
bits 16
org 0x1000

start:
    mov esi, message
    call puts
    cli
    hlt

%include "console.inc"

message: db "Hello from real mode!", 10, 0
