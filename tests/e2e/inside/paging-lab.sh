# The paging lab (issue 18): the paging named by `info`, `run`'s summary and `stat` (text and
# --json, per VM kind since a reset), the lab workload of the Linux guest's /init
# (exitscope_workload=1: its markers, then power off), and `--backend kvm --paging` checked
# against kvm_intel's ept parameter (the refusal names the reload; a match runs).
# Needs /vmlinuz and /initramfs.cpio.gz (tests/e2e/run-suite NAME --add @kernel:/vmlinuz --add
# build/linux-guest/initramfs.cpio.gz:/initramfs.cpio.gz -- paging-lab.sh); LINUX_SECONDS bounds
# the boot (SIGINT after that many seconds).
. /tests/lib.sh

append="console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=off pci=off cryptomgr.notests"
append="$append 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init nolapic"

load
expect_status paging_load 0 $?
exitscope info >/tmp/info.txt
contains paging_info_names_modes /tmp/info.txt "^Paging: ept, shadow \(run --paging ept\|shadow; default ept\)$"
exitscope info --json >/tmp/info.json
contains paging_info_json /tmp/info.json '"paging":"ept","paging_modes":\["ept","shadow"\]'

exitscope reset
exitscope stat --json >/tmp/stat.json
contains paging_stat_null_after_reset /tmp/stat.json '"paging":null}$'
exitscope run --mode long --paging shadow /guests/hello-long.bin >/dev/null 2>/tmp/hl.err
expect_status paging_shadow_toy_halts 0 $?
contains paging_summary_shadow /tmp/hl.err "^exitscope: guest halted: [0-9]+ exits, [0-9]+ cycles in the hypervisor; paging: shadow$"
exitscope stat --json >/tmp/stat.json
contains paging_stat_json_shadow /tmp/stat.json '"paging":"shadow"}$'
exitscope stat >/tmp/stat.txt
contains paging_stat_text_shadow /tmp/stat.txt "^Paging: shadow$"
exitscope run --mode long /guests/hello-long.bin >/dev/null 2>/tmp/hl.err
contains paging_summary_ept_default /tmp/hl.err "; paging: ept$"
exitscope stat --json >/tmp/stat.json
contains paging_stat_json_both /tmp/stat.json '"paging":"ept\+shadow"}$'
exitscope reset
exitscope run --mode long --paging ept /guests/hello-long.bin >/dev/null 2>&1
exitscope stat --json >/tmp/stat.json
contains paging_stat_json_ept_after_reset /tmp/stat.json '"paging":"ept"}$'

# The lab workload under EPT: the four markers in order, then power off.
exitscope reset
# 256 MiB: the 64 MiB tmpfs file beside the initramfs (Debian's cpuid and its libraries included)
# leaves the default 128 MiB guest too little room.
timeout -s INT "${LINUX_SECONDS:-900}" exitscope run --mem 256 --kernel /vmlinuz --initrd /initramfs.cpio.gz \
    --append "$append exitscope_workload=1" >/tmp/wl.out 2>/tmp/wl.err
st=$?
# The serial console ends its lines with CR LF.
tr -d '\r' </tmp/wl.out >/tmp/wl.txt
mv /tmp/wl.txt /tmp/wl.out
grep -E "exitscope-guest:" /tmp/wl.out
cat /tmp/wl.err
expect_status paging_workload_powers_off 0 $st
markers=$(sed -n 's/^exitscope-guest: \(workload [a-z]*\).*/\1/p; s/^exitscope-guest: \(powering off\)/\1/p' /tmp/wl.out | tr '\n' ,)
if [ "$markers" = "workload start,workload forks,workload memory,workload end,powering off," ]; then
    pass paging_workload_markers_in_order
else fail paging_workload_markers_in_order "markers: $markers"; fi
contains paging_workload_forks_300 /tmp/wl.out "^exitscope-guest: workload forks 300 done at [0-9.]+ s$"
contains paging_workload_memory_64 /tmp/wl.out "^exitscope-guest: workload memory 64 MiB done at [0-9.]+ s$"
contains paging_workload_took /tmp/wl.out "^exitscope-guest: workload end at [0-9.]+ s \(took [0-9]+\.[0-9]{2} s\)$"
if grep -q "leafstat" /tmp/wl.out; then fail paging_workload_skips_leaf_dump "leafstat ran"
else pass paging_workload_skips_leaf_dump; fi
unload
expect_status paging_unload 0 $?

# --backend kvm --paging: checked against kvm_intel's ept parameter.
if kvm_load_idle 2>/tmp/insmod.err; then
    exitscope run --backend kvm --paging shadow --mode long /guests/hello-long.bin >/tmp/k.out 2>/tmp/k.err
    st=$?
    cat /tmp/k.err
    expect_status paging_kvm_mismatch_refused 2 $st
    contains paging_kvm_mismatch_names_reload /tmp/k.err "KVM runs with ept paging \(kvm_intel ept=Y\); reload it with \`modprobe -r kvm_intel && modprobe kvm_intel ept=0\`"
    exitscope run --backend kvm --paging ept --mode long /guests/hello-long.bin >/dev/null 2>/tmp/k.err
    expect_status paging_kvm_match_runs 0 $?
    contains paging_kvm_summary_names_paging /tmp/k.err "; KVM paging: ept$"
    rmmod kvm_intel && insmod /lib/modules/kvm/kvm-intel.ko ept=0
    exitscope run --backend kvm --paging shadow --mode long /guests/hello-long.bin >/dev/null 2>/tmp/k.err
    expect_status paging_kvm_ept0_shadow_runs 0 $?
    contains paging_kvm_ept0_summary /tmp/k.err "; KVM paging: shadow$"
    rmmod kvm_intel kvm irqbypass
else
    fail paging_kvm_modules_load "insmod: $(cat /tmp/insmod.err)"
fi
rmmod kvm_intel 2>/dev/null
exitscope run --backend kvm --paging ept --mode long /guests/hello-long.bin >/dev/null 2>/tmp/k.err
st=$?
expect_status paging_kvm_unloaded_refused 2 $st
contains paging_kvm_unloaded_says_why /tmp/k.err "cannot tell which paging KVM uses: cannot read /sys/module/kvm_intel/parameters/ept"
