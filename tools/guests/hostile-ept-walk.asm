; hostile-ept-walk: point CR3 outside RAM; the next page walk reads guest-physical memory that
; does not exist: EPT violation (status 73), not a host access.
bits 64
org 0x1000
    mov rax, 0x40000000
    mov cr3, rax
    mov al, [0x2000]
    hlt
