# Guest checks: the toy guests, the CPUID leaf contract, exact counts, signals, concurrency.
. /tests/lib.sh

load || { fail load "insmod failed"; exit 0; }

for m in real protected long; do
    exitscope run --mode $m /guests/hello-$m.bin >/tmp/hello.out 2>/tmp/hello.err
    expect_status hello_${m}_halts 0 $?
    case $m in
    real) hello="Hello from real mode!" ;;
    protected) hello="Hello from 32-bit protected mode!" ;;
    long) hello="Hello from 64-bit long mode!" ;;
    esac
    same_lines hello_${m}_prints /tmp/hello.out "$hello"
    contains hello_${m}_summary /tmp/hello.err "guest halted"
done

# What this machine (Bochs's Haswell model, with every optional control) enables, written out:
# the leaves are compared with `exitscope reasons` below, and both come from the module's table.
exitscope reasons >/tmp/reasons.txt
expect_status reasons_status 0 $?
enabled=$(awk '$1 ~ /^[0-9]+$/ && $4 == "yes" {printf "%s ", $1}' /tmp/reasons.txt)
want="0 1 2 3 7 9 10 12 13 15 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 36 39 40 41 48 49 50 52 53 54 55 "
if [ "$enabled" = "$want" ]; then pass reasons_enabled_exactly
else fail reasons_enabled_exactly "enabled: '$enabled', wanted '$want'"; fi
undefined=$(awk '$1 ~ /^[0-9]+$/ && $3 == "no" {printf "%s ", $1}' /tmp/reasons.txt)
rows=$(grep -c '^ *[0-9]' /tmp/reasons.txt)
if [ "$undefined" = "35 38 42 " ] && [ "$rows" = 78 ]; then pass reasons_undefined_exactly
else fail reasons_undefined_exactly "$rows rows, undefined: '$undefined'"; fi

# The CPUID leaves agree with the contract and with `exitscope reasons` for every number.
exitscope run /guests/cpuid-probe.bin >/tmp/probe.out 2>/dev/null
expect_status cpuid_probe_halts 0 $?
head -n 1 /tmp/probe.out | grep -q 'exit number 10 exits=1 ' &&
    pass cpuid_first_query_counts_itself || fail cpuid_first_query_counts_itself "$(head -n 1 /tmp/probe.out)"
