; hostile-linux: a fake bzImage (`exitscope run --kernel hostile-linux.bin --append SCENARIO`)
; that gets the Linux board and the Linux MSR set, and attacks them. SCENARIO is the whole
; command line:
;   msr-exit      set marker values in STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, run SWAPGS,
;                 read them back ("msrs read back"), exit with code 0 (port 0xF4)
;   msr-spin      the same markers, then CPUID forever (ended by --max-exits or a signal)
;   msr-move      the same markers, then 4000 rounds of CPUID and a read-back of all of them
;                 ("msrs kept in every round"), exit code 0: the host moves the VMM between
;                 CPUs meanwhile
;   msr-hlt       the same markers, then STI; HLT forever on a 1 kHz PIT (ended by a signal)
;   msr-console   the same markers, then 10000 dots and a newline (the console fills twice:
;                 the run stops and resumes with the markers live), exit code 0
;   pit-storm     PIT channel 0 at count 1 (838 ns) with STI; HLT: 2000 ticks must take at
;                 least 90% of the board's floor (200 us each) in guest TSC time
;   latch-storm   100000 PIT counter latches and read-backs, each read back
;   wide-out      8-, 16- and 32-bit OUTs and INs across the edges of every board port range
;   rip-top       CPUID as the last two bytes below 0x800000000000: the next RIP is not
;                 canonical (the run ends with the RIP-wrap stop)
;   pf-storm      a PIT ticking every 255 us while 20000 rounds each reload CR3 and read a
;                 page 4 KiB further on in 1-64 MiB: under shadow paging every round faults its
;                 code and data in again, and the ticks arrive in the middle of those faults
;                 (the IDT, the handler and its stack fault in under the interrupt); "pf storm
;                 done" once a tick arrived during the storm
; Anything else prints "unknown scenario" and exits with code 2.
bits 64

%include "bzimage.inc"
%include "scenario.inc"

STACK_TOP equ 0x80000
IDT_BASE equ 0x70000
TICK_VECTOR equ 32

entry64:
    mov rsp, STACK_TOP
    mov r15, rsi                ; the zero page
    mov ebx, [r15 + 0x228]      ; cmd_line_ptr
    scenario s_msr_exit, msr_exit
    scenario s_msr_spin, msr_spin
    scenario s_msr_move, msr_move
    scenario s_msr_hlt, msr_hlt
    scenario s_msr_console, msr_console
    scenario s_pit_storm, pit_storm
    scenario s_latch_storm, latch_storm
    scenario s_wide_out, wide_out
    scenario s_rip_top, rip_top
    scenario s_pf_storm, pf_storm
    scenario_unknown

    streq_function

; --- the SYSCALL MSRs and KERNEL_GS_BASE, as a Linux guest's own -----------------------------
%macro wrmsr_marker 2           ; msr, 64-bit value
    mov ecx, %1
    mov rax, %2
    mov rdx, rax
    shr rdx, 32
    wrmsr
%endmacro
%macro check_msr 2              ; msr, 64-bit value: R14 counts mismatches
    mov ecx, %1
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov rdx, %2
    cmp rax, rdx
    je %%ok
    inc r14
%%ok:
%endmacro
STAR_MARK equ 0x0023001000000000
LSTAR_MARK equ 0xffffffff8badf00d
CSTAR_MARK equ 0xffffffff8badc0de
SFMASK_MARK equ 0x47700
KGS_MARK equ 0x00007fffdeadb000

set_markers:
    wrmsr_marker 0xc0000081, STAR_MARK
    wrmsr_marker 0xc0000082, LSTAR_MARK
    wrmsr_marker 0xc0000083, CSTAR_MARK
    wrmsr_marker 0xc0000084, SFMASK_MARK
    wrmsr_marker 0xc0000102, KGS_MARK
    swapgs                      ; GS base = the marker, KERNEL_GS_BASE = the old GS base
    wrmsr_marker 0xc0000102, KGS_MARK
    call check_markers
    mov rsi, s_msrs_ok
    test r14, r14
    jz .print
    mov rsi, s_msrs_bad
.print:
    call puts
    ret

; R14 = how many of the markers read back wrong.
check_markers:
    xor r14, r14
    check_msr 0xc0000081, STAR_MARK
    check_msr 0xc0000082, LSTAR_MARK
    check_msr 0xc0000083, CSTAR_MARK
    check_msr 0xc0000084, SFMASK_MARK
    check_msr 0xc0000102, KGS_MARK
    check_msr 0xc0000101, KGS_MARK
    ret

