# Other Intel generations (tools/emu-run --cpu MODEL): the module loads with what the CPU has and
# says so; what the CPU cannot run is refused with a clear message; the rest runs exactly as on
# the default Haswell model. CPU_MODEL_KIND says what the model lacks:
#   no_ept  VMX without EPT or the EFER controls (Core 2 Penryn): long-mode and Linux guests run
#           under shadow paging (the default there; --paging ept is refused), EFER switched
#           through the MSR-load areas; real and unpaged protected mode refused
#   no_ug   EPT without unrestricted guest (Nehalem/Lynnfield): real and unpaged protected mode
#           refused; long-mode and Linux guests run
#   full    EPT and unrestricted guest (Skylake-X): every toy guest and the Linux guest run
. /tests/lib.sh

kind=${CPU_MODEL_KIND:-full}
load || { fail cpu_model_load "insmod failed: $(dmesg | tail -n 3)"; exit 0; }
pass cpu_model_load
exitscope info --json >/tmp/info.json
expect_status cpu_model_info 0 $?
case $kind in
no_ept) ept=false ug=false ;;
no_ug) ept=true ug=false ;;
*) ept=true ug=true ;;
esac
check cpu_model_info_ept grep -q "\"ept\":$ept" /tmp/info.json
check cpu_model_info_unrestricted_guest grep -q "\"unrestricted_guest\":$ug" /tmp/info.json
# Penryn has no EFER entry/exit controls either: its guests switch EFER through the MSR-load areas.
[ $kind = no_ept ] && check cpu_model_info_no_efer_controls grep -q '"efer_controls":false' /tmp/info.json
case $kind in
no_ept) guests="long mode and Linux" runs=true unpaged=false ;;
no_ug) guests="long mode and Linux" runs=true unpaged=false ;;
*) guests="every mode" runs=true unpaged=true ;;
esac
check cpu_model_info_runs_guests grep -q "\"runs_guests\":$runs,\"runs_unpaged_modes\":$unpaged" /tmp/info.json
exitscope info >/tmp/info.txt
contains cpu_model_info_text_says_which_guests /tmp/info.txt "^Guests: $guests"
# What is cleared before VM entry follows the machine's kernel (emu-run boots it with
# mitigations=off unless the caller appends mitigations=auto: then L1TF asks for an L1D flush,
# in software on Bochs, which has no IA32_FLUSH_CMD).
want=${CPU_MODEL_MITIGATIONS:-nothing (not affected, or mitigations off)}
grep '^Before VM entry' /tmp/info.txt >/tmp/info.entry
same_lines cpu_model_entry_mitigations /tmp/info.entry "Before VM entry (the host kernel's mitigations): $want"

hello() { # MODE: the line hello-MODE.bin prints
    case $1 in
    real) echo "Hello from real mode!" ;;
    protected) echo "Hello from 32-bit protected mode!" ;;
    long) echo "Hello from 64-bit long mode!" ;;
    esac
}
for m in real protected long; do
    t0=$(klog_now)
    exitscope run --mode $m /guests/hello-$m.bin >/tmp/hello.out 2>/tmp/hello.err
    st=$?
    runs=yes
    [ $kind != full ] && [ $m != long ] && runs=no
    if [ $runs = yes ]; then
        expect_status cpu_model_${m}_halts 0 $st
        same_lines cpu_model_${m}_prints /tmp/hello.out "$(hello $m)"
    else
        expect_status cpu_model_${m}_refused 1 $st
        check cpu_model_${m}_prints_nothing test ! -s /tmp/hello.out
        # Penryn runs them under shadow paging, which needs paging on.
        if [ $kind = no_ept ]; then why="shadow paging runs long-mode and Linux guests only"
        else why="this CPU's VMX has no unrestricted guest"; fi
        if klog_since "$t0" | grep -Eq "$why"; then pass cpu_model_${m}_says_why
        else fail cpu_model_${m}_says_why "no '$why' in dmesg: $(klog_since "$t0" | tail -n 2)"; fi
        contains cpu_model_${m}_error_names_errno /tmp/hello.err "Operation not supported"
        # ... and what it means here: what the CPU lacks, and what to do.
        if [ $kind = no_ept ]; then advice="need EPT with unrestricted guest"; else advice="use --mode long"; fi
        contains cpu_model_${m}_error_says_what_to_do /tmp/hello.err "$advice"
    fi
done

# Penryn: shadow paging is the default, and asking for EPT is a clear refusal; the paging
# guests give the same lines under shadow paging as under EPT elsewhere (shadow.sh).
if [ $kind = no_ept ]; then
    t0=$(klog_now)
    exitscope run --mode long --paging ept /guests/hello-long.bin >/tmp/ept.out 2>/tmp/ept.err
    expect_status cpu_model_ept_refused 1 $?
    contains cpu_model_ept_refusal_says_what_to_do /tmp/ept.err "use --paging shadow"
    if klog_since "$t0" | grep -q "has no EPT (4-level, write-back): guests run under shadow paging only"
    then pass cpu_model_ept_refusal_logged
    else fail cpu_model_ept_refusal_logged "$(klog_since "$t0" | tail -n 2)"; fi
    for g in paging-checks paging-rights cpuid-loop-long; do
        exitscope run --mode long --paging shadow /guests/$g.bin >/tmp/$g.shadow 2>/tmp/$g.err
        st=$?
        exitscope run --mode long /guests/$g.bin >/tmp/$g.default 2>/dev/null
        if [ $st = 0 ] && [ -s /tmp/$g.shadow ] && cmp -s /tmp/$g.shadow /tmp/$g.default; then
            pass cpu_model_shadow_$g
        else fail cpu_model_shadow_$g "status $st: $(head -c 300 /tmp/$g.shadow) $(cat /tmp/$g.err)"; fi
    done
fi

# The Linux guest (the kernel and initramfs are added by run-suite's caller): under shadow
# paging on Penryn, its default there.
if [ -f /vmlinuz ]; then
    append="console=ttyS0 earlyprintk=serial nokaslr panic=-1 acpi=off pci=off cryptomgr.notests"
    append="$append 8250.nr_uarts=1 tsc=reliable mitigations=off io_delay=none quiet rdinit=/init"
    append="$append nolapic exitscope_quick=1"
    timeout -s INT "${LINUX_SECONDS:-300}" exitscope run --kernel /vmlinuz \
        --initrd /initramfs.cpio.gz --append "$append" >/tmp/linux.out 2>/tmp/linux.err
    st=$?
    echo "-- linux guest on this model: status $st; $(cat /tmp/linux.err)"
    contains cpu_model_linux_init_runs /tmp/linux.out "exitscope-guest: /init running"
    contains cpu_model_linux_poweroff /tmp/linux.out "exitscope-guest: powering off"
    expect_status cpu_model_linux_ends_run 0 $st
fi

unload
expect_status cpu_model_unload 0 $?
