# Shadow paging (--paging shadow, the kernel's virtual TLB): the same guests print the same lines
# as under EPT; only the exits differ (#PF exception exits and CR accesses under shadow only).
. /tests/lib.sh

load || { fail load "insmod failed"; exit 0; }

# exits_line LABEL: the exits since the last reset that differ between the modes (for the log).
exits_line() {
    exitscope stat --json >/tmp/ex.json
    echo "exits $1: total $(json_field /tmp/ex.json count | tail -n 1)" \
        "exception $(reason_count /tmp/ex.json 0) INVLPG $(reason_count /tmp/ex.json 14)" \
        "CR $(reason_count /tmp/ex.json 28) I/O $(reason_count /tmp/ex.json 30)" \
        "CPUID $(reason_count /tmp/ex.json 10)"
}

paging_lines() {
    same_lines "$1" "$2" \
        "read-only write: #PF error 0x00000003 cr2 0x00030008" \
        "not-present read: #PF error 0x00000000 cr2 0x00031010" \
        "cr3 after switch: 0x00015000" \
        "switched page under B: 0x22222222" \
        "switched page under A: 0x11111111" \
        "before remap: 0x33333333" \
        "after remap and invlpg: 0x44444444" \
        "A/D fresh: 0x00000000" \
        "A/D after read: 0x00000020" \
        "A/D after write: 0x00000060" \
        "paging checks done"
}

for p in ept shadow; do
    exitscope reset
    exitscope run --mode long --paging $p /guests/paging-checks.bin >/tmp/pc.out 2>/tmp/pc.err
    expect_status paging_checks_${p}_halts 0 $?
    paging_lines paging_checks_${p}_prints /tmp/pc.out
    exitscope stat --json >/tmp/pc_$p.json
    exits_line "paging-checks $p"
done
# The guest's own #PFs stay in the guest under EPT (its exception bitmap is empty); MOV CR3 and
# INVLPG do not exit there.
pf_ept=$(reason_count /tmp/pc_ept.json 0) cr_ept=$(reason_count /tmp/pc_ept.json 28)
inv_ept=$(reason_count /tmp/pc_ept.json 14)
pf_sh=$(reason_count /tmp/pc_shadow.json 0) cr_sh=$(reason_count /tmp/pc_shadow.json 28)
inv_sh=$(reason_count /tmp/pc_shadow.json 14)
if [ "$pf_ept" = 0 ] && [ "$cr_ept" = 0 ] && [ "$inv_ept" = 0 ]; then pass ept_no_pf_cr_invlpg_exits
else fail ept_no_pf_cr_invlpg_exits "exception $pf_ept, CR $cr_ept, INVLPG $inv_ept"; fi
if [ "${pf_sh:-0}" -gt 0 ] && [ "${cr_sh:-0}" -ge 3 ] && [ "${inv_sh:-0}" -ge 2 ]; then
    pass shadow_pf_cr_invlpg_exits
else fail shadow_pf_cr_invlpg_exits "exception $pf_sh, CR $cr_sh, INVLPG $inv_sh"; fi

rights_lines() {
    same_lines "$1" "$2" \
        "user read of a supervisor page: #PF error 0x00000005 cr2 0x00030000" \
        "XD without NXE: #PF error 0x00000009 cr2 0x00031000" \
        "fetch from an XD page: #PF error 0x00000011 cr2 0x00032000" \
        "WP=0 write to a read-only page: #PF error 0xffffffff cr2 0x00000000" \
        "read-only page now holds 0x55555555" \
        "2 MiB page at +0x40000: 0x11111111" \
        "after the split and INVLPG elsewhere in it: 0x22222222" \
        "global page: 0x33333333" \
        "remapped, PGE off: 0x44444444" \
        "paging rights done"
}
for p in ept shadow; do
    exitscope reset
    timeout -s INT 60 exitscope run --mode long --paging $p /guests/paging-rights.bin \
        >/tmp/pr.out 2>/tmp/pr.err
    expect_status paging_rights_${p}_halts 0 $?
    rights_lines paging_rights_${p}_prints /tmp/pr.out
    exits_line "paging-rights $p"

done

