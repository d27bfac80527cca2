; leaf-check-long: about 2 s of emulated time, for tests that move it between CPUs or reset
; the statistics while it runs.
%define OUTER 100
%include "leaf-check.inc"
