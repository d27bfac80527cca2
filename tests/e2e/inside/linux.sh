# Booting a Linux bzImage (`exitscope run --kernel`) to a busybox /init that reads the exit
# leaves from user space (tools/guests/leafstat) and powers off: the console markers, the
# leaves against the contract, timer and serial interrupts, a clean end (status 0), the same boot
# under shadow paging (--paging shadow) with its #PF, CR and INVLPG exits counted, a panic
# that resets the machine (status 75), SIGINT and SIGKILL mid-boot, and a healthy host after.
# Needs the kernel at /vmlinuz and the guest initramfs at /initramfs.cpio.gz
# (tests/e2e/run-suite NAME --add KERNEL:/vmlinuz --add build/linux-guest/initramfs.cpio.gz:/initramfs.cpio.gz
# -- linux.sh). LINUX_SECONDS bounds the boot (SIGINT after that many seconds), LINUX_MAX_EXITS
# its exits; LINUX_EXTRA_ARGS is appended to the kernel command line.
. /tests/lib.sh

if [ ! -f /vmlinuz ] || [ ! -f /initramfs.cpio.gz ]; then
    fail linux_kernel_present "no /vmlinuz or /initramfs.cpio.gz: add them with --add"
    exit 0
fi
# The command line of the KVM reference boot (README, "A Linux guest").
append="console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=off pci=off cryptomgr.notests"
append="$append 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init nolapic"
append="$append${LINUX_EXTRA_ARGS:+ $LINUX_EXTRA_ARGS}"

t0=$(klog_now)
# Bad inputs first: each a clear refusal before any VM exists.
load
expect_status load 0 $?
exitscope run --kernel /guests/hello-long.bin >/tmp/bad.out 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "not a bzImage" /tmp/bad.out; then pass linux_not_a_bzimage_refused
else fail linux_not_a_bzimage_refused "status $st: $(cat /tmp/bad.out)"; fi
exitscope run --kernel /vmlinuz --append "$(head -c 4000 /dev/zero | tr '\0' x)" >/tmp/bad.out 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "cmdline_size" /tmp/bad.out; then pass linux_long_cmdline_refused
else fail linux_long_cmdline_refused "status $st: $(cat /tmp/bad.out)"; fi
exitscope run --kernel /vmlinuz --mem 4 >/tmp/bad.out 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "raise --mem" /tmp/bad.out; then pass linux_small_ram_refused
else fail linux_small_ram_refused "status $st: $(cat /tmp/bad.out)"; fi

