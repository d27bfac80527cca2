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
echo "-- per-CPU totals: $totals; the run: ${run_total:-?} exits"

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
