; cpuid-loop: execute CPUID (leaf 0) exactly 1000 times, then ask leaf 0x4FFFFFFE how many CPUID
; exits this VM took. The answer must be 1001: the thousand plus the asking CPUID itself.
bits 16
org 0x1000

%define LOOP_NAME "cpuid-loop"
%include "cpuid-loop.inc"
