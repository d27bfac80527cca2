; paging-rights: the rights and special entries of the guest's own 4-level tables, as shadow
; paging must keep them (the output is the same under --paging ept and --paging shadow). Run
; with --mode long (2 MiB RAM). Each check prints the #PF error code and CR2 its access got
; (0xffffffff: no fault) or the value it read:
;   - a user (CPL 3) read of a supervisor page;
;   - XD set while EFER.NXE = 0: a reserved-bit fault;
;   - with NXE = 1, a fetch from an XD page;
;   - with CR0.WP = 0, a supervisor write to a read-only page succeeds;
;   - a 2 MiB page replaced by 4 KiB pages, INVLPG of another 4 KiB piece of it;
;   - CR4.PGE on, a global page remapped, CR4.PGE off: the new mapping.
bits 64
org 0x1000

%include "paging-macros.inc"

GDT     equ 0x0f000
TSS     equ 0x0f100
PML4    equ 0x10000
PDPT    equ 0x11000
PD      equ 0x12000
PT      equ 0x13000
IDT     equ 0x14000
PT_BIG  equ 0x15000             ; 4 KiB pages for the 2 MiB region at 2 MiB
KSTACK  equ 0x0e000             ; ring-0 stack for faults taken at CPL 3 (TSS.RSP0)
USTACK  equ 0x0d000
P_RW_U  equ 0x7

SUPER_PAGE equ 0x30000          ; supervisor-only
RSVD_PAGE  equ 0x31000          ; XD set (reserved with NXE = 0)
NX_PAGE    equ 0x32000          ; XD set
RO_PAGE    equ 0x33000          ; read-only
BIG        equ 0x200000         ; linear 2 MiB..4 MiB: a 2 MiB page of frames 0..2 MiB
G_PAGE     equ 0x34000          ; global, then remapped to 0x35000
EFER       equ 0xc0000080
NXE        equ 1 << 11

%macro pte 1                    ; rdi = address of the PTE of linear %1 (below 2 MiB)
    mov rdi, PT + ((%1) >> 12) * 8
%endmacro

start:
    ; GDT: null, kernel code 0x08, kernel data 0x10, user code 0x18, user data 0x20, TSS 0x28.
    mov rdi, GDT
    xor eax, eax
    mov ecx, 64                 ; the GDT and the TSS
    rep stosq
    mov rax, 0x00209a0000000000
    mov [GDT + 0x08], rax
    mov rax, 0x0000920000000000
    mov [GDT + 0x10], rax
    mov rax, 0x0020fa0000000000
    mov [GDT + 0x18], rax
    mov rax, 0x0000f20000000000
    mov [GDT + 0x20], rax
    mov qword [TSS + 4], KSTACK  ; RSP0
    mov word [TSS + 102], 104    ; no I/O bitmap
    mov rax, 0x0000890000000067 | ((TSS & 0xffffff) << 16)
    mov [GDT + 0x28], rax
    reload_segments gdt_ptr
    mov ax, 0x28
    ltr ax

    mov rdi, IDT
    xor eax, eax
    mov ecx, 512
    rep stosq
    gate IDT, 14, pf_handler
    gate IDT, 0x80, back_to_ring0
    lidt [idt_ptr]

    ; Tables: the first 2 MiB in 4 KiB user pages (identity), then the 2 MiB page BIG.
    mov rdi, PML4
    xor eax, eax
    mov ecx, 4 * 512
    rep stosq
    mov qword [PML4], PDPT | P_RW_U
    mov qword [PDPT], PD | P_RW_U
    mov qword [PD], PT | P_RW_U
    mov qword [PD + 8], 0 | 0x80 | P_RW_U
    mov rdi, PT
    mov eax, P_RW_U
    mov ecx, 512
.fill:
    mov [rdi], rax
    add rax, 0x1000
    add rdi, 8
    dec ecx
    jnz .fill
    pte SUPER_PAGE
    mov qword [rdi], SUPER_PAGE | 3
    pte RSVD_PAGE
    mov rax, RSVD_PAGE | P_RW_U | (1 << 63)
    mov [rdi], rax
    pte NX_PAGE
    mov rax, NX_PAGE | P_RW_U | (1 << 63)
    mov [rdi], rax
    pte RO_PAGE
    mov qword [rdi], RO_PAGE | 5
    mov dword [0x40000], 0x11111111
    mov dword [0x41000], 0x22222222
    mov dword [G_PAGE], 0x33333333
    mov dword [G_PAGE + 0x1000], 0x44444444
    mov rax, PML4
    mov cr3, rax

    ; A user read of a supervisor page: to CPL 3 by IRETQ, back by INT 0x80.
    mov qword [pf_resume], user_after_read
    mov [kernel_rsp], rsp
    push 0x23
    push USTACK
    push 0x2
    push 0x1b
    push user_code
    iretq
