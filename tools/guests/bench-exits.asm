; bench-exits: time each exit type `make bench` reports, 1000 round trips each (exit, handling,
; entry), measured by the guest with RDTSC, and print "bench: NAME TICKS" per exit type. Each
; figure includes the loop's own instructions (set-up, DEC, JNZ), the same for every hypervisor,
; so the figures compare directly with KVM running this same image. In Bochs the TSC
; advances about one tick per emulated instruction: the figures are instruction counts.
bits 16
org 0x1000

LOOPS equ 1000
UNUSED_PORT equ 0x510           ; no device, no console: a plain I/O exit
MSR_EFER equ 0xc0000080

; BENCH body, label: time LOOPS runs of `body` (an instruction or one of the macros below).
%macro BENCH 2
    %1                          ; warm-up exit
    rdtsc
    mov esi, eax
    mov edi, edx
    mov ebp, LOOPS
%%again:
    %1
    dec ebp
    jnz %%again
    rdtsc
    sub eax, esi
    sbb edx, edi
    mov ecx, LOOPS
    div ecx
    mov esi, %2
    call put_line_dec
%endmacro

%macro CPUID_LEAF 1
    mov eax, %1
    cpuid
%endmacro
%macro CPUID_LEAF_ECX 2
    mov eax, %1
    mov ecx, %2
    cpuid
%endmacro
%macro OUT_UNUSED 0
    mov dx, UNUSED_PORT
    out dx, al
%endmacro
%macro IN_UNUSED 0
    mov dx, UNUSED_PORT
    in al, dx
%endmacro
%macro RDMSR_EFER 0
    mov ecx, MSR_EFER
    rdmsr
%endmacro
%macro WRMSR_EFER 0
    mov ecx, MSR_EFER
    mov eax, [efer_lo]
    mov edx, [efer_hi]
    wrmsr
%endmacro

start:
    ; WRMSR of EFER writes back the value it has.
    mov ecx, MSR_EFER
    rdmsr
    mov [efer_lo], eax
    mov [efer_hi], edx

    BENCH {CPUID_LEAF 0}, s_cpuid0
    BENCH {CPUID_LEAF 0x4ffffffc}, s_leaf_fc
    BENCH {CPUID_LEAF 0x4ffffffd}, s_leaf_fd
    BENCH {CPUID_LEAF_ECX 0x4ffffffe, 10}, s_leaf_fe
    BENCH {CPUID_LEAF_ECX 0x4fffffff, 10}, s_leaf_ff
    BENCH wbinvd, s_wbinvd
    BENCH invd, s_invd
    BENCH OUT_UNUSED, s_out
    BENCH IN_UNUSED, s_in
    BENCH RDMSR_EFER, s_rdmsr
    BENCH WRMSR_EFER, s_wrmsr
    cli
    hlt

%include "console.inc"

efer_lo: dd 0
efer_hi: dd 0
s_cpuid0: db "bench: cpuid-0 ", 0
s_leaf_fc: db "bench: leaf-4ffffffc ", 0
s_leaf_fd: db "bench: leaf-4ffffffd ", 0
s_leaf_fe: db "bench: leaf-4ffffffe ", 0
s_leaf_ff: db "bench: leaf-4fffffff ", 0
s_wbinvd: db "bench: wbinvd ", 0
s_invd: db "bench: invd ", 0
s_out: db "bench: out ", 0
s_in: db "bench: in ", 0
s_rdmsr: db "bench: rdmsr-efer ", 0
s_wrmsr: db "bench: wrmsr-efer ", 0
