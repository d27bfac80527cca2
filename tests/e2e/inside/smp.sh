# A Linux guest of several vCPUs under Exitscope (`exitscope run --kernel ... --cpus N`): the
# kernel finds its CPUs in the ACPI MADT (Debian's cloud kernels have no MP-table parser), starts
# the APs by INIT/SIPI through the x2APIC, and boots to /init on all of them: the SMP markers, the
# per-CPU timer (LOC) and IPI (RES, CAL) interrupts, the leaves per CPU (leafstat) and the VM's
# own reading of them, a clean power-off (status 0), SIGINT and SIGKILL mid-boot, two 2-vCPU VMs
# at once, and a healthy host that unloads the module after. Needs /vmlinuz and
# /initramfs.cpio.gz (see linux.sh); SMP_CPUS (default 2) vCPUs.
. /tests/lib.sh

if [ ! -f /vmlinuz ] || [ ! -f /initramfs.cpio.gz ]; then
    fail smp_kernel_present "no /vmlinuz or /initramfs.cpio.gz: add them with --add"
    exit 0
fi
n=${SMP_CPUS:-2}
# The command line of a several-vCPU boot (README, "Several vCPUs"): acpi=ht, not acpi=off, so the
# MADT is read; noapic, so the 8259A's interrupts reach vCPU 0 through LINT0.
append="console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=ht pci=off cryptomgr.notests"
append="$append 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init noapic"
append="$append exitscope_smp=1"

