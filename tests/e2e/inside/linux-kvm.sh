# Booting the same bzImage and command line as linux.sh under KVM (`exitscope run --backend kvm
# --kernel`): Debian's kvm_intel with its in-kernel 8259A pair and 8254 PIT, COM1 in user space.
# Checks the console markers, a clean end (status 0: the vCPU halted with interrupts off), a panic
# that resets the machine (status 75), and prints KVM's exit statistics for the README's
# comparison. exitscope.ko stays unloaded throughout. Needs /vmlinuz and /initramfs.cpio.gz
# (tests/e2e/run-suite NAME --add KERNEL:/vmlinuz --add
# build/linux-guest/initramfs.cpio.gz:/initramfs.cpio.gz -- linux-kvm.sh); LINUX_SECONDS bounds
# each boot (SIGINT after that many seconds).
. /tests/lib.sh

if [ ! -f /vmlinuz ] || [ ! -f /initramfs.cpio.gz ]; then
    fail linux_kvm_kernel_present "no /vmlinuz or /initramfs.cpio.gz: add them with --add"
    exit 0
fi
if kvm_load_idle 2>/tmp/insmod.err; then pass linux_kvm_modules_load
else fail linux_kvm_modules_load "insmod: $(cat /tmp/insmod.err)"; exit 0; fi
[ -c /dev/kvm ] || { fail linux_kvm_dev_kvm "no /dev/kvm"; exit 0; }

# The command line of linux.sh (the KVM reference boot, README "A Linux guest").
append="console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=off pci=off cryptomgr.notests"
append="$append 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init nolapic"

exitscope run --backend kvm --kernel /guests/hello-long.bin >/tmp/bad.out 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "not a bzImage" /tmp/bad.out; then pass linux_kvm_not_a_bzimage_refused
else fail linux_kvm_not_a_bzimage_refused "status $st: $(cat /tmp/bad.out)"; fi

# kvm_boot NAME TITLE RUN-OPTIONS...: console_boot under KVM, its console, time and summary
# shown; the status in $st.
kvm_boot() {
    kb_name=$1 kb_title=$2
    shift 2
    kb_start=$(date +%s)
    echo "-- $kb_title under KVM, console:"
    console_boot "$kb_name" "${LINUX_SECONDS:-600}" --backend kvm "$@"
    st=$(cat "/tmp/$kb_name.status")
    echo
    echo "-- $kb_title under KVM: status $st after $(($(date +%s) - kb_start)) s"
    echo "-- summary:"
    cat "/tmp/$kb_name.err"
}

kvm_boot lk "linux boot" --append "$append"
contains linux_kvm_decompressor_prints /tmp/lk.out "KASLR disabled: 'nokaslr' on cmdline"
contains linux_kvm_init_runs /tmp/lk.out "exitscope-guest: /init running"
if grep -Eq '^ *0: +[1-9][0-9]* +XT-PIC +.*timer' /tmp/lk.out; then pass linux_kvm_timer_ticks
else fail linux_kvm_timer_ticks "$(grep -E '^ *0:' /tmp/lk.out)"; fi
if grep -Eq '^ *4: +[1-9][0-9]* +XT-PIC +.*ttyS0' /tmp/lk.out; then pass linux_kvm_ttyS0_on_irq4
else fail linux_kvm_ttyS0_on_irq4 "$(grep -E '^ *4:' /tmp/lk.out)"; fi
contains linux_kvm_poweroff_reached /tmp/lk.out "exitscope-guest: powering off"
expect_status linux_kvm_poweroff_ends_run 0 "$st"
contains linux_kvm_summary_halted /tmp/lk.err "^exitscope\[kvm\]: guest halted"
contains linux_kvm_statistics /tmp/lk.err "KVM counted: exits [0-9]+"
echo "-- guest time at /init and at poweroff (console timestamps):"
grep -E "exitscope-guest: (/init running|powering off)|reboot: " /tmp/lk.out | sed 's/\[\( *[0-9]*\.[0-9]*\)\]/guest(\1)/'

# A kernel that cannot find its init panics; with panic=-1 it resets the machine at once.
timeout -s INT "${LINUX_SECONDS:-600}" exitscope run --backend kvm --kernel /vmlinuz \
    --initrd /initramfs.cpio.gz \
    --append "${append%rdinit=/init nolapic} rdinit=/no-such-init root=/dev/no-such-disk nolapic" \
    >/tmp/lkp.out 2>/tmp/lkp.err
st=$?
tail -n 3 /tmp/lkp.out | sed 's/\[\( *[0-9]*\.[0-9]*\)\]/guest(\1)/'
cat /tmp/lkp.err
contains linux_kvm_panic_reached /tmp/lkp.out "Kernel panic"
expect_status linux_kvm_panic_resets 75 $st

# --cpus: the bad inputs, each refused (status 2) before anything runs, with its exact message.
bad_cpus() { # NAME MESSAGE ARGS...
    name=$1 msg=$2
    shift 2
    exitscope run "$@" >/tmp/bc.out 2>&1
    st=$?
    if [ $st -eq 2 ] && [ "$(cat /tmp/bc.out)" = "$msg" ]; then pass "$name"
    else fail "$name" "status $st: $(cat /tmp/bc.out)"; fi
}
range="give 1 to 16 vCPUs (16 is the most the MP table lists)"
bad_cpus linux_kvm_smp_cpus_0_refused "exitscope: --cpus 0: $range" \
    --backend kvm --kernel /vmlinuz --cpus 0
