; spin-cli: loop forever with interrupts off. Only the VMX-preemption timer can take the CPU back
; from this guest (in Bochs, host interrupts do not exit while the guest has IF=0); a signal to
; the CLI then ends the run.
bits 16
org 0x1000
    cli
    jmp $
