; hostile-shadow-pool: 4 GiB of distinct virtual 2 MiB regions on a few guest tables (every PD
; entry past the first names one aliased page table, every PDPT entry the same PD), touched one
; page per region, twice: under shadow paging each region needs its own shadow page table, so
; the pool (256 pages) fills and starts over again and again while host memory stays fixed. Then
; a read through a PML4 entry that maps the PML4 itself. Run with --mode long (2 MiB RAM).
bits 64
org 0x1000

PML4     equ 0x10000
PDPT     equ 0x11000
PD       equ 0x12000
PT0      equ 0x13000            ; the first 2 MiB, identity
PT_ALIAS equ 0x14000            ; every page of the other regions: frame MARKED
MARKED   equ 0x20000
MARK     equ 0x5a5a5a5a
P_RW     equ 0x3
REGIONS  equ 2048               ; 2 MiB regions in 4 GiB
SELF     equ 1                  ; PML4 slot that maps the PML4 itself

start:
    mov rdi, PML4
    xor eax, eax
    mov ecx, 5 * 512
    rep stosq
    mov qword [PML4], PDPT | P_RW
    mov qword [PML4 + SELF * 8], PML4 | P_RW
    mov ecx, 4
    mov rdi, PDPT
    mov rax, PD | P_RW
    rep stosq
    mov qword [PD], PT0 | P_RW
    mov ecx, 511
    mov rdi, PD + 8
    mov rax, PT_ALIAS | P_RW
    rep stosq
    mov ecx, 512
    mov rdi, PT0
    mov eax, P_RW
.identity:
    mov [rdi], rax
    add rax, 0x1000
    add rdi, 8
    dec ecx
    jnz .identity
    mov ecx, 512
    mov rdi, PT_ALIAS
    mov rax, MARKED | P_RW
    rep stosq
    mov dword [MARKED], MARK
    mov rax, PML4
    mov cr3, rax

    xor r8d, r8d                ; reads
    xor r9d, r9d                ; wrong values
    mov r10d, 2                 ; passes
.pass:
    xor ebx, ebx                ; region number
.region:
    test ebx, 511
    jz .next                    ; PD slot 0 is the identity map
    mov rax, rbx
    shl rax, 21
    inc r8d
    cmp dword [rax], MARK
    je .next
    inc r9d
.next:
    inc ebx
    cmp ebx, REGIONS
    jb .region
    dec r10d
    jnz .pass

    mov eax, r8d
    mov rsi, msg_reads
    call puts
    call put_dec
    mov eax, r9d
    mov rsi, msg_wrong
    call put_line_dec
    ; Linear (SELF, SELF, SELF, SELF, 0) walks the PML4 four times and reads its entry 0.
    mov rax, (SELF << 39) | (SELF << 30) | (SELF << 21) | (SELF << 12)
    mov rax, [rax]
    and eax, ~0x60              ; A and D are set by whoever walked it
    mov rsi, msg_self
    call puts
    call put_hex
    mov al, 10
    out 0xe9, al                ; the console port (console.inc comes last)
    cli
    hlt

%include "console.inc"

msg_reads: db "shadow-pool: reads ", 0
msg_wrong: db ", wrong ", 0
msg_self: db "self-mapped PML4 entry 0: ", 0
