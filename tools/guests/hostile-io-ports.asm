; hostile-io-ports: IN and OUT on every port 0..0xFFFF (OUT skips the console and exit ports).
; Every IN must read all ones. Exit code 0 when all did, else 1.
bits 32
org 0x1000
    xor edx, edx
    xor edi, edi                ; INs that did not read 0xFF
.port:
    in al, dx
    cmp al, 0xff
    je .in_ok
    inc edi
.in_ok:
    cmp dx, 0xe9
    je .skip_out
    cmp dx, 0xf4
    je .skip_out
    out dx, al
.skip_out:
    inc edx
    cmp edx, 0x10000
    jb .port
    mov esi, s_done
    call puts
    mov eax, edi
    call put_dec
    mov al, 10
    call put_char
    xor eax, eax
    test edi, edi
    jz .done
    mov al, 1
.done:
    out 0xf4, al

%include "console.inc"
s_done: db "io-ports: 65536 ports, INs not reading all ones: ", 0
