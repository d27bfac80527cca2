; spin-cli-exits: loop forever with interrupts off, causing a CPUID exit on every turn. The exits
; never give the host a turn of their own (each is handled and the guest re-entered at once), and
; in Bochs host interrupts do not exit while the guest has IF=0: only a preemption timer that
; keeps counting across those re-entries returns the CPU to the host; a signal to the CLI then
; ends the run.
bits 16
org 0x1000
    cli
.again:
    xor eax, eax
    cpuid
    jmp .again