# The other long-mode toy guests, unchanged under shadow paging.
for p in ept shadow; do
    exitscope reset
    exitscope run --mode long --paging $p /guests/hello-long.bin >/tmp/hl.out 2>/tmp/hl.err
    st=$?
    exits_line "hello-long $p"
done
expect_status hello_long_shadow_halts 0 $st
same_lines hello_long_shadow_prints /tmp/hl.out "Hello from 64-bit long mode!"
for p in ept shadow; do
    exitscope reset
    exitscope run --mode long --paging $p /guests/cpuid-loop-long.bin >/tmp/cl.out 2>/dev/null
    expect_status cpuid_loop_long_${p}_halts 0 $?
    exits_line "cpuid-loop-long $p"
    same_lines cpuid_loop_long_${p}_exact_count /tmp/cl.out \
        "cpuid-loop-long: ran 1000 CPUIDs, leaf 0x4FFFFFFE says 1001"
done
# cpuid-loop.bin itself is a real-mode guest: shadow paging refuses it (below).

# Hostile guests under shadow paging. A pool-exhaustion storm (4 GiB of distinct regions, a
# self-mapping PML4 entry) prints the same under both; CR3 outside RAM stops the run as the EPT
# mode does (the walk's first read, the PML4 entry at 0x40000000); the guest's own 9000 faults.
for p in ept shadow; do
    exitscope reset
    timeout -s INT 300 exitscope run --mode long --paging $p /guests/hostile-shadow-pool.bin \
        >/tmp/sp.out 2>/tmp/sp.err
    expect_status shadow_pool_storm_${p}_halts 0 $?
    same_lines shadow_pool_storm_${p}_prints /tmp/sp.out "shadow-pool: reads 4088, wrong 0" \
        "self-mapped PML4 entry 0: 0x00011003"
    exits_line "hostile-shadow-pool $p"

done
timeout -s INT 60 exitscope run --mode long --paging shadow /guests/hostile-ept-walk.bin \
    >/tmp/hw.out 2>/tmp/hw.err
expect_status shadow_cr3_outside_ram_status 73 $?
contains shadow_cr3_outside_ram_summary /tmp/hw.err '^exitscope: guest accessed guest-physical 0x40000000, outside its RAM'
timeout -s INT 120 exitscope run --mode long --paging shadow /guests/hostile-fault-storm.bin \
    >/tmp/fs.out 2>/tmp/fs.err
expect_status shadow_fault_storm_status 0 $?
same_lines shadow_fault_storm_prints /tmp/fs.out "fault-storm: exceptions handled in the guest: 9000"

# Refusals: shadow paging runs long-mode and Linux guests only, and run says why.
exitscope run --paging shadow /guests/cpuid-loop.bin >/tmp/ref.out 2>/tmp/ref.err
st=$?
if [ $st != 0 ]; then pass shadow_refuses_real_cpuid_loop; else fail shadow_refuses_real_cpuid_loop "exit status 0"; fi
for m in real protected; do
    exitscope run --mode $m --paging shadow /guests/hello-$m.bin >/tmp/ref.out 2>/tmp/ref.err
    st=$?
    if [ $st != 0 ]; then pass shadow_refuses_$m; else fail shadow_refuses_$m "exit status 0"; fi
done
dmesg | grep -q 'shadow paging runs long-mode and Linux guests only' && pass shadow_refusal_logged ||
    fail shadow_refusal_logged "no dmesg line"
grep -q 'need EPT with unrestricted guest' /tmp/ref.err && pass shadow_refusal_explained ||
    fail shadow_refusal_explained "$(cat /tmp/ref.err)"

# `reasons --paging shadow`: INVLPG (14) is enabled for a shadow-paging VM, not for an EPT VM.
invlpg_enabled() { exitscope reasons --json "$@" | tr '{' '\n' | grep -c '^"reason":14,.*"enabled":true'; }
if [ "$(invlpg_enabled --paging shadow)" = 1 ] && [ "$(invlpg_enabled)" = 0 ]; then
    pass shadow_reasons_by_paging
else
    fail shadow_reasons_by_paging "INVLPG enabled: shadow $(invlpg_enabled --paging shadow), ept $(invlpg_enabled)"
fi
unload && pass unload || fail unload "rmmod failed"
