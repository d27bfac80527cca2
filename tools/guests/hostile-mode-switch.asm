; hostile-mode-switch: the guest walks from real mode to protected mode and on to 64-bit long
; mode by itself (own page tables, EFER.LME by WRMSR, CR0.PG), then prints from long mode.
bits 16
org 0x1000
%include "pm32_macros.inc"
    PM32_ENTER main32
main32:
    ; identity-map the first 2 MiB: PML4 -> PDPT -> PD with one 2 MiB page
    mov dword [pml4], pdpt + 3
    mov dword [pdpt], pd + 3
    mov dword [pd], 0x83
    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 1 << 8              ; EFER.LME
    wrmsr
    lgdt [gdt64_desc]
    mov eax, cr0
    or eax, 1 << 31             ; paging on: long mode becomes active
    mov cr0, eax
    jmp 0x08:long64
bits 64
long64:
    mov esi, s_long
    call puts                   ; pm32.inc's 32-bit puts: its encodings mean the same in 64-bit
    mov ecx, 0xc0000080
    rdmsr
    test eax, 1 << 10           ; EFER.LMA
    jz .bad
    cli
    hlt
.bad:
    mov al, 1
    out 0xf4, al

bits 32
%include "pm32.inc"
s_long: db "mode-switch: real -> protected -> long mode, EFER.LMA set", 10, 0
align 8
gdt64:
    dq 0
    dq 0x00af9a000000ffff
gdt64_desc:
    dw gdt64_desc - gdt64 - 1
    dd gdt64
align 4096
pml4: times 4096 db 0
pdpt: times 4096 db 0
pd: times 4096 db 0