t0=$(klog_now)
load
expect_status smp_load 0 $?
exitscope reset
echo "-- linux boot console, $n vCPUs:"
console_boot smp "${LINUX_SECONDS:-400}" --cpus "$n" --max-exits 5000000 --append "$append"
st=$(cat /tmp/smp.status)
echo
echo "-- summary: $(cat /tmp/smp.err)"
exitscope stat | tee /tmp/smp.stat
contains smp_init_runs /tmp/smp.out "exitscope-guest: /init running"
# (`quiet` keeps the kernel's "smp: Brought up 1 node, N CPUs" off the console; /init says it.)
contains smp_brought_up /tmp/smp.out "exitscope-guest: CPUs online 0-$((n - 1))"
contains smp_poweroff_reached /tmp/smp.out "exitscope-guest: powering off"
expect_status smp_poweroff_ends_run 0 "$st"
# /proc/interrupts: one column per CPU; the local APIC timer counted on every CPU, and IPIs
# (rescheduling RES plus function-call CAL: which of the two a CPU gets varies from boot to boot,
# RES on CPU 0 was 0 once) on every CPU.
ipi_rows() { grep -E "^ *(RES|CAL):" /tmp/smp.out | head -n 2; }
for irq in LOC IPI; do
    if [ "$irq" = LOC ]; then rows=$(grep -E "^ *LOC:" /tmp/smp.out | head -n 1); else rows=$(ipi_rows); fi
    cols=$(echo "$rows" | awk -v n="$n" '{ for (i = 2; i <= n + 1; ++i) sum[i] += $i }
        END { ok = 0; for (i = 2; i <= n + 1; ++i) if (sum[i] > 0) ++ok; print ok }')
    if [ "${cols:-0}" = "$n" ]; then pass "smp_${irq}_on_every_cpu"
    else fail "smp_${irq}_on_every_cpu" "rows: ${rows:-none}"; fi
done
# leafstat per CPU, in the course's format: a block per CPU, each with the total-exits row
# (Debian's cpuid, before it, prints "CPU N:" blocks of its own).
blocks=$(awk '/^CPU [0-9]*:/ {getline next_line; if (next_line ~ /^  0x4ffffffc 0x00: eax=0x/) ++n} END {print n + 0}' /tmp/smp.out)
rows=$(grep -c '^  0x4ffffffc 0x00: eax=0x' /tmp/smp.out)
if [ "$blocks" = "$n" ] && [ "$rows" = "$n" ]; then pass smp_leafstat_per_cpu
else fail smp_leafstat_per_cpu "$blocks CPU blocks, $rows total rows (wanted $n each)"; fi
# Debian's cpuid, as the course ran it (`cpuid -l 0x4ffffffe -s 10 -r`): one row per CPU, each
# in the contract's shape (CPUID's count in EAX alone, enabled so not zero), rising from CPU to
# CPU (each asks after the one before, and the VM's count includes every vCPU's CPUIDs).
tr -d '\r' </tmp/smp.out | sed -n 's/^   0x4ffffffe 0x0a: eax=\(0x[0-9a-f]*\) ebx=0x00000000 ecx=0x00000000 edx=0x00000000$/\1/p' >/tmp/smp.cpuid
ok=1 prev=0
while read -r h; do
    [ $((h)) -gt "$prev" ] || ok=0
    prev=$((h))
done </tmp/smp.cpuid
if [ "$(wc -l </tmp/smp.cpuid)" = "$n" ] && [ "$ok" = 1 ]; then pass smp_debian_cpuid_per_cpu
else fail smp_debian_cpuid_per_cpu "rows: $(tr '\n' ' ' </tmp/smp.cpuid) (wanted $n, rising)"; fi
# The leaves answer for the VM (the sum over its vCPUs): every CPU's total lies between the
# first CPU's and the VM's count at the end, and grows from CPU to CPU.
totals=$(sed -n 's/^  0x4ffffffc 0x00: eax=\(0x[0-9a-f]*\).*/\1/p' /tmp/smp.out | while read -r h; do printf '%d\n' "$h"; done | tr '\n' ' ')
run_total=$(sed -n 's/.*: \([0-9]*\) exits, .*/\1/p' /tmp/smp.err)
ok=1 prev=0
for t in $totals; do
    [ "$t" -gt "$prev" ] || ok=0
    prev=$t
done
[ -n "$run_total" ] && [ "$prev" -lt "$run_total" ] || ok=0
check smp_leaves_are_the_vms_sum [ "$ok" = 1 ]
# The summary names each vCPU's exits, and they add up to the run's.
per=$(sed -n 's/.*; vCPU exits \([0-9+]*\); paging: ept$/\1/p' /tmp/smp.err)
ok=0
[ -n "$per" ] && [ "$(echo "$per" | tr + '\n' | wc -l)" = "$n" ] && [ "$((per))" = "${run_total:-x}" ] && ok=1
check smp_summary_per_vcpu_exits [ "$ok" = 1 ]
echo "-- per-CPU totals: $totals; the run: ${run_total:-?} exits"

# Two 2-vCPU VMs at once, each a shell guest idle at its prompt (fed through a FIFO), read from
# outside by VM id: `exitscope vms` lists both; each vCPU's CPUID count sums to its VM's, the
# VMs' to the global count since the reset (CPUID is the guest's own doing, and an idle guest
# does none), and a VM's count is at least what its guest read with Debian's cpuid.
shell_append="${append% exitscope_smp=1} exitscope_shell=1"
if [ "$(nproc)" -ge 2 ]; then
exitscope reset
for v in a b; do
    rm -f "/tmp/two.$v.in"
    mkfifo "/tmp/two.$v.in"
    timeout -s INT "${LINUX_SECONDS:-400}" exitscope run --kernel /vmlinuz \
        --initrd /initramfs.cpio.gz --cpus 2 --append "$shell_append" \
        <"/tmp/two.$v.in" >"/tmp/two.$v.out" 2>"/tmp/two.$v.err" &
    eval "pid_$v=\$!"
done
exec 3>/tmp/two.a.in 4>/tmp/two.b.in
# Waits until the guest's console has `$2` (a shell's answer), up to $3 seconds.
wait_console() {
    i=0
    while [ "$i" -lt "$3" ] && ! tr -d '\r' <"$1" | grep -q "$2"; do sleep 1; i=$((i + 1)); done
}
for v in a b; do
    wait_console "/tmp/two.$v.out" "exitscope-guest: shell on ttyS0" "${LINUX_SECONDS:-400}"
done
# A line of blanks first: the 8250 driver's port setup empties the receive FIFO (serial.sh).
printf '%20s\necho ready-a\ncpuid -1 -r -l 0x4ffffffe -s 10\necho asked-a\n' '' >&3
printf '%20s\necho ready-b\ncpuid -1 -r -l 0x4ffffffe -s 10\necho asked-b\n' '' >&4
wait_console /tmp/two.a.out "^asked-a" 120
wait_console /tmp/two.b.out "^asked-b" 120
sleep 2
exitscope vms | tee /tmp/two.vms
exitscope vms --json >/tmp/two.vms.json
ids=$(tr '{' '\n' </tmp/two.vms.json | sed -n 's/^"vm":\([0-9]*\),"vcpus":2,.*/\1/p' | tr '\n' ' ')
set -- $ids
check smp_two_vms_listed [ "$#" = 2 ]
cpuid_of() { reason_count "$1" 10 | head -n 1; }
exitscope stat --json >/tmp/two.global.json
sum_vms=0 ok=1 detail=""
for id in "$@"; do
    exitscope stat --vm "$id" --json >"/tmp/two.vm$id.json"
    vm=$(cpuid_of "/tmp/two.vm$id.json")
    per=0
    for c in 0 1; do
        exitscope stat --vm "$id" --vcpu "$c" --json >"/tmp/two.vm$id.$c.json"
        per=$((per + $(cpuid_of "/tmp/two.vm$id.$c.json")))
    done
    [ -n "$vm" ] && [ "$per" = "$vm" ] && [ "$vm" -gt 0 ] || ok=0
    sum_vms=$((sum_vms + ${vm:-0}))
    detail="$detail VM $id: ${vm:-?} = vCPUs $per;"
done
check smp_vcpus_sum_to_their_vm [ "$ok" = 1 ]
exitscope stat --vm "$1" | tail -n 5
global=$(cpuid_of /tmp/two.global.json)
check smp_two_vms_sum_to_global [ "${global:-x}" = "$sum_vms" ]
echo "-- CPUID exits:$detail global ${global:-?}"
# Each guest's reading (its VM's count when it asked, its own CPUID included) is no more than
# its VM's count read from outside after it (equal in the runs seen so far: an idle guest does
# no CPUID). The VM is the one whose creator is the guest's CLI (its `timeout`'s child).
ok=1
for v in a b; do
    eval "tpid=\$pid_$v"
    cli=$(awk -v p="$tpid" '$4 == p && $2 == "(exitscope)" {print $1}' /proc/[0-9]*/stat 2>/dev/null | head -n 1)
    [ -n "$cli" ] || cli=$tpid # a timeout that execs the command itself
    id=$(tr '{' '\n' </tmp/two.vms.json | sed -n "s/^\"vm\":\([0-9]*\),.*\"pid\":$cli}.*/\1/p")
    read_h=$(tr -d '\r' <"/tmp/two.$v.out" | sed -n 's/^ *0x4ffffffe 0x0a: eax=\(0x[0-9a-f]*\) .*/\1/p' | tail -n 1)
    outside=$(cpuid_of "/tmp/two.vm$id.json" 2>/dev/null)
    [ -n "$id" ] && [ -n "$read_h" ] && [ -n "$outside" ] && [ "$outside" -ge "$((read_h))" ] || ok=0
    echo "-- guest $v (CLI $cli, VM ${id:-?}) read ${read_h:-?}; from outside: ${outside:-?}"
done
check smp_guest_reading_within_its_vm [ "$ok" = 1 ]
echo 'poweroff -f' >&3
echo 'poweroff -f' >&4
exec 3>&- 4>&-
wait "$pid_a"
st_a=$?
wait "$pid_b"
st_b=$?
check smp_two_vms_power_off [ "$st_a$st_b" = 00 ]
[ "$st_a$st_b" = 00 ] || { tail -n 5 /tmp/two.a.out /tmp/two.b.out; cat /tmp/two.a.err /tmp/two.b.err; }
# A vCPU past the VM's, and a VM that ended, are refused with what to do.
exitscope stat --vm 999999 >/tmp/novm.out 2>&1
expect_status smp_stat_no_such_vm 1 $?
contains smp_stat_no_such_vm_says_why /tmp/novm.out "no live VM has id 999999"
fi

# SIGINT stops every vCPU (130), SIGKILL ends the process (137); the module unloads after both.
for sig in INT KILL; do
    exitscope run --kernel /vmlinuz --initrd /initramfs.cpio.gz --cpus "$n" --append "$append" \
        >/tmp/sig.out 2>&1 &
    pid=$!
    sleep 6
    kill -$sig $pid
    wait $pid
    st=$?
    case $sig in
    INT) expect_status smp_sigint_mid_boot 130 $st ;;
    KILL) expect_status smp_sigkill_mid_boot 137 $st ;;
    esac
