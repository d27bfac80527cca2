#!/bin/sh
# Inside the emulated machine, for tests/bench/paging: the same Linux boot (the machine's kernel,
# the busybox /init of build/linux-guest, the command line of linux.sh) under Exitscope with EPT
# and with shadow paging, and under KVM with ept=1 and ept=0, each twice: to /init
# (exitscope_quick=1) and with the lab workload (exitscope_workload=1). Prints "PAGING <run>
# <key> <value>" lines; tests/bench/paging makes the table. es-ept-nofs is the EPT boot with
# clearcpuid=erms,rep_good: the string routines KVM's guest picks (KVM's IA32_MISC_ENABLE has
# fast strings off, Exitscope's on; README "EPT vs shadow paging"). PAGING_RUNS (space-separated run
# names) picks some of the runs; PAGING_SECONDS bounds each boot (SIGINT after it).
# PAGING_PREFETCH (space-separated windows, e.g. "0 8 16 512") adds the shadow boots once more
# per window, the module loaded with shadow_prefetch=N: runs es-shadow-pfN-quick/-workload.
append="console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=off pci=off cryptomgr.notests"
append="$append 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init nolapic"
runs=${PAGING_RUNS:-"es-ept es-shadow es-ept-nofs kvm-ept1 kvm-ept0"}
wanted() { case " $runs " in *" $1 "*) return 0 ;; esac; return 1; }
note() { echo "paging-bench: $(date +%T) $*"; }

# One boot: tag, kernel words, run options. The console's markers and the summary's exits.
boot() {
    tag=$1 words=$2
    shift 2
    note "$tag starts"
    # 256 MiB: room for the workload's 64 MiB tmpfs file beside the initramfs (paging-lab.sh).
    timeout -s INT "${PAGING_SECONDS:-1500}" exitscope run --mem 256 "$@" --kernel /vmlinuz \
        --initrd /initramfs.cpio.gz --append "$append $words" >/tmp/p.out 2>/tmp/p.err
    st=$?
    # The serial console ends its lines with CR LF.
    tr -d '\r' </tmp/p.out >/tmp/p.txt && mv /tmp/p.txt /tmp/p.out
    note "$tag ended with status $st"
    echo "PAGING $tag status $st"
    if [ "$st" != 0 ]; then
        echo "PAGING $tag why $(grep -v '^exitscope.*: last exits' /tmp/p.err | head -n 1)"
        tail -n 5 /tmp/p.out | sed 's/\[\( *[0-9]*\.[0-9]*\)\]/guest(\1)/'
    fi
    sed -n "s/^exitscope-guest: .init running at \([0-9.]*\) s.*/PAGING $tag init_s \1/p" /tmp/p.out
    sed -n "s/^exitscope-guest: workload start at \([0-9.]*\) s/PAGING $tag wl_start_s \1/p
        s/^exitscope-guest: workload forks [0-9]* done at \([0-9.]*\) s/PAGING $tag wl_forks_s \1/p
        s/^exitscope-guest: workload end at \([0-9.]*\) s.*/PAGING $tag wl_end_s \1/p" /tmp/p.out
    # Exitscope: "exitscope: guest halted: N exits, ..."; KVM: "... (KVM counted: exits N, ...)".
    sed -n "s/.*KVM counted: exits \([0-9]*\),.*/PAGING $tag exits \1/p
        s/^exitscope: .*: \([0-9]*\) exits, .*/PAGING $tag exits \1/p
        s/^exitscope\[kvm\]: KVM's nonzero vCPU statistics: \(.*\)/PAGING $tag kvm_stats \1/p" \
        /tmp/p.err
    # The summary's paging: "; paging: ept|shadow" (Exitscope), "; KVM paging: ept|shadow".
    sed -n "s/.*; \(KVM \)*paging: \([a-z]*\)$/PAGING $tag paging \2/p" /tmp/p.err
}

# Exitscope's exits of the last run by reason (stat after a reset), most frequent first:
# "PAGING <run> reason <key> <count> <mean cycles>".
reasons() {
    exitscope stat | awk -v t="$1" '$1 ~ /^[0-9]+$/ {
        c = $3; m = $8; gsub(",", "", c); gsub(",", "", m); print "PAGING", t, "reason", $2, c, m }'
}

