; exit-zoo: cause as many distinct enabled exit reasons as a guest can, and for each print how
; many it caused and how many the hypervisor counted (leaf 0x4FFFFFFE before and after):
;   zoo: INVD caused 1 counted 1
; Starts in real mode, switches itself to 32-bit protected mode (its own GDT and IDT, so the #UD
; and #GP the hypervisor injects for VMX instructions, RDPMC and CR4.VMXE land in handlers), and
; last reads guest-physical 0xFFFFF000, outside its RAM: the run ends as an EPT violation.
bits 16
org 0x1000

%include "pm32_macros.inc"

start:
    PM32_ENTER pm_entry

pm_entry:
    mov esi, s_hello
    call puts

; before REASON: [before] = this VM's count of REASON (the asking CPUID counts as reason 10).
%macro BEFORE 1
    mov ecx, %1
    call count_of
    mov [before], eax
%endmacro
; AFTER REASON, CAUSED, NAME: print "zoo: NAME caused CAUSED counted DELTA".
%macro AFTER 3
    mov ecx, %1
    call count_of
    sub eax, [before]
%if %1 == 10
    dec eax                     ; the measuring CPUID itself
%endif
    mov edx, eax
    mov ebx, %2
    mov esi, %3
    call report
%endmacro

    BEFORE 10
    xor eax, eax
    cpuid
    xor eax, eax
    cpuid
    xor eax, eax
    cpuid
    AFTER 10, 3, s_cpuid

    BEFORE 12
    sti                         ; HLT with IF=1 returns at once under Exitscope
    hlt
    hlt
    cli
    AFTER 12, 2, s_hlt

    BEFORE 30
    mov al, 0x55
    out 0x80, al
    out 0x80, al
    out 0x80, al
    AFTER 30, 3, s_out

    BEFORE 30
    in al, 0x80
    mov [in_value], al
    in ax, 0x80
    AFTER 30, 2, s_in
    cmp byte [in_value], 0xff   ; unknown ports read as all ones
    je .in_ok
    mov esi, s_in_bad
    call puts
.in_ok:

    BEFORE 31
    mov ecx, 0xc0000080         ; IA32_EFER
    rdmsr
    mov [efer_lo], eax
    mov [efer_hi], edx
    AFTER 31, 1, s_rdmsr

    BEFORE 32
    mov ecx, 0xc0000080
    mov eax, [efer_lo]
    mov edx, [efer_hi]
    wrmsr
    AFTER 32, 1, s_wrmsr

    BEFORE 55
    mov eax, cr4
    or eax, 1 << 18             ; CR4.OSXSAVE, so XSETBV is legal
    mov cr4, eax
    xor ecx, ecx
    mov eax, 1                  ; XCR0 = x87 only: valid
    xor edx, edx
    xsetbv
    AFTER 55, 1, s_xsetbv

    BEFORE 13
    invd
    AFTER 13, 1, s_invd

    BEFORE 54
    wbinvd
    AFTER 54, 1, s_wbinvd

    BEFORE 40
    pause
    pause
    AFTER 40, 2, s_pause

    BEFORE 29
    mov eax, dr7
    AFTER 29, 1, s_movdr

    BEFORE 18
    mov dword [resume], .after_vmcall
    vmcall
.after_vmcall:
    AFTER 18, 1, s_vmcall

    BEFORE 15
    mov dword [resume], .after_rdpmc
    xor ecx, ecx
    rdpmc
.after_rdpmc:
    AFTER 15, 1, s_rdpmc

    BEFORE 28
    mov dword [resume], .after_vmxe
    mov eax, cr4
    or eax, 1 << 13             ; CR4.VMXE belongs to the host: #GP
    mov cr4, eax
.after_vmxe:
    AFTER 28, 1, s_cr4

    BEFORE 39
    mov dword [resume], .after_monitor
    mov eax, before
    xor ecx, ecx
    xor edx, edx
    monitor
.after_monitor:
    AFTER 39, 1, s_monitor

    mov esi, s_faults
    mov eax, [faults]
    call put_line_dec

    mov esi, s_outside
    call puts
    mov eax, [0xfffff000]       ; outside guest RAM: EPT violation ends the run
    mov esi, s_still_here
    call puts
    cli
    hlt

; report: "zoo: <ESI> caused <EBX> counted <EDX>\n"
report:
    push eax
    push esi
    mov esi, s_zoo
    call puts
    pop esi
    call puts
    mov esi, s_caused
    call puts
    mov eax, ebx
    call put_dec
    mov esi, s_counted
    call puts
    mov eax, edx
    call put_dec
    mov al, 10
    call put_char
    pop eax
    ret

%include "pm32.inc"

before: dd 0
efer_lo: dd 0
efer_hi: dd 0
in_value: db 0

s_hello: db "zoo: protected mode, causing exits", 10, 0
s_zoo: db "zoo: ", 0
s_caused: db " caused ", 0
s_counted: db " counted ", 0
s_cpuid: db "CPUID", 0
s_hlt: db "HLT", 0
s_out: db "IO_OUT", 0
s_in: db "IO_IN", 0
s_in_bad: db "zoo: FAIL: IN from an unknown port did not read all ones", 10, 0
s_rdmsr: db "MSR_READ", 0
s_wrmsr: db "MSR_WRITE", 0
s_xsetbv: db "XSETBV", 0
s_invd: db "INVD", 0
s_wbinvd: db "WBINVD", 0
s_pause: db "PAUSE", 0
s_movdr: db "DR_ACCESS", 0
s_vmcall: db "VMCALL", 0
s_rdpmc: db "RDPMC", 0
s_cr4: db "CR_ACCESS", 0
s_monitor: db "MONITOR", 0
s_faults: db "zoo: exceptions delivered to the guest: ", 0
s_outside: db "zoo: reading 0xFFFFF000, outside guest RAM", 10, 0
s_still_here: db "zoo: FAIL: the read outside RAM returned", 10, 0

