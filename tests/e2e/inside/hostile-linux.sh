# Hostile guests with the Linux board (tools/guests/hostile-linux.asm, a fake bzImage: one
# scenario per command line). Each must end as documented, print exactly its line, and leave
# the host's SYSCALL MSRs as they were on every CPU, whichever way its run ended.
. /tests/lib.sh

load || { fail hostile_linux_load "insmod failed"; exit 0; }
insmod /lib/modules/extra/msr.ko 2>/dev/null
kernel=/guests/hostile-linux.bin

# The host's STAR, LSTAR, CSTAR and SFMASK on every CPU, as /dev/cpu/N/msr reads them (dd
# seeks to the MSR's number; od -j would read up to it).
host_msrs() {
    for d in /dev/cpu/[0-9]*; do
        for m in 0xc0000081 0xc0000082 0xc0000083 0xc0000084; do
            printf '%s:%s=%s ' "${d#/dev/cpu/}" $m "$(dd if="$d/msr" bs=8 count=1 skip=$((m)) iflag=skip_bytes 2>/dev/null |
                od -An -tx8 | tr -d ' ')"
        done
    done
}
host0=$(host_msrs)
case $host0 in
*=ffffffff8badf00d*) fail hostile_linux_host_msrs_readable "the marker is the host's already" ;;
*0xc0000082=ffffffff*) pass hostile_linux_host_msrs_readable ;;
*) fail hostile_linux_host_msrs_readable "no LSTAR read: $host0" ;;
esac

# scenario CHECK NAME WANT_STATUS WANT_LINE [COMMAND PREFIX...]: one run of the fake kernel with
# command line NAME, under the prefix (e.g. timeout -s INT 3), with $opts as run options.
scenario() {
    check=hostile_linux_$1 name=$2 want=$3 line=$4
    shift 4
    # shellcheck disable=SC2086 # $opts: words on purpose
    "$@" exitscope run --kernel $kernel --append "$name" $opts >/tmp/hl.out 2>/tmp/hl.err
    st=$?
    expect_status "${check}_status" "$want" "$st"
    # LINE "-": the caller checks the output itself.
    if [ "$line" = - ]; then :
    elif [ -n "$line" ]; then same_lines "${check}_prints" /tmp/hl.out "$line"
    else check "${check}_prints_nothing" test ! -s /tmp/hl.out; fi
    now=$(host_msrs)
    if [ "$now" = "$host0" ]; then pass "${check}_host_msrs_kept"
    else fail "${check}_host_msrs_kept" "before: $host0 after: $now"; fi
}

# The guest's STAR, LSTAR, CSTAR, SFMASK and KERNEL_GS_BASE (after SWAPGS) are live in each run
# below; every way a run can end must put the host's back.
opts= scenario msr_exit_port msr-exit 0 "msrs read back"
opts="--max-exits 5000" scenario msr_max_exits msr-spin 74 "msrs read back"
opts= scenario msr_sigint msr-spin 130 "msrs read back" timeout -s INT 3
opts= scenario msr_sigterm msr-spin 130 "msrs read back" timeout -s TERM 3
# SIGALRM and SIGKILL kill the CLI mid-run: nothing of the console reaches its output.
opts= scenario msr_sigalrm msr-spin 142 "" timeout -s ALRM 3
opts= scenario msr_sigkill msr-spin 137 "" timeout -s KILL 3
opts= scenario msr_hlt_sleep msr-hlt 130 "msrs read back" timeout -s INT 3
# The console buffer (4096 bytes) fills twice: the run stops and resumes with the markers live.
dots=$(head -c 10000 /dev/zero | tr '\0' .)
opts= scenario msr_console_full msr-console 0 "msrs read back
$dots"