done
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ "$(exitscope info --json 2>/dev/null | sed -n 's/.*"vms": *\([0-9]*\).*/\1/p')" = 0 ] && break
    sleep 1
done

# A panic on a 2-vCPU guest resets the machine (panic=-1), which stops every vCPU.
timeout -s INT 300 exitscope run --kernel /vmlinuz --initrd /initramfs.cpio.gz --cpus "$n" \
    --append "${append%rdinit=/init noapic exitscope_smp=1} rdinit=/no-such-init root=/dev/no-such-disk noapic" \
    >/tmp/panic.out 2>/tmp/panic.err
st=$?
contains smp_panic_reached /tmp/panic.out "Kernel panic"
expect_status smp_panic_resets 75 $st

# A fixed IPI to a halted vCPU, 200 times (the bench's IPI latency guest): every IPI reaches the
# handler of vCPU 1 (in real mode, on its own IVT) and wakes it, and the run ends with status 0.
timeout -s INT 300 exitscope run --kernel /guests/ipi-latency.bin --cpus 2 >/tmp/ipi.out 2>/tmp/ipi.err
expect_status smp_ipi_to_halted_vcpu_status 0 $?
contains smp_ipi_to_halted_vcpu_prints /tmp/ipi.out "^ipi latency: rounds 200, min [1-9][0-9]*, mean [1-9][0-9]*, max [1-9][0-9]* ticks$"
echo "-- $(cat /tmp/ipi.out)"

exitscope run /guests/hello-long.bin --mode long >/tmp/after.out 2>&1
expect_status smp_toy_guest_after 0 $?
unload
expect_status smp_unload_after 0 $?
if klog_since "$t0" | grep -Eq "Oops|BUG:|WARNING:|soft lockup|hung task"; then
    fail smp_host_healthy "$(klog_since "$t0" | grep -E "Oops|BUG:|WARNING:|soft lockup|hung task" | head -n 3)"
else pass smp_host_healthy; fi
