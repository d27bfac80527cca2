# The exit leaves and statistics stay exact while VMs move between CPUs (taskset -p on the
# running CLI), in both scopes, with two VMs at once and across a global reset; the host gets its
# turn within a few slices of host time even from a guest that exits all the time.
. /tests/lib.sh

ncpu=$(grep -c ^processor /proc/cpuinfo)

# field FILE NAME: the number after NAME on leaf-check's line.
field() { sed -n "s/^leaf-check:.* $2 \([0-9]*\).*/\1/p" "$1"; }

# check_vm_scope NAME OUT STAT: in the VM's own scope the CPUID leaf is exact, and the total leaf
# differs from what the guest caused only by the exits it did not cause (interrupts, timer).
check_vm_scope() {
    c=$(field "$2" executed) t=$(field "$2" total) r=$(field "$2" cpuid)
    s=$(sed -n 's/.*"total":{"count":\([0-9]*\).*/\1/p' "$3")
    io=$(reason_count "$3" 30)
    async=$(($(reason_count "$3" 1) + $(reason_count "$3" 52)))
    before=$((t - (c - 1)))          # exits the guest did not cause, before its total query
    after=$((s - t - 1 - io - 1))    # the same after it: total - query - console bytes - HLT
    if [ -n "$c" ] && [ "$r" = "$c" ] && [ "$before" -ge 0 ] && [ "$after" -ge 0 ] &&
        [ $((before + after)) -le "$async" ]; then
        pass "$1"
    else
        fail "$1" "executed $c cpuid leaf $r total leaf $t; stat total $s, I/O $io, async $async"
    fi
}

load || { fail load "insmod failed"; exit 0; }

# VM scope, one VM moved between CPUs all along its run.
exitscope reset
exitscope run /guests/leaf-check-long.bin >/tmp/long.out 2>/dev/null &
pid=$!
moves=$(hop $pid)
wait $pid
expect_status leaves_vm_scope_moving_vm_halts 0 $?
exitscope stat --json >/tmp/stat.json
check_vm_scope leaves_vm_scope_exact_while_moving /tmp/long.out /tmp/stat.json
if [ "$ncpu" -ge 2 ]; then
    # Each CPU ran part of it; the CPU scope adds up to the whole.
    exitscope stat --cpu 0 --json >/tmp/cpu0.json
    exitscope stat --cpu 1 --json >/tmp/cpu1.json
    c0=$(reason_count /tmp/cpu0.json 10) c1=$(reason_count /tmp/cpu1.json 10)
    all=$(reason_count /tmp/stat.json 10)
    if [ "$moves" -ge 2 ] && [ "$c0" -gt 0 ] && [ "$c1" -gt 0 ] && [ $((c0 + c1)) = "$all" ]; then
        pass stat_cpu_scopes_add_up_after_moves
    else fail stat_cpu_scopes_add_up_after_moves "$moves moves; CPU 0 $c0 + CPU 1 $c1 vs $all"; fi
fi

# Two VMs at once, the long one moving: each sees its own exact count.
exitscope reset
exitscope run /guests/leaf-check-long.bin >/tmp/long.out 2>/dev/null &
pl=$!
exitscope run /guests/leaf-check-short.bin >/tmp/short.out 2>/dev/null
ss=$?
hop $pl >/dev/null
wait $pl
sl=$?
rl=$(field /tmp/long.out cpuid) cl=$(field /tmp/long.out executed)
rs=$(field /tmp/short.out cpuid) cs=$(field /tmp/short.out executed)
# The guests print what they executed: 100 x 10000 + 2 and 2 x 10000 + 2 CPUIDs (leaf-check.inc).
if [ $ss = 0 ] && [ $sl = 0 ] && [ "$cl" = 1000002 ] && [ "$cs" = 20002 ] && [ "$rl" = "$cl" ] && [ "$rs" = "$cs" ]; then
    pass leaves_vm_scope_two_vms_exact
