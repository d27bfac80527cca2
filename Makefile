# Exitscope: `make demo` and `make test` are the two commands of the README.
#
#   make            module (for KDIR, in build/module-<release>/), CLI, guests
#   make linux-guest   the Linux guest's initramfs, build/linux-guest/initramfs.cpio.gz
#   make module EMU_KERNEL=6.12   the module for an emulated machine's kernel (6.1 or 6.12), in
#                   build/module-<kernel>/, where tools/emu-run --kernel <kernel> finds it
#   make shell      the emulated machine on this terminal: a root shell with the module loaded,
#                   `exitscope` and the Linux guest inside (tools/emu-run --interactive; Ctrl-A x)
#   make demo       build, load, run a toy guest, show the counters (natively if this CPU has
#                   VMX and the running kernel's headers exist, else in the emulated machine)
#   make test       host unit tests and end-to-end tests in the emulated machines
#   make bench      benchmarks (figures, not pass/fail)
#   make dkms-install / dkms-uninstall   register the module with DKMS (rebuilt on kernel upgrades)
SHELL := /bin/bash
.DEFAULT_GOAL := all

BUILD := build
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
# The emulated machine runs one of Debian 12's cloud kernels, 6.1 (default) or 6.12; its ABI is
# resolved from the archive's meta package when a recipe needs it (never for `make clean`).
EMU_KERNEL ?= 6.1
EMU_KDIR = /usr/src/linux-headers-$(shell tools/emu/kernel-abi $(EMU_KERNEL))
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(EMU_KDIR))
# Kbuild writes an external module's objects beside its sources, so `make module` builds in a
# tree of links to the sources under build/, one per kernel: build/module-<kernel>/ with
# EMU_KERNEL=<kernel> given, else build/module-<release>/ for KDIR, named by its UTS_RELEASE
# (build/module-$(uname -r)/ for the running kernel). Kbuild 6.13 added MO= (objects elsewhere);
# Debian 12's 6.1 and 6.12 lack it, so the links serve every kernel.
ifneq ($(filter command line environment,$(origin EMU_KERNEL)),)
MODULE_NAME = $(EMU_KERNEL)
MODULE_KDIR = $(EMU_KDIR)
else
MODULE_NAME = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODULE_KDIR = $(KDIR)
endif
MODULE_DIR = $(CURDIR)/$(BUILD)/module-$(MODULE_NAME)
# What Kbuild (and DKMS) needs of the tree: sources only, never build products.
KBUILD_SRCS = Kbuild $(shell find module vmx board mmu cpuid include -type f \( -name '*.[chS]' \
	-o -name '*.[ch]pp' -o -name probe-cxx-flags \) | LC_ALL=C sort)
