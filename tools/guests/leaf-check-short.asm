; leaf-check-short: a short run of leaf-check, finished long before leaf-check-long.
%define OUTER 2
%include "leaf-check.inc"
