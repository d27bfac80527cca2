; hostile-smp: a fake bzImage for a VM of several vCPUs (`exitscope run --kernel hostile-smp.bin
; --cpus 2 --append SCENARIO`): vCPU 0 gets the Linux board and an x2APIC, and attacks the APIC
; bus. SCENARIO is the whole command line:
;   ipi-storm     40000 ICR writes, fixed IPIs to itself and to APIC 1 (an AP still waiting
;                 for its SIPI), interrupts off: "ipi storm done", exit code 0
;   sipi-missing  INIT and two SIPIs to APIC ID 9, which no vCPU has: "no such cpu", exit 0
;   init-self     INIT to itself: "init to self" and then it waits for a SIPI nobody sends
;                 (ended by a signal)
;   bad-msrs      x2APIC writes the SDM makes #GP (a reserved MSR, read-only ID and version,
;                 ICR reserved bits, a non-zero EOI and ESR, a reserved read): each #GP is
;                 counted by the guest's handler, which skips the instruction: "gp 7", exit 0
;   ap-spin       starts vCPU 1 by INIT/SIPI at a page that is `jmp $` in real mode, then halts
;                 with interrupts off: "ap spinning", and the VM runs on with the AP spinning
;                 (only the last vCPU's halt ends it) until a signal ends it
; Anything else prints "unknown scenario" and exits with code 2.
bits 64

%include "bzimage.inc"
%include "x2apic.inc"
%include "scenario.inc"

STACK_TOP equ 0x80000
IDT_BASE equ 0x70000
GP_VECTOR equ 13
SIPI_PAGE equ 0x8000            ; the AP's start: vector 8

entry64:
    mov rsp, STACK_TOP
    mov ebx, [rsi + 0x228]      ; cmd_line_ptr of the zero page
    scenario s_ipi_storm, ipi_storm
    scenario s_sipi_missing, sipi_missing
    scenario s_init_self, init_self
    scenario s_bad_msrs, bad_msrs
    scenario s_ap_spin, ap_spin
    scenario_unknown

    streq_function

FIXED_SELF equ 0xf0 | (1 << 18)          ; vector 0xF0, shorthand self
FIXED_TO_1 equ 0xf0 | (1 << 32)          ; vector 0xF0, APIC ID 1
INIT_ASSERT equ 0x500 | (1 << 14)        ; INIT, level assert
STARTUP equ 0x600 | (SIPI_PAGE >> 12)    ; start-up at SIPI_PAGE

ipi_storm:
    mov r12d, 20000
.next:
    send_ipi FIXED_SELF
    send_ipi FIXED_TO_1
    dec r12d
    jnz .next
    mov rsi, s_storm_done
    call puts
    xor eax, eax
    out EXIT_PORT, al

sipi_missing:
    send_ipi INIT_ASSERT | (9 << 32)
    send_ipi STARTUP | (9 << 32)
    send_ipi STARTUP | (9 << 32)
    mov rsi, s_no_such_cpu
    call puts
    xor eax, eax
    out EXIT_PORT, al

init_self:
    mov rsi, s_init_self_line
    call puts
    send_ipi INIT_ASSERT | (1 << 18)
    ; Not reached: the INIT leaves this vCPU waiting for its SIPI.
    mov rsi, s_unknown
    call puts
    mov al, 3
    out EXIT_PORT, al

%macro bad_wrmsr 2              ; msr, 64-bit value: a #GP the handler counts and skips (2 bytes)
    mov ecx, %1
    mov rax, %2
    mov rdx, rax
    shr rdx, 32
    wrmsr
%endmacro
bad_msrs:
    mov rdi, IDT_BASE + GP_VECTOR * 16
    mov rax, gp_handler
    mov dx, BOOT_CS
    call set_gate64
    lidt [idt_pointer]
    xor r13d, r13d              ; #GPs seen
    bad_wrmsr 0x801, 0          ; reserved
    bad_wrmsr 0x802, 0          ; ID: read-only in x2APIC mode
    bad_wrmsr 0x803, 0          ; version: read-only
    bad_wrmsr ICR, FIXED_SELF | (1 << 20) ; ICR reserved bit 20
    bad_wrmsr 0x80b, 1          ; EOI: only 0 may be written
    bad_wrmsr 0x828, 1          ; ESR: only 0 may be written
    mov ecx, 0x831              ; reserved in x2APIC mode (xAPIC's ICR high half)
    rdmsr
    mov rsi, s_gp
    call puts
    mov al, '0'
    add al, r13b
    out CONSOLE_PORT, al
    mov al, 10
    out CONSOLE_PORT, al
    xor eax, eax
    out EXIT_PORT, al

; #GP: count it and go on after the faulting RDMSR/WRMSR (two bytes).
gp_handler:
    add rsp, 8                  ; the error code
    add qword [rsp], 2
    inc r13d
    iretq

ap_spin:
    mov word [SIPI_PAGE], 0xfeeb ; jmp $, in real mode
    send_ipi INIT_ASSERT | (1 << 32)
    send_ipi STARTUP | (1 << 32)
    mov rsi, s_ap_spinning
    call puts
    cli
.halt:
    hlt                         ; parked: only an NMI, INIT or SIPI would end it, and none comes
    jmp .halt

%include "idt64.inc"
%include "console.inc"

align 8
idt_pointer:
    dw (GP_VECTOR + 1) * 16 - 1
    dq IDT_BASE

s_ipi_storm: db "ipi-storm", 0
s_sipi_missing: db "sipi-missing", 0
s_init_self: db "init-self", 0
s_bad_msrs: db "bad-msrs", 0
s_ap_spin: db "ap-spin", 0
s_unknown: db "unknown scenario", 10, 0
s_storm_done: db "ipi storm done", 10, 0
s_no_such_cpu: db "no such cpu", 10, 0
s_init_self_line: db "init to self", 10, 0
s_gp: db "gp ", 0
s_ap_spinning: db "ap spinning", 10, 0
