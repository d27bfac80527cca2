; cpuid-probe: ask the four Exitscope CPUID leaves about every exit reason 0..90 and a few far
; out-of-range numbers, printing the answers in the course test programs' form plus all four
; registers, e.g.
;   CPUID(0x4FFFFFFE), exit number 10 exits=1 eax=0x00000001 ebx=0x00000000 ecx=0x00000000 edx=0x00000000
; The very first query (reason 10 on a fresh VM) must say exits=1: the asking CPUID is counted
; before it is answered. Real mode, loaded and entered at 0x1000.
bits 16
org 0x1000

start:
    mov ecx, 10                 ; first: reason 10 on a fresh VM
    call probe_exits
    mov eax, 0x4ffffffc
    xor ecx, ecx
    cpuid
    mov esi, s_total_exits
    call puts
    call put_dec                ; eax = total exits, low 32 bits
    call put_regs
    mov eax, 0x4ffffffd
    xor ecx, ecx
    cpuid
    mov esi, s_total_cycles
    call puts
    call put_cycles
    call put_regs

    xor ecx, ecx                ; reasons 0..90
.each_reason:
    call probe_exits
    call probe_cycles
    inc ecx
    cmp ecx, 91
    jb .each_reason

    mov esi, far_reasons        ; then far out-of-range numbers
.each_far:
    a32 lodsd
    mov ecx, eax
    push esi
    call probe_exits
    call probe_cycles
    pop esi
    cmp ecx, 0xffffffff
    jne .each_far

    mov eax, 0x40000000         ; the hypervisor vendor leaf
    cpuid
    mov [vendor], ebx
    mov [vendor + 4], ecx
    mov [vendor + 8], edx
    mov esi, s_vendor
    call puts
    mov eax, 1                  ; leaf 1 ECX: hypervisor bit 31 set, VMX bit 5 hidden
    cpuid
    mov esi, s_leaf1
    call puts
    mov eax, ecx
    call put_hex
    mov al, 10
    call put_char

    mov esi, s_done
    call puts
    cli
    hlt

; probe_exits: leaf 0x4FFFFFFE for reason ECX (preserved).
probe_exits:
    push ecx
    mov edi, ecx
    mov eax, 0x4ffffffe
    cpuid
    mov esi, s_leaf_fe
    call puts
    call put_reason
    mov esi, s_exits
    call puts
    call put_dec
    call put_regs
    pop ecx
    ret

; probe_cycles: leaf 0x4FFFFFFF for reason ECX (preserved).
probe_cycles:
    push ecx
    mov edi, ecx
    mov eax, 0x4fffffff
    cpuid
    mov esi, s_leaf_ff
    call puts
    call put_reason
    mov esi, s_cycles
    call puts
    call put_cycles
    call put_regs
    pop ecx
    ret

; put_reason: ", exit number N" with N = EDI.
put_reason:
    push eax
    mov esi, s_exit_number
    call puts
    mov eax, edi
    call put_dec
    pop eax
    ret

; put_cycles: EBX:ECX as one 64-bit hex number "0x<ebx><ecx>".
put_cycles:
    push eax
    mov eax, ebx
    call put_hex
    mov eax, ecx
    call put_hex_digits
    pop eax
    ret

; put_hex_digits: EAX as 8 hex digits without the 0x (the low half of put_cycles).
put_hex_digits:
    push eax
    push ecx
    push edx
    mov edx, eax
    mov ecx, 8
.digit:
    rol edx, 4
    mov al, dl
    and al, 0xf
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    call put_char
    dec ecx
    jnz .digit
    pop edx
    pop ecx
    pop eax
    ret

; put_regs: " eax=.. ebx=.. ecx=.. edx=..\n"
put_regs:
    push eax
    mov esi, s_eax
    call puts
    call put_hex
    mov esi, s_ebx
    call puts
    mov eax, ebx
    call put_hex
    mov esi, s_ecx
    call puts
    mov eax, ecx
    call put_hex
    mov esi, s_edx
    call puts
    mov eax, edx
    call put_hex
    mov al, 10
    call put_char
    pop eax
    ret

%include "console.inc"

far_reasons: dd 100, 0x100, 0x7fffffff, 0x80000000, 0xffffffff
s_total_exits: db "CPUID(0x4FFFFFFC), total exits=", 0
s_total_cycles: db "CPUID(0x4FFFFFFD), total cycles=", 0
s_leaf_fe: db "CPUID(0x4FFFFFFE)", 0
s_leaf_ff: db "CPUID(0x4FFFFFFF)", 0
s_exit_number: db ", exit number ", 0
s_exits: db " exits=", 0
s_cycles: db " cycles=", 0
s_eax: db " eax=", 0
s_ebx: db " ebx=", 0
s_ecx: db " ecx=", 0
s_edx: db " edx=", 0
s_vendor: db "CPUID(0x40000000) vendor="
vendor: times 12 db 0
        db 10, 0
s_leaf1: db "CPUID(0x00000001) ecx=", 0
s_done: db "probe done", 10, 0
