; hostile-ept-read: read guest-physical 0x7FFF0000, far outside RAM: EPT violation (status 73).
bits 32
org 0x1000
    mov eax, [0x7fff0000]
    hlt
