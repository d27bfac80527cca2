; hostile-ept-exec: jump to 0x40000000, outside RAM: the fetch is an EPT violation (status 73).
bits 32
org 0x1000
    mov eax, 0x40000000
    jmp eax