msr_exit:
    call set_markers
    xor eax, eax
    out EXIT_PORT, al

; The markers, then MOVE_ROUNDS rounds of CPUID and a read-back of all six, while the host moves
; the VMM between CPUs (hostile-linux.sh): every read-back must still see the guest's values.
MOVE_ROUNDS equ 4000
msr_move:
    call set_markers
    mov r13d, MOVE_ROUNDS
    xor r12, r12                ; mismatches over all rounds
.round:
    xor eax, eax
    cpuid
    call check_markers
    add r12, r14
    dec r13d
    jnz .round
    mov rsi, s_moves_ok
    test r12, r12
    jz .done
    mov rsi, s_moves_bad
.done:
    call puts
    xor eax, eax
    out EXIT_PORT, al

msr_spin:
    call set_markers
.spin:
    xor eax, eax
    cpuid
    jmp .spin

DOTS equ 10000
msr_console:
    call set_markers
    mov ecx, DOTS
    mov al, '.'
.dot:
    out CONSOLE_PORT, al
    dec ecx
    jnz .dot
    mov al, 10
    out CONSOLE_PORT, al
    xor eax, eax
    out EXIT_PORT, al

msr_hlt:
    call set_markers
    mov ecx, 1193               ; 1 kHz
    call start_ticks
.sleep:
    hlt
    jmp .sleep

; --- the PIT and the PIC ---------------------------------------------------------------------
; start_ticks: IRQ 0 at vector TICK_VECTOR every ECX PIT clocks (mode 2), interrupts on.
start_ticks:
    ; The IDT: one interrupt gate, for the tick.
    mov rdi, IDT_BASE + TICK_VECTOR * 16
    mov rax, tick
    mov dx, BOOT_CS
    call set_gate64
    lidt [idt_pointer]
    ; 8259A: edge-triggered, cascade, vectors 32.., 8086 mode; only IRQ 0 unmasked.
    mov al, 0x11
    out 0x20, al
    mov al, TICK_VECTOR
    out 0x21, al
    mov al, 4
    out 0x21, al
    mov al, 1
    out 0x21, al
    mov al, 0xfe
    out 0x21, al
    ; 8254 channel 0, lobyte/hibyte, mode 2 (rate generator).
    mov al, 0x34
    out 0x43, al
    mov eax, ecx
    out 0x40, al
    mov al, ah
    out 0x40, al
    sti
    ret

tick:
    push rax
    inc qword [ticks]
    mov al, 0x20                ; non-specific EOI
    out 0x20, al
    pop rax
    iretq

TICKS_WANTED equ 2000
pit_storm:
    xor eax, eax
    cpuid                       ; max basic leaf
    xor r13, r13                ; the TSC's MHz (0: unknown)
    cmp eax, 0x16
    jb .no_frequency
    mov eax, 0x16
    cpuid
    mov r13d, eax
.no_frequency:
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r12, rax
    mov ecx, 1                  ; 838 ns, below the floor
    call start_ticks
.wait:
    hlt
    cmp qword [ticks], TICKS_WANTED
    jb .wait
    cli
    rdtsc
    shl rdx, 32
    or rax, rdx
    sub rax, r12                ; TSC ticks for TICKS_WANTED timer ticks
    ; The floor is 200 us per tick: at least 90% of TICKS_WANTED * 200 * MHz TSC ticks.
    mov rcx, r13
    imul rcx, rcx, TICKS_WANTED * 180
    mov rsi, s_pit_floor_held
    cmp rax, rcx
    jae .print
    mov rsi, s_pit_floor_broken
.print:
    call puts
    xor eax, eax
    out EXIT_PORT, al

LATCHES equ 100000
latch_storm:
    mov ecx, 0x1000
    call start_ticks            ; the counter runs
    cli
    mov r12d, LATCHES
.latch:
    mov al, 0x00                ; latch channel 0
    out 0x43, al
    in al, 0x40
    in al, 0x40
    mov al, 0xc2                ; read-back: status and count of channel 0
    out 0x43, al
    in al, 0x40
    in al, 0x40
    in al, 0x40
    dec r12d
    jnz .latch
    mov rsi, s_latch_done
    call puts
    xor eax, eax
    out EXIT_PORT, al