bad_cpus linux_kvm_smp_cpus_17_refused "exitscope: --cpus 17: $range" \
    --backend kvm --kernel /vmlinuz --cpus 17
bad_cpus linux_kvm_smp_nolapic_refused "exitscope: --cpus 2 needs the local APIC: drop nolapic \
from --append (several vCPUs boot with acpi=ht noapic)" \
    --backend kvm --kernel /vmlinuz --cpus 2 --append "$append"
bad_cpus linux_kvm_smp_toy_guest_refused \
    "exitscope: --cpus needs --kernel BZIMAGE: toy images run on one vCPU (drop --cpus)" \
    --backend kvm --cpus 2 /guests/hello-real.bin

# Two vCPUs under KVM (its in-kernel local APICs, INIT/SIPI; the ACPI MADT at 0xE0000 and the MP
# table at 0xF0000): the SMP command line reads the MADT (acpi=ht: Debian's cloud kernels have no
# MP-table parser) and keeps the local APIC (noapic, not nolapic), and asks /init for its SMP
# lines; without quiet, so that the kernel's "smp: Brought up" (an info line) reaches the console.
smp_append="$(echo "${append%nolapic}" | sed 's/ quiet / /; s/acpi=off/acpi=ht/')noapic exitscope_smp=1"
kvm_boot lks "2-vCPU linux boot" --cpus 2 --append "$smp_append"
contains linux_kvm_smp_brought_up /tmp/lks.out "smp: Brought up 1 node, 2 CPUs"
contains linux_kvm_smp_online /tmp/lks.out "exitscope-guest: CPUs online 0-1"
if grep -Eq '^ *LOC: +[1-9][0-9]* +[1-9][0-9]* ' /tmp/lks.out; then pass linux_kvm_smp_loc_both_cpus
else fail linux_kvm_smp_loc_both_cpus "$(grep -E '^ *LOC:' /tmp/lks.out)"; fi
grep -E '^ *(CPU0|LOC|RES|CAL):? ' /tmp/lks.out | head -n 8
for c in 0 1; do
    contains "linux_kvm_smp_leafstat_cpu$c" /tmp/lks.out "^CPU $c:"
done
if grep -Eq '^  0x4ffffffe 0x01: eax=0x[0-9a-f]{8} ebx=0x[0-9a-f]{8} ecx=0x[0-9a-f]{8} edx=0x[0-9a-f]{8}' \
    /tmp/lks.out && [ "$(grep -c '^  0x4ffffffe 0x01: ' /tmp/lks.out)" -eq 2 ]; then
    pass linux_kvm_smp_leafstat_rows
else fail linux_kvm_smp_leafstat_rows "$(grep '0x4ffffffe 0x01:' /tmp/lks.out)"; fi
contains linux_kvm_smp_poweroff_reached /tmp/lks.out "exitscope-guest: powering off"
expect_status linux_kvm_smp_poweroff_ends_run 0 "$st"
contains linux_kvm_smp_summary_halted /tmp/lks.err "^exitscope\[kvm\]: guest halted"
contains linux_kvm_smp_statistics_summed /tmp/lks.err "statistics \(summed over the vCPUs\)"
if grep -Eq "WARNING:|BUG:|Oops" /tmp/lks.out; then fail linux_kvm_smp_guest_healthy "$(grep -E -A3 "WARNING:|BUG:|Oops" /tmp/lks.out | head -n 4)"
else pass linux_kvm_smp_guest_healthy; fi

# SIGINT and SIGTERM mid-boot end every vCPU thread: status 130, the summary names the signal.
for sig in INT TERM; do
    exitscope run --backend kvm --cpus 2 --kernel /vmlinuz --initrd /initramfs.cpio.gz \
        --append "$smp_append" >/tmp/ksig.out 2>/tmp/ksig.err &
    pid=$!
    sleep 8 # past the load: the stop handler is in place once the guest runs
    kill -$sig $pid
    wait $pid
    st=$?
    expect_status "linux_kvm_smp_sig${sig}_mid_boot" 130 $st
    contains "linux_kvm_smp_sig${sig}_summary" /tmp/ksig.err "run interrupted by a signal"
done

# For the record (the README's figures): KVM's exits of a 2-vCPU boot to /init (exitscope_quick=1
# powers off there), per kind as KVM's statistics name them, summed over both vCPUs.
console_boot lkq "${LINUX_SECONDS:-600}" --backend kvm --cpus 2 \
    --append "$(echo "${append%nolapic}" | sed 's/acpi=off/acpi=ht/')noapic exitscope_quick=1" >/dev/null
st=$(cat /tmp/lkq.status)
echo "-- 2-vCPU boot to /init under KVM: status $st; summary:"
cat /tmp/lkq.err
expect_status linux_kvm_smp_quick_boot_ends 0 "$st"

rmmod kvm_intel kvm irqbypass
expect_status linux_kvm_modules_unload 0 $?
if dmesg | grep -Eq "Oops|BUG:|WARNING:|soft lockup"; then fail linux_kvm_host_healthy "$(dmesg | tail -n 5)"
else pass linux_kvm_host_healthy; fi
