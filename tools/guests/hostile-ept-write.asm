; hostile-ept-write: write just past the end of 2 MiB of RAM: EPT violation (status 73).
bits 32
org 0x1000
    mov dword [0x200000], 0x41414141
    hlt
