# Exitscope: `make demo` and `make test` are the two commands of the README.
#
#   make            module (for KDIR), CLI, guests
#   make demo       build, load, run a toy guest, show the counters (natively if this CPU has
#                   VMX and the running kernel's headers exist, else in the emulated machine)
#   make test       host unit tests and end-to-end tests in the emulated machines
#   make bench      benchmarks (figures, not pass/fail)
SHELL := /bin/bash
.DEFAULT_GOAL := all

BUILD := build
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
# The emulated machine runs Debian's current cloud kernel; its ABI is resolved from the archive.
EMU_KDIR = /usr/src/linux-headers-$(shell tools/emu/kernel-abi)
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(EMU_KDIR))
GUEST_SRCS := $(wildcard tools/guests/*.asm)
GUESTS := $(patsubst tools/guests/%.asm,$(BUILD)/guests/%.bin,$(GUEST_SRCS))

.PHONY: all deps module cli guests unit e2e test demo bench lint clean

all: module cli guests

deps:
	@tools/install-deps

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_DEBUG_INFO_BTF_MODULES= modules
	@tools/check-cxx-objects

$(BUILD)/cmake/CMakeCache.txt:
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

cli: $(BUILD)/cmake/CMakeCache.txt
	cmake --build $(BUILD)/cmake -j2 --target exitscope randguest ioctl_matrix
	@mkdir -p $(BUILD)/cli && cp $(BUILD)/cmake/cli/exitscope $(BUILD)/cli/exitscope

guests: $(GUESTS)

$(BUILD)/guests/%.bin: tools/guests/%.asm $(wildcard tools/guests/*.inc)
	@mkdir -p $(dir $@)
	nasm -f bin -I tools/guests/ -o $@ $<

unit: $(BUILD)/cmake/CMakeCache.txt
	cmake --build $(BUILD)/cmake -j2 --target unit_tests

test: deps
	$(MAKE) module KDIR=$(EMU_KDIR)
	$(MAKE) cli guests unit
	@tests/run-all

demo: deps
	@tools/demo

bench: deps
	$(MAKE) module KDIR=$(EMU_KDIR)
	$(MAKE) cli guests
	@tests/bench/run

lint:
	@tools/lint --tidy

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null 2>&1
	rm -rf $(BUILD)