# linux_boot PAGING NAME: boot to /init and poweroff with `--paging PAGING`, then check the
# console markers and the leaves against the contract; the checks are named NAME_*.
linux_boot() {
    paging=$1 n=$2
    start=$(date +%s)
    # The console shows live in the machine's log. Its timestamps "[ 0.000000]" become
    # "guest( 0.000000)": emu-run scans timestamped lines for the host kernel's trouble (Call
    # Trace, WARNING), and the guest's own are not the host's.
    echo "-- linux boot console (--paging $paging):"
    exitscope reset
    console_boot linux "${LINUX_SECONDS:-300}" --paging "$paging" \
        --max-exits "${LINUX_MAX_EXITS:-5000000}" --append "$append"
    st=$(cat /tmp/linux.status)
    end=$(date +%s)
    echo
    echo "-- linux boot (--paging $paging): status $st after $((end - start)) s"
    echo "-- summary:"
    cat /tmp/linux.err
    exitscope stat >/tmp/linux.stat
    cat /tmp/linux.stat
    exitscope trace --last 16
    contains ${n}_decompressor_prints /tmp/linux.out "KASLR disabled: 'nokaslr' on cmdline"
    contains ${n}_init_runs /tmp/linux.out "exitscope-guest: /init running"
    # /proc/interrupts of the guest: the PIT through the PIC, and COM1 on IRQ 4.
    if grep -Eq '^ *0: +[1-9][0-9]* +XT-PIC +.*timer' /tmp/linux.out; then pass ${n}_timer_ticks
    else fail ${n}_timer_ticks "$(grep -E '^ *0:' /tmp/linux.out)"; fi
    if grep -Eq '^ *4: +[1-9][0-9]* +XT-PIC +.*ttyS0' /tmp/linux.out; then pass ${n}_ttyS0_on_irq4
    else fail ${n}_ttyS0_on_irq4 "$(grep -E '^ *4:' /tmp/linux.out)"; fi
    contains ${n}_poweroff_reached /tmp/linux.out "exitscope-guest: powering off"
    expect_status ${n}_poweroff_ends_run 0 "$st"

    # The leaves as a user-space program in the guest sees them (CONTRACT.md, section 1).
    # Undefined reasons (35, 38, 42, past 77) answer EDX=0xFFFFFFFF, and only they.
    undef=$(sed -n 's/^CPUID(0x4FFFFFFE), exit number \([0-9]*\) .*(undefined.*/\1/p' /tmp/linux.out | tr '\n' ' ')
    if [ "$undef" = "35 38 42 78 79 80 " ]; then pass ${n}_leaves_undefined_reasons
    else fail ${n}_leaves_undefined_reasons "undefined: $undef"; fi
    # leafstat's dump: both per-reason leaves for reasons 0..80, 162 lines, none of another shape.
    nleaf=$(grep -c '^CPUID(0x4FFFFFF[EF]), exit number ' /tmp/linux.out)
    if [ "$nleaf" = 162 ] && ! grep -q "(unexpected" /tmp/linux.out; then pass ${n}_leaves_shapes
    else fail ${n}_leaves_shapes "$nleaf leaf lines (wanted 162): $(grep '(unexpected' /tmp/linux.out | head -n 3)"; fi
    # Reasons `exitscope reasons` lists as not enabled answer all zeros. Bochs's Haswell model:
    # 75 defined, 37 enabled (guests.sh checks which), so 38 to look at; under shadow paging
    # INVLPG (14) is enabled too, so 37.
    ok=1
    off=$(exitscope reasons | awk '$3 == "yes" && $4 == "no" { print $1 }')
    want=38
    if [ "$paging" = shadow ]; then
        off=$(echo $off | tr ' ' '\n' | grep -vx 14)
        want=37
    fi
    [ "$(echo $off | wc -w)" = $want ] || { ok=0; echo "defined but not enabled: $off"; }
    for r in $off; do
        if ! grep -q "^CPUID(0x4FFFFFFE), exit number $r exits=0 (" /tmp/linux.out; then
            ok=0
            echo "reason $r: $(grep "^CPUID(0x4FFFFFFE), exit number $r " /tmp/linux.out)"
        fi
    done
    check ${n}_leaves_disabled_reasons_zero [ "$ok" = 1 ]
    # 1000 queries of 0x4FFFFFFC in a row: the total moves by 1000, plus the "after" query
    # itself, plus the interrupts (and their exits) that arrived meanwhile.
    diff=$(sed -n 's/^leafstat: repeat=1000 difference=\([0-9]*\) .*/\1/p' /tmp/linux.out)
    echo "-- 1000 queries of 0x4FFFFFFC moved the total by ${diff:-?}"
    if [ -n "$diff" ] && [ "$diff" -ge 1001 ] && [ "$diff" -lt 1500 ]; then pass ${n}_leaves_repeat
    else fail ${n}_leaves_repeat "difference ${diff:-missing}"; fi
    cpuid_count=$(sed -n 's/^CPUID(0x4FFFFFFE), exit number 10 exits=\([0-9]*\).*/\1/p' /tmp/linux.out)
    if [ -n "$cpuid_count" ] && [ "$cpuid_count" -gt 1000 ]; then pass ${n}_leaves_cpuid_count
    else fail ${n}_leaves_cpuid_count "reason 10: ${cpuid_count:-missing}"; fi
}