else fail leaves_vm_scope_two_vms_exact "status $ss/$sl; long $rl of $cl, short $rs of $cs"; fi
exitscope stat --json >/tmp/stat.json
if [ "$(reason_count /tmp/stat.json 10)" = $((cl + cs)) ]; then pass stat_two_vms_exact
else fail stat_two_vms_exact "CPUID $(reason_count /tmp/stat.json 10), wanted $((cl + cs))"; fi
unload

# Global scope: the long VM, moving, sees the short one's exits too (it ended long before).
load cpuid_scope=global
exitscope run /guests/leaf-check-long.bin >/tmp/long.out 2>/dev/null &
pl=$!
exitscope run /guests/leaf-check-short.bin >/tmp/short.out 2>/dev/null
hop $pl >/dev/null
wait $pl
rl=$(field /tmp/long.out cpuid) cl=$(field /tmp/long.out executed)
rs=$(field /tmp/short.out cpuid) cs=$(field /tmp/short.out executed)
if [ -n "$rl" ] && [ "$rl" = $((cl + cs)) ] && [ "$rs" -ge "$cs" ] && [ "$rs" -le $((cs + cl)) ]; then
    pass leaves_global_scope_two_vms_exact
else fail leaves_global_scope_two_vms_exact "long $rl (wanted $((cl + cs))), short $rs of $cs"; fi
tl=$(field /tmp/long.out total)
exitscope stat --json >/tmp/stat.json
s=$(sed -n 's/.*"total":{"count":\([0-9]*\).*/\1/p' /tmp/stat.json)
if [ "$tl" -ge $((cl + cs - 1)) ] && [ "$tl" -lt "$s" ]; then pass leaves_global_total_within_stat
else fail leaves_global_total_within_stat "total leaf $tl, guests' CPUIDs $((cl + cs)), stat total $s"; fi

# A global reset while a VM runs: its final query counts exactly what happened since.
exitscope run /guests/leaf-check-long.bin >/tmp/long.out 2>/dev/null &
pl=$!
sleep 0.5
exitscope reset
hop $pl >/dev/null
wait $pl
rl=$(field /tmp/long.out cpuid) cl=$(field /tmp/long.out executed)
exitscope stat --json >/tmp/stat.json
if [ -n "$rl" ] && [ "$rl" -gt 0 ] && [ "$rl" -lt "$cl" ] && [ "$(reason_count /tmp/stat.json 10)" = "$rl" ]; then
    pass leaves_global_reset_while_running
else fail leaves_global_reset_while_running "leaf $rl of $cl executed; stat since reset $(reason_count /tmp/stat.json 10)"; fi
unload

# The host's turn is bounded in host time: a guest that exits all the time with interrupts off
# (Bochs then delivers no interrupt exits, and the preemption timer counts only guest time) still
# lets a snapshot (an IPI to its CPU) and a SIGKILL through within a few slices.
load
mhz=$(sed -n 's/^cpu MHz[^:]*: *\([0-9]*\).*/\1/p' /proc/cpuinfo | head -n 1)
slice_cs=$(( (1 << 22) / (mhz * 10000) + 1 ))  # one 2^22-tick slice, in 1/100 s
now_cs() { sed 's/^\([0-9]*\)\.\([0-9]*\) .*/\1\2/' /proc/uptime; }
exitscope run /guests/spin-cli-exits.bin >/dev/null 2>&1 &
pid=$!
sleep 1
t0=$(now_cs)
exitscope stat --json >/dev/null
t1=$(now_cs)
kill -9 $pid
wait $pid 2>/dev/null
t2=$(now_cs)
limit=$((10 * slice_cs))
if [ $((t1 - t0)) -le $limit ]; then pass snapshot_lands_within_slices
else fail snapshot_lands_within_slices "$((t1 - t0))/100 s, slice $slice_cs/100 s"; fi
if [ $((t2 - t1)) -le $limit ]; then pass sigkill_lands_within_slices
else fail sigkill_lands_within_slices "$((t2 - t1))/100 s, slice $slice_cs/100 s"; fi
echo "leaves: snapshot $((t1 - t0))/100 s, SIGKILL $((t2 - t1))/100 s, slice $slice_cs/100 s ($mhz MHz)"
unload
expect_status unload_after_leaves 0 $?