# DKMS: the package version is dkms.conf's.
DKMS_VERSION = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC ?= /usr/src/exitscope-$(DKMS_VERSION)
GUEST_SRCS := $(wildcard tools/guests/*.asm)
GUESTS := $(patsubst tools/guests/%.asm,$(BUILD)/guests/%.bin,$(GUEST_SRCS))
# The Linux guest's initramfs (busybox-static, /init, leafstat, lab-workload, Debian's cpuid with
# its libraries) for `run --kernel ... --initrd`.
BUSYBOX ?= /bin/busybox
CPUID_PROGRAM ?= /usr/bin/cpuid
LINUX_GUEST_INITRAMFS := $(BUILD)/linux-guest/initramfs.cpio.gz

.PHONY: all deps module cli guests linux-guest unit e2e test demo shell bench lint clean dkms-install dkms-source dkms-uninstall

all: module cli guests

deps:
	@tools/install-deps

# CONFIG_DEBUG_INFO_BTF_MODULES= : Debian's headers have no vmlinux to take BTF types from, so
# Kbuild would warn that it skips BTF for the module.
module:
	@[ -n "$(MODULE_NAME)" ] || { echo "make module: no include/generated/utsrelease.h in" \
		"$(MODULE_KDIR): KDIR must be a kernel build tree (headers package)" >&2; exit 1; }
	@mkdir -p $(MODULE_DIR) && find $(MODULE_DIR) -type l -delete && \
	for f in $(KBUILD_SRCS); do \
		mkdir -p $(MODULE_DIR)/$$(dirname $$f) && ln -s $(CURDIR)/$$f $(MODULE_DIR)/$$f; \
	done
	$(MAKE) -C $(MODULE_KDIR) M=$(MODULE_DIR) CONFIG_DEBUG_INFO_BTF_MODULES= modules
	@tools/check-cxx-objects $(MODULE_DIR)
	@echo "make module: $(patsubst $(CURDIR)/%,%,$(MODULE_DIR))/exitscope.ko"

$(BUILD)/cmake/CMakeCache.txt:
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

cli: $(BUILD)/cmake/CMakeCache.txt
	cmake --build $(BUILD)/cmake -j2 --target exitscope randguest ioctl_matrix
	@mkdir -p $(BUILD)/cli && cp $(BUILD)/cmake/cli/exitscope $(BUILD)/cli/exitscope

guests: $(GUESTS) $(BUILD)/guests/leafstat

$(BUILD)/guests/%.bin: tools/guests/%.asm $(wildcard tools/guests/*.inc)
	@mkdir -p $(dir $@)
	nasm -f bin -I tools/guests/ -o $@ $<

# Static: the Linux guest's initramfs has no C library. Stripped: the guest loads every byte.
$(BUILD)/guests/leafstat: tools/guests/leafstat.c
	@mkdir -p $(dir $@)
	gcc -static -O2 -s -Wall -Wextra -o $@ $<

linux-guest: $(LINUX_GUEST_INITRAMFS)

$(LINUX_GUEST_INITRAMFS): tools/guests/mkinitramfs tools/guests/linux-init tools/guests/lab-workload \
		$(BUILD)/guests/leafstat $(BUSYBOX) $(CPUID_PROGRAM)
	@mkdir -p $(dir $@)
	tools/guests/mkinitramfs --busybox $(BUSYBOX) --init tools/guests/linux-init \
		--leafstat $(BUILD)/guests/leafstat --workload tools/guests/lab-workload \
		--program $(CPUID_PROGRAM) -o $@

unit: $(BUILD)/cmake/CMakeCache.txt
	cmake --build $(BUILD)/cmake -j2 --target unit_tests

# Both kernels: EMU_KERNEL (default 6.1) gets the full suites, the other one a shorter set.
test: deps
	$(MAKE) module EMU_KERNEL=6.1
	$(MAKE) module EMU_KERNEL=6.12
	$(MAKE) cli guests unit linux-guest
	@EMU_KERNEL=$(EMU_KERNEL) tests/run-all

demo: deps
	@EMU_KERNEL=$(EMU_KERNEL) tools/demo

# EMU_KERNEL picks the machine's kernel; EMU_SHELL_ARGS passes more emu-run options (--cpus 2,
# --emulator qemu, --add FILE, ...). Leaving with Ctrl-A x (emu-run's status 130) is no error.
shell: deps
	$(MAKE) module EMU_KERNEL=$(EMU_KERNEL)
	$(MAKE) cli guests linux-guest
	@tools/emu-run --interactive --kernel $(EMU_KERNEL) $(EMU_SHELL_ARGS) || [ $$? -eq 130 ] # Ctrl-A x

bench: deps
	$(MAKE) module EMU_KERNEL=$(EMU_KERNEL)
	$(MAKE) cli guests linux-guest
	@EMU_KERNEL=$(EMU_KERNEL) tests/bench/run

lint:
	@tools/lint --tidy

# Copies the Kbuild sources and dkms.conf to /usr/src/exitscope-<version>, adds them to DKMS and
# builds and installs the module for the running kernel when its headers are there; DKMS then
# rebuilds it for every kernel installed later (AUTOINSTALL).
dkms-install:
	@command -v dkms >/dev/null || { echo "dkms-install: install dkms first (apt-get install dkms)" >&2; exit 1; }
	@dkms remove -m exitscope -v $(DKMS_VERSION) --all >/dev/null 2>&1 || true
	$(MAKE) --no-print-directory dkms-source
	dkms add -m exitscope -v $(DKMS_VERSION)
	@if [ -d /lib/modules/$$(uname -r)/build ]; then \
		dkms install -m exitscope -v $(DKMS_VERSION) -k $$(uname -r); \
	else \
		echo "dkms-install: no headers for the running kernel $$(uname -r); DKMS builds the module" \
			"when a kernel with headers is installed (or: dkms install -m exitscope -v $(DKMS_VERSION) -k VERSION)"; \
	fi

# The DKMS source tree alone (DKMS_SRC=DIR: elsewhere; tests/dkms/run uses it).
dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cp --parents dkms.conf $(KBUILD_SRCS) $(DKMS_SRC)/

dkms-uninstall:
	-dkms remove -m exitscope -v $(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

# Needs no kernel headers and resolves nothing: every module tree is under build/. The rest are
# the products of in-place builds, which versions before build/module-<release>/ made.
clean:
	rm -rf $(BUILD)
	rm -f exitscope.ko exitscope.o exitscope.mod exitscope.mod.c exitscope.mod.o modules.order \
		Module.symvers .es-cxx-flags .es-cxx-flags.tmp
	find . -maxdepth 1 -name '.*.cmd' -delete
	find module vmx board mmu cpuid include \( -name '*.o' -o -name '.*.cmd' -o -name '.*.d' \) -delete
