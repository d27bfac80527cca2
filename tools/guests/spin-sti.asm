; spin-sti: loop forever with interrupts on; host interrupts cause external-interrupt exits.
bits 16
org 0x1000
    sti
    jmp $