# leaf_count REASON: the guest's own reading of a reason's exits (leafstat's dump).
leaf_count() {
    sed -n "s/^CPUID(0x4FFFFFFE), exit number $1 exits=\([0-9]*\).*/\1/p" /tmp/linux.out
}

linux_boot ept linux
ept_pf=$(leaf_count 0)

# The course's third question, how the count grows over the boot: `record` samples the counters
# while the guest boots (CSV: time_ms, reason, name, count, cycles); the total per sample shows it.
exitscope reset
timeout -s INT 300 exitscope record --interval 500 -o /tmp/boot.csv -- --kernel /vmlinuz \
    --initrd /initramfs.cpio.gz --append "$append" >/dev/null 2>/tmp/record.err
expect_status linux_record_boot 0 $?
echo "-- exits over the boot (record --interval 500: time ms, total exits so far, top reason)"
awk -F, 'NR > 1 { t[$1] += $4; if ($4 > top[$1]) { top[$1] = $4; name[$1] = $3 } }
    END { for (k in t) print k, t[k], name[k] }' /tmp/boot.csv | sort -n | tee /tmp/boot.series
samples=$(wc -l </tmp/boot.series)
last=$(tail -n 1 /tmp/boot.series | cut -d" " -f2)
if [ "$samples" -ge 3 ] && [ "${last:-0}" -gt 10000 ]; then pass linux_record_series
else fail linux_record_series "$samples samples, last total ${last:-none}"; fi

# A kernel that cannot find its init panics; with panic=-1 it resets the machine at once.
timeout -s INT 300 exitscope run --kernel /vmlinuz --initrd /initramfs.cpio.gz \
    --append "${append%rdinit=/init nolapic} rdinit=/no-such-init root=/dev/no-such-disk nolapic" \
    >/tmp/panic.out 2>/tmp/panic.err
st=$?
tail -n 3 /tmp/panic.out
cat /tmp/panic.err
contains linux_panic_reached /tmp/panic.out "Kernel panic"
expect_status linux_panic_resets 75 $st

# Interrupted mid-boot: SIGINT stops the VM cleanly (130); SIGKILL ends the process; the module
# unloads after both.
for sig in INT KILL; do
    exitscope run --kernel /vmlinuz --initrd /initramfs.cpio.gz --append "$append" \
        >/tmp/sig.out 2>&1 &
    pid=$!
    sleep 4
    kill -$sig $pid
    wait $pid
    st=$?
    case $sig in
    INT) expect_status linux_sigint_mid_boot 130 $st ;;
    KILL) expect_status linux_sigkill_mid_boot 137 $st ;;
    esac
done
# The same boot under shadow paging (the kernel's virtual TLB): the same markers and answers, and
# the exits shadow paging adds are counted in the guest's own reading: #PF (0, where EPT has
# none), CR access (28) and INVLPG (14).
linux_boot shadow linux_shadow
pf=$(leaf_count 0)
cr=$(leaf_count 28)
inv=$(leaf_count 14)
echo "-- shadow paging, by /init's leaves: #PF ${pf:-?} (EPT ${ept_pf:-?}), CR access ${cr:-?}, INVLPG ${inv:-?}"
if [ "${ept_pf:-x}" = 0 ] && [ "${pf:-0}" -gt 1000 ] && [ "${cr:-0}" -gt 100 ] && [ "${inv:-0}" -gt 0 ]; then
    pass linux_shadow_exits_counted
else fail linux_shadow_exits_counted "#PF ${pf:-?} (EPT ${ept_pf:-?}), CR ${cr:-?}, INVLPG ${inv:-?}"; fi

exitscope run /guests/hello-long.bin --mode long >/tmp/after.out 2>&1
expect_status linux_toy_guest_after_boot 0 $?
unload
expect_status linux_unload_after_boot 0 $?
if klog_since "$t0" | grep -Eq "Oops|BUG:|WARNING:|soft lockup"; then
    fail linux_host_healthy "$(klog_since "$t0" | grep -E "Oops|BUG:|WARNING:|soft lockup" | head -n 3)"
else pass linux_host_healthy; fi