# KVM's mean cycles per #PF exit (vector 14 of EXCEPTION_NMI) of the last run, from the kvm_exit
# and kvm_entry tracepoints on the TSC clock: from the exit's tracepoint (in vmx_handle_exit) to
# the next entry's (before the VM entry), so it leaves out KVM's entry and exit stubs and
# includes one tracepoint's own cost.
kvm_pf_cycles() {
    # busybox grep first: awk over every line of the trace is slow in the emulated machine.
    grep -A1 ' reason EXCEPTION_NMI .*intr_info 0x80000[0-9a-f]0e ' /sys/kernel/tracing/trace |
        awk -v t="$1" '
        /kvm_exit: / { s = $0; sub(/.*\] [^ ]* /, "", s); ts = s + 0; next }
        /kvm_entry: / { s = $0; sub(/.*\] [^ ]* /, "", s)
            if (ts) { n++; sum += s - ts } ts = 0 }
        END { if (n) printf "PAGING %s kvm_pf %d %d\n", t, n, sum / n }'
}

if wanted es-ept || wanted es-shadow || wanted es-ept-nofs; then
    insmod /exitscope.ko || exit 1
    exitscope info | grep -i '^paging' | sed 's/^/PAGING info /'
    for mode in ept shadow; do
        wanted "es-$mode" || continue
        for kind in quick workload; do
            exitscope reset
            boot "es-$mode-$kind" "exitscope_$kind=1" --paging "$mode"
            reasons "es-$mode-$kind"
            echo "PAGING es-$mode-$kind stat_paging $(exitscope stat --json | sed -n 's/.*"paging":\([a-z"]*\)}$/\1/p')"
        done
    done
    if wanted es-ept-nofs; then
        for kind in quick workload; do
            exitscope reset
            boot "es-ept-nofs-$kind" "exitscope_$kind=1 clearcpuid=erms,rep_good" --paging ept
            reasons "es-ept-nofs-$kind"
        done
    fi
    rmmod exitscope
fi

if wanted kvm-ept1 || wanted kvm-ept0; then
    insmod /lib/modules/kvm/irqbypass.ko && insmod /lib/modules/kvm/kvm.ko || exit 1
    if [ -e /sys/module/kvm/parameters/enable_virt_at_load ]; then
        rmmod kvm && insmod /lib/modules/kvm/kvm.ko enable_virt_at_load=0 || exit 1
    fi
    for ept in 1 0; do
        wanted "kvm-ept$ept" || continue
        insmod /lib/modules/kvm/kvm-intel.ko ept=$ept || exit 1
        echo "PAGING kvm-ept$ept param $(cat /sys/module/kvm_intel/parameters/ept)"
        # --paging is checked against the parameter: the other mode is refused with the reload.
        if [ "$ept" = 1 ]; then want=ept other=shadow; else want=shadow other=ept; fi
        exitscope run --backend kvm --paging $other --kernel /vmlinuz >/dev/null 2>/tmp/p.err
        echo "PAGING kvm-ept$ept refusal $? $(cat /tmp/p.err)"
        for kind in quick workload; do
            boot "kvm-ept$ept-$kind" "exitscope_$kind=1" --backend kvm --paging $want
        done
        # The #PF cost under KVM's shadow paging: one more boot to /init, traced.
        if [ "$ept" = 0 ] && mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
            tr=/sys/kernel/tracing
            echo x86-tsc >$tr/trace_clock
            echo 65536 >$tr/buffer_size_kb
            echo 1 >$tr/events/kvm/kvm_exit/enable
            echo 1 >$tr/events/kvm/kvm_entry/enable
            boot kvm-ept0-traced exitscope_quick=1 --backend kvm
            echo 0 >$tr/events/kvm/enable
            kvm_pf_cycles kvm-ept0-traced
            echo >$tr/trace
        fi
        rmmod kvm_intel
    done
fi
for window in ${PAGING_PREFETCH:-}; do
    insmod /exitscope.ko shadow_prefetch="$window" || exit 1
    for kind in quick workload; do
        exitscope reset
        boot "es-shadow-pf$window-$kind" "exitscope_$kind=1" --paging shadow
        reasons "es-shadow-pf$window-$kind"
    done
    rmmod exitscope
done
note done
