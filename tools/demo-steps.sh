# The demo itself, as plain sh so it runs natively and inside the emulated machine alike.
# Needs: ES (the CLI), G (directory of guest images), KO (exitscope.ko); LINUX_KERNEL and
# LINUX_INITRD (a bzImage and the guest initramfs) for the last steps, a Linux boot with EPT
# and then with shadow paging.
set -e
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say insmod exitscope.ko
insmod "$KO"
dmesg | grep 'exitscope:' | tail -n 1

say exitscope info
"$ES" info | sed -n '1,2p;/^EPT and VPID/,$p'

say exitscope run hello-real.bin
"$ES" run "$G/hello-real.bin"

say exitscope run --mode long hello-long.bin
"$ES" run --mode long "$G/hello-long.bin"

say exitscope run cpuid-loop.bin
"$ES" run "$G/cpuid-loop.bin"

say "exitscope run exit-zoo.bin   (ends on purpose with an access outside guest RAM)"
"$ES" run "$G/exit-zoo.bin" || echo "(exit status $?: EPT violation, as the zoo intends)"

say "exitscope run cpuid-probe.bin | grep 'exit number 1[02] '"
"$ES" run "$G/cpuid-probe.bin" 2>/dev/null | grep 'exit number 1[02] '

say exitscope stat
"$ES" stat

# The paging lab's pair: the same Linux boot with EPT, then with shadow paging, each followed by
# its exits (the shadow run adds #PF, CR-access and INVLPG exits; README "EPT vs shadow paging").
if [ -f "${LINUX_KERNEL:-}" ] && [ -f "${LINUX_INITRD:-}" ]; then
    for paging in ept shadow; do
        say "exitscope reset; exitscope run --paging $paging --kernel vmlinuz --initrd initramfs.cpio.gz --append '...'"
        echo "(a Linux kernel boots to a busybox /init, reads the exit leaves from user space, powers off)"
        "$ES" reset
        "$ES" run --paging "$paging" --kernel "$LINUX_KERNEL" --initrd "$LINUX_INITRD" \
            --append "console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=off pci=off \
cryptomgr.notests 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init \
nolapic" | grep -v '^CPUID(0x4FFFFFF[EF]), exit number' || true
        say "exitscope stat   (the exits of that Linux boot with $paging paging, most frequent first)"
        "$ES" stat
    done
    # The course's guests had two vCPUs: the same kernel on two, each CPU's own cpuid reading of
    # the CPUID exits (reason 10), then the VM's exits (README "Several vCPUs").
    say "exitscope reset; exitscope run --cpus 2 --kernel vmlinuz --initrd initramfs.cpio.gz --append '... acpi=ht noapic exitscope_smp=1'"
    echo "(two vCPUs: the kernel starts the second by INIT/SIPI; cpuid -l 0x4ffffffe -s 10 on each CPU)"
    "$ES" reset
    "$ES" run --cpus 2 --kernel "$LINUX_KERNEL" --initrd "$LINUX_INITRD" \
        --append "console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=ht pci=off \
cryptomgr.notests 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init \
noapic exitscope_smp=1" | grep -E '^CPU [0-9]+:|^ +0x4ffffffe 0x0a:|CPUs online|exitscope-guest: cpuid' |
        head -n 8 || true
    say "exitscope stat   (the exits of that 2-vCPU boot, both vCPUs)"
    "$ES" stat
fi

say rmmod exitscope
rmmod exitscope
