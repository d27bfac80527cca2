# Serial input: standard input of `exitscope run` reaches a Linux-board guest's COM1 on both
# backends (serial-echo.bin echoes it, the way Linux's 8250 driver reads it), and a shell in the
# Linux guest (exitscope_shell=1) runs piped commands; console control bytes are made visible on
# a terminal only.
. /tests/lib.sh

load || { fail serial_load "insmod failed"; exit 0; }

# A piped session: the bytes go in as they come; 'q' ends the guest. The PIT ticks meanwhile,
# so a HLT sleeps and input must wake it.
printf 'hello\nq' | exitscope run --kernel /guests/serial-echo.bin >/tmp/se.out 2>/tmp/se.err
expect_status serial_echo_status 0 $?
same_lines serial_echo_prints /tmp/se.out "ready" "hello" "bye"
# More than the guest's FIFO and the module's ring hold at once: nothing lost, nothing doubled.
head -c 10000 /dev/zero | tr '\0' y >/tmp/many
{ cat /tmp/many; printf '\nq'; } | exitscope run --kernel /guests/serial-echo.bin >/tmp/se.out 2>/tmp/se.err
expect_status serial_echo_10000_status 0 $?
same_lines serial_echo_10000_prints /tmp/se.out "ready" "$(cat /tmp/many)" "bye"
# End of input changes nothing else: the guest goes on (and here waits until SIGINT).
printf 'abc\n' | timeout -s INT 5 exitscope run --kernel /guests/serial-echo.bin >/tmp/se.out 2>/tmp/se.err
expect_status serial_echo_eof_then_sigint 130 $?
same_lines serial_echo_eof_prints /tmp/se.out "ready" "abc"

# The same under KVM (COM1 is the same model, in user space).
if kvm_load_idle; then
    printf 'hello\nq' | exitscope run --backend kvm --kernel /guests/serial-echo.bin >/tmp/se.out 2>/tmp/se.err
    expect_status serial_echo_kvm_status 0 $?
    same_lines serial_echo_kvm_prints /tmp/se.out "ready" "hello" "bye"
    rmmod kvm_intel kvm irqbypass 2>/dev/null
else
    fail serial_echo_kvm_load "kvm_intel did not load"
fi

# Console bytes go out raw when standard output is not a terminal (terminal_safe's ^X rendering
# on a terminal is unit-tested: this machine has no pty to capture one).
printf '\033[31mred\nq' | exitscope run --kernel /guests/serial-echo.bin 2>/dev/null >/tmp/se.out
same_lines serial_console_raw_to_a_file /tmp/se.out "ready" "$(printf '\033[31mred')" "bye"

# A shell in the Linux guest, driven through a pipe: it answers the leaves and powers off.
if [ -f /vmlinuz ]; then
    append="console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=off pci=off cryptomgr.notests"
    append="$append 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init"
    append="$append nolapic exitscope_shell=1"
    # The guest's 8250 driver empties the UART's FIFO when the shell sets the port up, and with
    # it what had arrived early: a first line of blanks (more than the 16 bytes a FIFO holds)
    # absorbs that, as a script that does not wait for the prompt must.
    # Host files go in with --add: a static program (this machine's busybox) and a script.
    # Debian's cpuid (dynamically linked, in the shipped initramfs) asks the per-reason leaf for
    # CPUID twice and for undefined reason 35 once (-1: this CPU only).
    echo 'echo script-added-$((2 + 3))' >/tmp/added.sh
    printf '%20s\necho marker-$((6 * 7))\nleafstat | head -n 2\n/opt/added/busybox echo program-added\nsh /usr/local/bin/added.sh\ncpuid -1 -l 0x4ffffffe -s 10\ncpuid -1 -l 0x4ffffffe -s 10\ncpuid -1 -r -l 0x4ffffffe -s 35\npoweroff -f\n' '' |
        timeout -s INT "${LINUX_SECONDS:-300}" exitscope run --kernel /vmlinuz \
            --initrd /initramfs.cpio.gz --append "$append" --add /bin/busybox:/opt/added/ \
            --add /tmp/added.sh:/usr/local/bin/ >/tmp/sh.out 2>/tmp/sh.err
    st=$?
    echo "-- shell guest: status $st; $(cat /tmp/sh.err)"
    tail -n 20 /tmp/sh.out
    contains serial_shell_started /tmp/sh.out "exitscope-guest: shell on ttyS0"
    contains serial_shell_runs_commands /tmp/sh.out "^marker-42"
    contains serial_shell_runs_an_added_program /tmp/sh.out "^program-added"
    contains serial_shell_runs_an_added_script /tmp/sh.out "^script-added-5"
    contains serial_shell_reads_the_leaves /tmp/sh.out "^CPUID\\(0x4FFFFFFC\\), total exits=[1-9][0-9]*"
    # The leaf contract (CONTRACT.md section 1), as check-leafstat holds leafstat to it: CPUID
    # is enabled, so its count is non-zero and rises between the two calls, in EAX alone;
    # reason 35 is not defined by the SDM: EDX all ones, the rest zero.
    tr -d '\r' </tmp/sh.out | sed -n 's/^ *0x4ffffffe 0x0a: eax=\(0x[0-9a-f]*\) ebx=0x00000000 ecx=0x00000000 edx=0x00000000$/\1/p' >/tmp/cpuid10
    first=$(sed -n 1p /tmp/cpuid10) second=$(sed -n 2p /tmp/cpuid10)
    if [ "$(wc -l </tmp/cpuid10)" = 2 ] && [ $((first)) -ge 1 ] && [ $((second)) -gt $((first)) ]; then
        pass serial_shell_cpuid_counts_cpuid_exits
    else
        fail serial_shell_cpuid_counts_cpuid_exits "wanted two rising CPUID counts with ebx=ecx=edx=0, got '$(tr '\n' ' ' </tmp/cpuid10)' in: $(grep 0x4ffffffe /tmp/sh.out | head -n 3)"
    fi
    contains serial_shell_cpuid_undefined_reason /tmp/sh.out \
        "^ *0x4ffffffe 0x23: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0xffffffff"
    expect_status serial_shell_poweroff 0 $st
fi

unload
expect_status serial_unload 0 $?