awk '
    FNR == NR { if ($1 ~ /^[0-9]+$/) { defined[$1] = $3; enabled[$1] = $4 } next }
    /^CPUID\(0x4FFFFFF[EF]\), exit number/ {
        n = $4; for (i = 5; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        lines++
        d = (n in defined) ? defined[n] : "no"; e = (n in enabled) ? enabled[n] : "no"
        if (d == "no") ok = v["eax"] == "0x00000000" && v["ebx"] == "0x00000000" && v["ecx"] == "0x00000000" && v["edx"] == "0xffffffff"
        else if (e == "no") ok = v["eax"] == "0x00000000" && v["ebx"] == "0x00000000" && v["ecx"] == "0x00000000" && v["edx"] == "0x00000000"
        else if ($1 ~ /FFFE/) ok = v["ebx"] == "0x00000000" && v["ecx"] == "0x00000000" && v["edx"] == "0x00000000"
        else ok = v["eax"] == "0x00000000" && v["edx"] == "0x00000000"
        if (!ok) { bad++; print "  mismatch: " $0 " (defined=" d ", enabled=" e ")" > "/dev/stderr" }
    }
    END { exit !(lines == 2 * (91 + 5) + 1 && bad == 0) }
' /tmp/reasons.txt /tmp/probe.out 2>/tmp/probe.err
if [ $? -eq 0 ]; then pass cpuid_leaves_match_contract_and_reasons
else fail cpuid_leaves_match_contract_and_reasons "$(head -c 600 /tmp/probe.err)"; fi
contains cpuid_vendor_leaf_names_exitscope /tmp/probe.out "^CPUID\(0x40000000\) vendor=ExitscopeVMM$"
ecx1=$(sed -n 's/^CPUID(0x00000001) ecx=0x\(.*\)$/\1/p' /tmp/probe.out)
if [ -n "$ecx1" ] && [ $(( 0x$ecx1 >> 31 & 1 )) = 1 ] && [ $(( 0x$ecx1 >> 5 & 1 )) = 0 ]; then
    pass cpuid_leaf1_hypervisor_bit_set_vmx_hidden
else fail cpuid_leaf1_hypervisor_bit_set_vmx_hidden "leaf 1 ecx=$ecx1"; fi
# The probe's own exits, exactly: reason 10 is its first query (1) and, in the loop, its 24th
# CPUID (the first query, the two total leaves, two per reason 0..9, itself); no HLT, MSR, ...
# before its end. Only reasons the host causes (0 NMI, 1 interrupt, 52 preemption timer) and its
# console's I/O exits (30, as many as bytes printed, and the printed totals vary) may be anything.
got=$(awk '/^CPUID\(0x4FFFFFFE\), exit number [0-9]+ exits=/ {
        n = $4; split($5, kv, "="); c = kv[2]
        if (n == 10) tens = tens " " c
        else if (n != 0 && n != 1 && n != 30 && n != 52 && c != 0) print "reason " n " exits=" c
    }
    END { print "reason 10:" tens }' /tmp/probe.out | tr '\n' ';')
if [ "$got" = "reason 10: 1 24;" ]; then pass cpuid_probe_counts_exact
else fail cpuid_probe_counts_exact "$got"; fi

# Exact counts: 1000 CPUIDs plus the asking one; stat --json agrees after a reset.
exitscope reset
exitscope run /guests/cpuid-loop.bin >/tmp/loop.out 2>/dev/null
expect_status cpuid_loop_halts 0 $?
same_lines cpuid_loop_guest_sees_exact_count /tmp/loop.out "cpuid-loop: ran 1000 CPUIDs, leaf 0x4FFFFFFE says 1001"
exitscope stat --json >/tmp/stat.json
c=$(reason_count /tmp/stat.json 10)
h=$(reason_count /tmp/stat.json 12)
if [ "$c" = 1001 ] && [ "$h" = 1 ]; then pass stat_json_exact_cpuid_and_hlt
else fail stat_json_exact_cpuid_and_hlt "CPUID $c HLT $h, wanted 1001 and 1"; fi
total=$(sed -n 's/.*"total":{"count":\([0-9]*\).*/\1/p' /tmp/stat.json)
sum=$(tr '{' '\n' </tmp/stat.json | sed -n 's/^"reason":.*"count":\([0-9]*\),.*/\1/p' | awk '{s += $1} END {print s}')
# At least the guest's own 1001 CPUIDs, its console bytes and its HLT.
if [ -n "$total" ] && [ "$total" = "$sum" ] && [ "$total" -gt 1002 ]; then pass stat_total_is_sum_of_reasons
else fail stat_total_is_sum_of_reasons "total '$total' vs sum '$sum'"; fi
exitscope stat >/tmp/stat.txt
contains stat_table_lists_cpuid /tmp/stat.txt "^ +10 +CPUID +1,001 "

# The exit zoo: every reason it causes is counted exactly, and it ends on an EPT violation.
exitscope run /guests/exit-zoo.bin >/tmp/zoo.out 2>/tmp/zoo.err
expect_status exit_zoo_ends_on_ept_violation 73 $?
contains exit_zoo_reports_gpa /tmp/zoo.err "guest-physical 0xfffff000"
# Its whole console, exactly: 15 reasons, each counted as often as caused (tools/guests/exit-zoo.asm),
# the 4 exceptions injected for VMCALL, RDPMC, CR4.VMXE and MONITOR, and no line after the read.
same_lines exit_zoo_counts_match /tmp/zoo.out \
    "zoo: protected mode, causing exits" \
    "zoo: CPUID caused 3 counted 3" \
    "zoo: HLT caused 2 counted 2" \
    "zoo: IO_OUT caused 3 counted 3" \
    "zoo: IO_IN caused 2 counted 2" \
    "zoo: MSR_READ caused 1 counted 1" \
    "zoo: MSR_WRITE caused 1 counted 1" \
    "zoo: XSETBV caused 1 counted 1" \
    "zoo: INVD caused 1 counted 1" \
    "zoo: WBINVD caused 1 counted 1" \
    "zoo: PAUSE caused 2 counted 2" \
    "zoo: DR_ACCESS caused 1 counted 1" \
    "zoo: VMCALL caused 1 counted 1" \
    "zoo: RDPMC caused 1 counted 1" \
    "zoo: CR_ACCESS caused 1 counted 1" \
    "zoo: MONITOR caused 1 counted 1" \
    "zoo: exceptions delivered to the guest: 4" \
    "zoo: reading 0xFFFFF000, outside guest RAM"

# Endless loops end on a signal, with interrupts off (only the preemption timer returns the
# CPU to the host) and on, and the host stays healthy.
for g in spin-cli spin-sti; do
    timeout -s INT 3 exitscope run /guests/$g.bin >/dev/null 2>/tmp/spin.err
    expect_status ${g}_ended_by_signal 130 $?
    contains ${g}_summary_says_interrupted /tmp/spin.err "interrupted by a signal"
done
# The same with a CPUID exit on every turn: those are handled without a host turn, so only a
# bound that counts across them (the preemption timer's value saved at every exit, and the
# host-time deadline checked at each exit) returns the CPU; without one this guest wedged the
# emulated machine.
timeout -s INT 1 exitscope run /guests/spin-cli-exits.bin >/dev/null 2>/tmp/spin.err
expect_status spin_cli_exits_ended_by_signal 130 $?
contains spin_cli_exits_summary_says_interrupted /tmp/spin.err "interrupted by a signal"
exitscope run /guests/hello-real.bin >/dev/null 2>&1
expect_status host_healthy_after_spins 0 $?

# rmmod is refused while a VM exists, and works once it is gone.
exitscope run /guests/spin-sti.bin >/dev/null 2>&1 &
pid=$!
sleep 1
rmmod exitscope 2>/dev/null
expect_status rmmod_refused_while_vm_open 1 $?
exitscope info --json >/tmp/info-vm.json
ncpu=$(grep -c ^processor /proc/cpuinfo)
non=$(tr '{' '\n' </tmp/info-vm.json | grep -c '"online":true,"vmx_on":true')
if [ "$non" = "$ncpu" ] && grep -q '"vms":1' /tmp/info-vm.json; then pass info_vmx_on_every_cpu_while_vm_exists
else fail info_vmx_on_every_cpu_while_vm_exists "$non of $ncpu CPUs on: $(cat /tmp/info-vm.json)"; fi
kill -INT $pid
wait $pid
exitscope info --json | grep -q '"vms":0,' && ! exitscope info --json | grep -q '"vmx_on":true' &&
    pass vmx_off_after_last_vm || fail vmx_off_after_last_vm "$(exitscope info --json)"

# Two VMs at once keep exact counts (on two CPUs when the machine has them).
exitscope reset
exitscope run /guests/cpuid-loop.bin >/tmp/a.out 2>/dev/null &
a=$!
exitscope run /guests/cpuid-loop.bin >/tmp/b.out 2>/dev/null &
b=$!
wait $a
sa=$?
wait $b
sb=$?
loop_line="cpuid-loop: ran 1000 CPUIDs, leaf 0x4FFFFFFE says"
printf '%s 1001\n' "$loop_line" >/tmp/loop.want
if [ $sa = 0 ] && [ $sb = 0 ] && cmp -s /tmp/loop.want /tmp/a.out && cmp -s /tmp/loop.want /tmp/b.out; then
    pass two_vms_each_see_own_exact_count
else fail two_vms_each_see_own_exact_count "status $sa/$sb: $(cat /tmp/a.out /tmp/b.out)"; fi
exitscope stat --json >/tmp/stat2.json
c=$(reason_count /tmp/stat2.json 10)
if [ "$c" = 2002 ]; then pass two_vms_global_count_exact; else fail two_vms_global_count_exact "CPUID $c, wanted 2002"; fi

# Bad input: clear errors, nothing left behind.
exitscope run --mem 0 /guests/hello-real.bin >/dev/null 2>/tmp/bad.err
expect_status run_rejects_zero_memory 2 $?
exitscope run --load 0x300000 /guests/hello-real.bin >/dev/null 2>/tmp/bad.err
expect_status run_rejects_load_beyond_ram 1 $?
contains load_beyond_ram_message /tmp/bad.err "does not fit in guest RAM"
exitscope run /guests/no-such-image.bin >/dev/null 2>&1
expect_status run_rejects_missing_image 2 $?
exitscope run --mode long --mem 1 --entry 0xff000 /guests/hello-long.bin >/dev/null 2>/tmp/bad.err
expect_status run_rejects_entry_in_page_tables 1 $?
# Module refusals with a known cause are named (not "an ABI mismatch or a bad value").
exitscope run --entry 0x100000 /guests/hello-real.bin >/dev/null 2>/tmp/bad.err
expect_status run_rejects_real_mode_entry_above_1mib 1 $?
contains real_mode_entry_message /tmp/bad.err "real mode reaches only the first MiB: --entry 0x100000"
exitscope stat --cpu 99 >/dev/null 2>/tmp/bad.err
expect_status stat_rejects_missing_cpu 1 $?
contains missing_cpu_message /tmp/bad.err "no such CPU 99: this machine has [0-9]+ CPUs? \\(cpu 0"
# Inputs that are not regular files: an error, never an exception (status 134) or endless read.
exitscope run /guests >/dev/null 2>/tmp/bad.err
expect_status run_rejects_directory 2 $?
contains run_directory_message /tmp/bad.err "cannot read image /guests: it is a directory"
exitscope run /dev/zero >/dev/null 2>/tmp/bad.err
expect_status run_rejects_device 2 $?
exitscope stat --since /guests >/dev/null 2>/tmp/bad.err
expect_status stat_since_rejects_directory 1 $?
exitscope stat --since /dev/zero >/dev/null 2>/tmp/bad.err
expect_status stat_since_rejects_device 1 $?

unload
expect_status unload_after_guests 0 $?

# cpuid_scope=global: a guest sees the counts of every VM since load (or reset).
load cpuid_scope=global
exitscope run /guests/cpuid-loop.bin >/tmp/g1.out 2>/dev/null
exitscope run /guests/cpuid-loop.bin >/tmp/g2.out 2>/dev/null
printf '%s 1001\n%s 2002\n' "$loop_line" "$loop_line" >/tmp/global.want
cat /tmp/g1.out /tmp/g2.out >/tmp/global.out
if cmp -s /tmp/global.want /tmp/global.out; then pass cpuid_scope_global_sums_vms
else fail cpuid_scope_global_sums_vms "$(cat /tmp/global.out)"; fi
exitscope info --json | grep -q '"cpuid_scope":"global"' && pass info_shows_scope || fail info_shows_scope "no global scope in info"
unload