# The markers stay the guest's while the host moves the VMM between CPUs every 0.2 s: each of
# the guest's 4000 read-backs sees its own values, and the host's are back on every CPU.
exitscope run --kernel $kernel --append msr-move >/tmp/hl.out 2>/tmp/hl.err &
pid=$!
moves=$(hop $pid)
wait $pid
expect_status hostile_linux_msr_move_status 0 $?
same_lines hostile_linux_msr_move_prints /tmp/hl.out "msrs read back
msrs kept in every round"
if [ "$(grep -c ^processor /proc/cpuinfo)" -lt 2 ] || [ "$moves" -ge 3 ]; then
    pass hostile_linux_msr_move_moved
else fail hostile_linux_msr_move_moved "only $moves moves while the guest ran"; fi
now=$(host_msrs)
if [ "$now" = "$host0" ]; then pass hostile_linux_msr_move_host_msrs_kept
else fail hostile_linux_msr_move_host_msrs_kept "before: $host0 after: $now"; fi

# The board under attack: the PIT's floor, latch storms, wide accesses at every edge.
opts= scenario pit_storm pit-storm 0 "pit floor held"
opts= scenario latch_storm latch-storm 0 "latches done"
# The zeros written to COM1's THR (0x3F8) at each width reach the console as NUL bytes.
opts= scenario wide_ports wide-out 0 -
tr -d '\0' </tmp/hl.out >/tmp/hl.text
same_lines hostile_linux_wide_ports_prints /tmp/hl.text "wide ports done"
# One per width at 0x3F8 itself: an access goes to the device of its first port.
nuls=$(tr -cd '\0' </tmp/hl.out | wc -c)
if [ "$nuls" = 3 ]; then pass hostile_linux_wide_ports_reach_com1
else fail hostile_linux_wide_ports_reach_com1 "$nuls NUL bytes transmitted, wanted 3"; fi
# The last emulated instruction ends at the top of the lower half: the next fetch is not
# canonical, and the guest gets the #GP the hardware raises (VM entry checks only bits 63:48 of
# RIP); with no IDT that is a triple fault.
opts= scenario rip_top rip-top 72 ""
contains hostile_linux_rip_top_faults_there /tmp/hl.err "triple-faulted at rip 0x800000000000"
opts= scenario unknown no-such-scenario 2 "unknown scenario"

# Timer interrupts during a page-fault storm: the same line under EPT and under shadow paging,
# where each of the 20000 rounds takes its CR3 and #PF exits while the PIT ticks.
opts="--paging ept" scenario pf_storm_ept pf-storm 0 "pf storm done"
opts="--paging shadow" scenario pf_storm_shadow pf-storm 0 "pf storm done"
exits=$(sed -n 's/.*: \([0-9]*\) exits,.*/\1/p' /tmp/hl.err)
if [ "${exits:-0}" -ge 40000 ]; then pass hostile_linux_pf_storm_shadow_faults
else fail hostile_linux_pf_storm_shadow_faults "$(cat /tmp/hl.err)"; fi

# Two vCPUs (tools/guests/hostile-smp.asm): vCPU 0 attacks the APIC bus through its x2APIC.
kernel=/guests/hostile-smp.bin
opts="--cpus 2" scenario smp_ipi_storm ipi-storm 0 "ipi storm done"
opts="--cpus 2" scenario smp_sipi_missing sipi-missing 0 "no such cpu"
opts="--cpus 2" scenario smp_init_self init-self 130 "init to self" timeout -s INT 5
opts="--cpus 2" scenario smp_bad_msrs bad-msrs 0 "gp 7"
# vCPU 0 halts with interrupts off while the AP it started spins in real mode and never halts:
# the VM runs on (only the last such halt ends it) until SIGINT stops both vCPUs (130).
opts="--cpus 2" scenario smp_ap_spin ap-spin 130 "ap spinning" timeout -s INT 5
kernel=/guests/hostile-linux.bin

dmesg | grep -q "BUG\|WARNING\|Oops" && fail hostile_linux_host_log "$(dmesg | grep -m1 "BUG\|WARNING\|Oops")" ||
    pass hostile_linux_host_log
unload
expect_status hostile_linux_unload 0 $?
