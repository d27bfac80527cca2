#!/usr/bin/env bash
# Self-test of tools/emu-run (the emulated test machine), not of Exitscope.
# Prints "PASS name" / "FAIL name" per check, then "N passed, N failed";
# exits non-zero if any check failed. Takes about two minutes.
set -uo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
EMU="$REPO/tools/emu-run"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Progress lines would only clutter the test log.
export EMU_PROGRESS=0

passed=0
failed=0
OUT= ERR= RC=
# run NAME ARGS...: run emu-run, keep stdout/stderr/status in OUT/ERR/RC.
run() {
    local name=$1
    shift
    "$EMU" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null
    RC=$?
    OUT=$(cat "$TMP/$name.out")
    ERR=$(cat "$TMP/$name.err")
}
# check NAME CONDITION-DESCRIPTION TEST...: TEST is evaluated as a command.
check() {
    local name=$1 what=$2
    shift 2
    if "$@"; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name ($what; status $RC)"
        sed 's/^/  stdout: /' "$TMP/$name.out"
        sed 's/^/  stderr: /' "$TMP/$name.err"
        failed=$((failed + 1))
    fi
}

# 1. COMMAND's exit status is emu-run's exit status.
run qemu_exit_status --emulator qemu -- 'exit 7'
check qemu_exit_status "want status 7" test "$RC" -eq 7

# 2. COMMAND's output reaches stdout.
run qemu_output --emulator qemu -- 'echo hello'
check qemu_output "want 'hello' and status 0" test "$RC" -eq 0 -a "$OUT" = hello

# 3. A kernel "Call Trace" fails the run although COMMAND succeeded.
# SysRq-l ("show backtrace of all active CPUs") dumps the stack of the CPU
# that handles the write, with a "Call Trace:" line, on any x86 kernel, without
# our module, and without harming the machine: the same text an oops or a
# WARNING prints, so it exercises the kernel-log scan on the success path.
run qemu_call_trace --emulator qemu -- 'echo l > /proc/sysrq-trigger; echo survived'
check qemu_call_trace "want status 125 and the Call Trace quoted" \
    eval '[[ $RC -eq 125 && $OUT == *survived* && $ERR == *"Call Trace"* ]]'

# 3b. A kernel panic ends the run quickly and is reported (SysRq-c crashes).
run qemu_panic --emulator qemu --timeout 60 -- 'echo c > /proc/sysrq-trigger; sleep 30'
check qemu_panic "want status 125 and 'Kernel panic' quoted" \
    eval '[[ $RC -eq 125 && $ERR == *"Kernel panic"* ]]'

# 3c. A command that does not finish is stopped at the timeout (124).
run qemu_timeout --emulator qemu --timeout 10 -- 'while :; do :; done'
check qemu_timeout "want status 124 naming the stage" \
    eval '[[ $RC -eq 124 && $ERR == *"did not finish"* ]]'

# 3d. --add puts host files into the initramfs (default path and explicit one).
echo "added-default" >"$TMP/a.txt"
echo "added-explicit" >"$TMP/b.txt"
run qemu_add --emulator qemu --add "$TMP/a.txt" --add "$TMP/b.txt:/deep/dir/b.txt" \
    -- 'cat /a.txt /deep/dir/b.txt; ls /lib/modules/kvm'
check qemu_add "want both files and kvm modules" \
    eval '[[ $RC -eq 0 && $OUT == *added-default*added-explicit* && $OUT == *kvm-intel.ko* ]]'

# 3e. Known emulator warnings (emu-run's KNOWN_WARNINGS, by file and line) do
# not fail the run and are reported once; any other WARNING still fails it,
# even one from the same file at another line. The reports are written to
# /dev/kmsg, so they are kernel-log lines like the real ones (twice, to show
# that a known one is reported once).
kmsg_warning() { # FILE:LINE -> a shell command that logs a WARNING report from there
    local w="echo '<4>WARNING: CPU: 0 PID: 1 at $1 selftest+0x0/0x10' >/dev/kmsg"
    local c="echo '<4>Call Trace:' >/dev/kmsg"
    local e="echo '<4>---[ end trace 0000000000000000 ]---' >/dev/kmsg"
    printf '%s; %s; %s; %s; %s; %s' "$w" "$c" "$e" "$w" "$c" "$e"
}
run qemu_known_warning --emulator qemu -- "$(kmsg_warning arch/x86/kernel/cpu/topology_common.c:57); echo survived"
check qemu_known_warning "want status 0 and the known warning reported once" \
    eval '[[ $RC -eq 0 && $OUT == *survived* && $(grep -c "known emulator warning.*topology_common.c:57" <<<"$ERR") -eq 1 ]]'
run qemu_other_line_warning --emulator qemu -- "$(kmsg_warning arch/x86/kernel/cpu/topology_common.c:58); echo survived"
check qemu_other_line_warning "want status 125 and the WARNING quoted" \
    eval '[[ $RC -eq 125 && $ERR == *"WARNING: CPU: 0 PID: 1 at arch/x86/kernel/cpu/topology_common.c:58"* && $ERR != *"known emulator warning"* ]]'
run qemu_other_warning --emulator qemu -- "$(kmsg_warning mm/slub.c:1234); echo survived"
check qemu_other_warning "want status 125 and the WARNING quoted" \
    eval '[[ $RC -eq 125 && $ERR == *"WARNING: CPU: 0 PID: 1 at mm/slub.c:1234"* ]]'
# A known warning's report does not hide trouble after it.
run qemu_known_then_trace --emulator qemu -- "$(kmsg_warning arch/x86/kernel/cpu/topology_common.c:57); echo l >/proc/sysrq-trigger"
check qemu_known_then_trace "want status 125 and the Call Trace quoted" \
    eval '[[ $RC -eq 125 && $ERR == *"Call Trace"* ]]'

# 3f. --append and EMU_KERNEL_ARGS reach the kernel command line; --kernel
# picks the kernel (6.12 here, under QEMU for speed) and rejects others.
EMU_KERNEL_ARGS=es_selftest_env=1 run qemu_append --emulator qemu --append es_selftest_a=1 \
    --append 'es_selftest_b=x&y' -- 'cat /proc/cmdline'
check qemu_append "want both arguments and the environment's in /proc/cmdline" \
    eval '[[ $RC -eq 0 && $OUT == *"es_selftest_env=1 es_selftest_a=1 es_selftest_b=x&y"* ]]'
run qemu_kernel_612 --emulator qemu --kernel 6.12 -- 'uname -r'
check qemu_kernel_612 "want a 6.12 kernel" eval '[[ $RC -eq 0 && $OUT == 6.12.* ]]'
run bad_kernel --emulator qemu --kernel 5.10 -- 'true'
check bad_kernel "want status 2 naming the choices" eval '[[ $RC -eq 2 && $ERR == *"6.1 or 6.12"* ]]'

# 4. Bochs exposes VMX (the point of using Bochs).
run bochs_vmx -- 'grep -c vmx /proc/cpuinfo'
check bochs_vmx "want a count >= 1 and status 0" \
    eval '[[ $RC -eq 0 && $OUT =~ ^[0-9]+$ && $OUT -ge 1 ]]'

# 5. Bochs with two CPUs boots SMP.
run bochs_smp --cpus 2 -- 'grep -c ^processor /proc/cpuinfo'
check bochs_smp "want 2 processors and status 0" test "$RC" -eq 0 -a "$OUT" = 2

echo "$passed passed, $failed failed"
((failed == 0))