kernel_again:
    mov rsi, msg_user
    call report_fault

    ; XD with NXE = 0 is a reserved bit.
    mov qword [pf_resume], .after_rsvd
    mov eax, [RSVD_PAGE]
.after_rsvd:
    mov rsi, msg_rsvd
    call report_fault

    ; NXE = 1: a fetch from an XD page.
    mov ecx, EFER
    rdmsr
    or eax, NXE
    wrmsr
    mov qword [pf_resume], .after_nx
    mov rax, NX_PAGE
    jmp rax
.after_nx:
    mov rsi, msg_nx
    call report_fault

    ; CR0.WP = 0: a supervisor write to a read-only page succeeds.
    mov rax, cr0
    and eax, ~(1 << 16)
    mov cr0, rax
    mov qword [pf_resume], .after_wp
    mov dword [RO_PAGE], 0x55555555
.after_wp:
    mov rax, cr0
    or eax, 1 << 16
    mov cr0, rax
    mov rsi, msg_wp
    call report_fault
    mov eax, [RO_PAGE]
    mov rsi, msg_wp_value
    call report_value

    ; A 2 MiB page, then 4 KiB pages over it; INVLPG of another piece drops the whole page.
    mov eax, [BIG + 0x40000]
    mov rsi, msg_big
    call report_value
    mov rdi, PT_BIG
    mov eax, P_RW_U
    mov ecx, 512
.fill_big:
    mov [rdi], rax
    add rax, 0x1000
    add rdi, 8
    dec ecx
    jnz .fill_big
    mov qword [PT_BIG + 0x40 * 8], 0x41000 | P_RW_U
    mov qword [PD + 8], PT_BIG | P_RW_U
    invlpg [BIG + 0x5000]
    mov eax, [BIG + 0x40000]
    mov rsi, msg_split
    call report_value

    ; CR4.PGE: a global page remapped is seen anew once PGE goes off.
    mov rax, cr4
    or eax, 1 << 7
    mov cr4, rax
    pte G_PAGE
    mov qword [rdi], G_PAGE | 0x100 | P_RW_U
    invlpg [G_PAGE]
    mov eax, [G_PAGE]
    mov rsi, msg_global
    call report_value
    pte G_PAGE
    mov qword [rdi], (G_PAGE + 0x1000) | 0x100 | P_RW_U
    mov rax, cr4
    and eax, ~(1 << 7)
    mov cr4, rax
    mov eax, [G_PAGE]
    mov rsi, msg_pge_off
    call report_value

    mov rsi, msg_done
    call puts
    cli
    hlt

user_code:
    mov eax, [SUPER_PAGE]
user_after_read:
    int 0x80

; INT 0x80 from CPL 3: continue in ring 0 on the kernel's stack as it was.
back_to_ring0:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov rsp, [kernel_rsp]
    jmp kernel_again

; Print the string at rsi, then EAX in hex and a newline.
report_value:
    call puts
    call put_hex
    call newline
    ret

%include "paging-faults.inc"

align 8
kernel_rsp: dq 0
gdt_ptr: dw 0x37
         dq GDT
idt_ptr: dw 256 * 16 - 1
         dq IDT

msg_user: db "user read of a supervisor page: #PF error ", 0
msg_rsvd: db "XD without NXE: #PF error ", 0
msg_nx: db "fetch from an XD page: #PF error ", 0
msg_wp: db "WP=0 write to a read-only page: #PF error ", 0
msg_wp_value: db "read-only page now holds ", 0
msg_big: db "2 MiB page at +0x40000: ", 0
msg_split: db "after the split and INVLPG elsewhere in it: ", 0
msg_global: db "global page: ", 0
msg_pge_off: db "remapped, PGE off: ", 0
msg_done: db "paging rights done", 10, 0
