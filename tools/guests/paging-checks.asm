; paging-checks: the guest's own 4-level tables, exercised as shadow paging must keep them (the
; output is the same under --paging ept and --paging shadow). Run with --mode long (2 MiB RAM).
;   1. a supervisor write to a read-only page, and a read of a not-present one: #PF with the
;      error code and CR2 the guest's own IDT handler records;
;   2. a CR3 switch to a second set of tables mapping one page elsewhere, read back, and back;
;      MOV from CR3 returns what the guest loaded;
;   3. a remap of a page the guest has just read, INVLPG, the new frame's contents;
;   4. accessed and dirty bits of a fresh PTE: clear, after a read, after a write.
bits 64
org 0x1000

%include "paging-macros.inc"

GDT     equ 0x0f000
PML4_A  equ 0x10000
PDPT_A  equ 0x11000
PD_A    equ 0x12000
PT_A    equ 0x13000
IDT     equ 0x14000
PML4_B  equ 0x15000
PDPT_B  equ 0x16000
PD_B    equ 0x17000
PT_B    equ 0x18000
P_RW    equ 0x3                 ; present, writable (supervisor)

RO_PAGE   equ 0x30000           ; mapped read-only in A
NP_PAGE   equ 0x31000           ; not present in A
SWITCHED  equ 0x40000           ; frame 0x40000 in A, frame 0x41000 in B
REMAPPED  equ 0x42000           ; frame 0x42000, then 0x43000
AD_PAGE   equ 0x44000           ; a fresh PTE for the A/D bits

%macro pte_of 1                 ; rdi = address of the PTE of linear %1 in PT_A
    mov rdi, PT_A + ((%1) >> 12) * 8
%endmacro

; table_set PML4, PDPT, PD, PT: four zeroed pages linked for the first 2 MiB (PT left empty).
%macro table_set 4
    mov rdi, %1
    xor eax, eax
    mov ecx, 4 * 512
    rep stosq
    mov qword [%1], %2 | P_RW
    mov qword [%2], %3 | P_RW
    mov qword [%3], %4 | P_RW
%endmacro

start:
    ; Own GDT (null, 64-bit code 0x08, data 0x10): IRETQ reloads CS and SS from it.
    mov qword [GDT], 0
    mov rax, 0x00209a0000000000
    mov [GDT + 8], rax
    mov rax, 0x0000920000000000
    mov [GDT + 16], rax
    reload_segments gdt_ptr

    ; IDT: only vector 14, an interrupt gate to pf_handler.
    mov rdi, IDT
    xor eax, eax
    mov ecx, 512
    rep stosq
    gate IDT, 14, pf_handler
    lidt [idt_ptr]

    ; Tables A: the first 2 MiB, 4 KiB pages, identity.
    table_set PML4_A, PDPT_A, PD_A, PT_A
    mov rdi, PT_A
    mov eax, P_RW
    mov ecx, 512
.fill_a:
    mov [rdi], rax
    add rax, 0x1000
    add rdi, 8
    dec ecx
    jnz .fill_a
    pte_of RO_PAGE
    mov qword [rdi], RO_PAGE | 1
    pte_of NP_PAGE
    mov qword [rdi], 0
    ; Tables B: a copy of A with SWITCHED on the next frame.
    table_set PML4_B, PDPT_B, PD_B, PT_B
    mov rsi, PT_A
    mov rdi, PT_B
    mov ecx, 512
    rep movsq
    mov qword [PT_B + (SWITCHED >> 12) * 8], (SWITCHED + 0x1000) | P_RW
    ; Markers in the frames the checks read.
    mov dword [SWITCHED], 0x11111111
    mov dword [SWITCHED + 0x1000], 0x22222222
    mov dword [REMAPPED], 0x33333333
    mov dword [REMAPPED + 0x1000], 0x44444444
    mov rax, PML4_A
    mov cr3, rax

    ; 1. Faults the guest's tables cause.
    mov qword [pf_resume], .after_ro
    mov dword [RO_PAGE + 8], 1
.after_ro:
    mov rsi, msg_ro
    call report_fault
    mov qword [pf_resume], .after_np
    mov eax, [NP_PAGE + 0x10]
.after_np:
    mov rsi, msg_np
    call report_fault

    ; 2. CR3 switch.
    mov rax, PML4_B
    mov cr3, rax
    mov rax, cr3
    mov rsi, msg_cr3
    call puts
    call put_hex
    call newline
    mov eax, [SWITCHED]
    mov rsi, msg_in_b
    call puts
    call put_hex
    call newline
    mov rax, PML4_A
    mov cr3, rax
    mov eax, [SWITCHED]
    mov rsi, msg_in_a
    call puts
    call put_hex
    call newline

    ; 3. Remap, INVLPG, read.
    mov eax, [REMAPPED]
    mov rsi, msg_before_remap
    call puts
    call put_hex
    call newline
    pte_of REMAPPED
    mov qword [rdi], (REMAPPED + 0x1000) | P_RW
    invlpg [REMAPPED]
    mov eax, [REMAPPED]
    mov rsi, msg_after_remap
    call puts
    call put_hex
    call newline

    ; 4. Accessed and dirty bits.
    pte_of AD_PAGE
    mov qword [rdi], AD_PAGE | P_RW
    invlpg [AD_PAGE]
    mov rsi, msg_ad_fresh
    call report_ad
    mov eax, [AD_PAGE]
    mov rsi, msg_ad_read
    call report_ad
    mov dword [AD_PAGE], 5
    mov rsi, msg_ad_write
    call report_ad

    mov rsi, msg_done
    call puts
    cli
    hlt

; Print the string at rsi, then the A and D bits of AD_PAGE's PTE.
report_ad:
    call puts
    mov rax, [PT_A + (AD_PAGE >> 12) * 8]
    and eax, 0x60
    call put_hex
    call newline
    ret

%include "paging-faults.inc"

align 8
gdt_ptr: dw 23
         dq GDT
idt_ptr: dw 256 * 16 - 1
         dq IDT

msg_ro: db "read-only write: #PF error ", 0
msg_np: db "not-present read: #PF error ", 0
msg_cr3: db "cr3 after switch: ", 0
msg_in_b: db "switched page under B: ", 0
msg_in_a: db "switched page under A: ", 0
msg_before_remap: db "before remap: ", 0
msg_after_remap: db "after remap and invlpg: ", 0
msg_ad_fresh: db "A/D fresh: ", 0
msg_ad_read: db "A/D after read: ", 0
msg_ad_write: db "A/D after write: ", 0
msg_done: db "paging checks done", 10, 0