; Each range's first port - 3 to its last port + 3, at every width, read and written with 0
; (0 resets nothing: 0x64 resets on 0xFE, 0xCF9 on bit 2).
wide_out:
    mov rsi, edges
.range:
    movzx r12d, word [rsi]      ; first port
    movzx r13d, word [rsi + 2]  ; last port
    test r12d, r12d
    jz .done
    sub r12d, 3
    add r13d, 3
.port:
    mov edx, r12d
    xor eax, eax
    out dx, al
    out dx, ax
    out dx, eax
    in al, dx
    in ax, dx
    in eax, dx
    inc r12d
    cmp r12d, r13d
    jbe .port
    add rsi, 4
    jmp .range
.done:
    mov rsi, s_wide_done
    call puts
    xor eax, eax
    out EXIT_PORT, al

; Map 0x7FFFFFFFF000 (PML4 slot 255, then slot 511 at each level) to a page whose last two
; bytes are CPUID, and jump there: the CPUID exit's skip leaves RIP at 0x800000000000.
TOP_TABLES equ 0x60000          ; PDPT, PD, PT, code page
rip_top:
    mov rdi, TOP_TABLES
    mov ecx, 4 * 4096 / 8
    xor eax, eax
    rep stosq
    mov rax, cr3
    and rax, ~0xfff
    mov qword [rax + 255 * 8], TOP_TABLES + 0x1000 + 3
    mov qword [TOP_TABLES + 0x1000 + 511 * 8], TOP_TABLES + 0x2000 + 3
    mov qword [TOP_TABLES + 0x2000 + 511 * 8], TOP_TABLES + 0x3000 + 3
    mov qword [TOP_TABLES + 0x3000 + 511 * 8], TOP_TABLES + 3
    mov word [TOP_TABLES + 0xffe], 0xa20f ; CPUID
    mov rax, cr3
    mov cr3, rax
    xor eax, eax
    mov rcx, 0x7ffffffffffe
    jmp rcx

PF_ROUNDS equ 20000
PF_FIRST equ 0x100000
PF_END equ 0x4000000
pf_storm:
    mov ecx, 0x130              ; 255 us
    call start_ticks
    mov r12d, PF_ROUNDS
    mov r13, PF_FIRST
.round:
    mov rax, cr3
    mov cr3, rax                ; every translation but the global ones goes
    mov al, [r13]               ; read only: the image itself is at 1 MiB
    add r13, 0x1000
    cmp r13, PF_END
    jb .next
    mov r13, PF_FIRST
.next:
    dec r12d
    jnz .round
    cli
    mov rsi, s_pf_storm_done
    cmp qword [ticks], 0
    jne .print
    mov rsi, s_pf_storm_no_tick
.print:
    call puts
    xor eax, eax
    out EXIT_PORT, al

%include "idt64.inc"

align 8
ticks: dq 0
idt_pointer:
    dw (TICK_VECTOR + 1) * 16 - 1
    dq IDT_BASE
edges: ; the board's port ranges: PIC, PIT, keyboard controller (reset), CMOS, slave PIC,
       ; ELCR, COM1, PCI reset
    dw 0x20, 0x21, 0x40, 0x43, 0x60, 0x64, 0x70, 0x71, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x3f8, 0x3ff
    dw 0xcf9, 0xcf9, 0, 0

s_msr_exit: db "msr-exit", 0
s_msr_move: db "msr-move", 0
s_msr_spin: db "msr-spin", 0
s_msr_hlt: db "msr-hlt", 0
s_msr_console: db "msr-console", 0
s_pit_storm: db "pit-storm", 0
s_latch_storm: db "latch-storm", 0
s_wide_out: db "wide-out", 0
s_rip_top: db "rip-top", 0
s_pf_storm: db "pf-storm", 0
s_pf_storm_done: db "pf storm done", 10, 0
s_pf_storm_no_tick: db "pf storm: no tick arrived", 10, 0
s_unknown: db "unknown scenario", 10, 0
s_msrs_ok: db "msrs read back", 10, 0
s_msrs_bad: db "msrs differ", 10, 0
s_moves_ok: db "msrs kept in every round", 10, 0
s_moves_bad: db "msrs changed in a round", 10, 0
s_pit_floor_held: db "pit floor held", 10, 0
s_pit_floor_broken: db "pit floor broken", 10, 0
s_latch_done: db "latches done", 10, 0
s_wide_done: db "wide ports done", 10, 0
