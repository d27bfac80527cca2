; cpuid-loop-long: cpuid-loop in 64-bit long mode (--mode long), for shadow paging, which runs
; long-mode guests only: 1000 CPUIDs, then leaf 0x4FFFFFFE must say 1001.
bits 64
org 0x1000

%define LOOP_NAME "cpuid-loop-long"
%include "cpuid-loop.inc"
