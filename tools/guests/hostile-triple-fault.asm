; hostile-triple-fault: an empty IDT and an exception: #GP, then #DF, then shutdown. The run
; must end as a reported triple fault (status 72).
bits 16
org 0x1000
    cli
    lidt [empty_idt]
    int3
    hlt
empty_idt:
    dw 0
    dd 0
