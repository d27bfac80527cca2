; leaf-check-long: about 4 s of emulated time, for tests that move it between CPUs.
%define OUTER 40
%include "leaf-check.inc"
