# Hostile guests: a scenario table in the style of kvm-unit-tests. Each row: name, guest image,
# run options, expected exit status, the summary line's pattern, the guest's exact console. Every
# scenario must end with its documented outcome, and the host must stay healthy after all.
. /tests/lib.sh

load || { fail load "insmod failed"; exit 0; }

# scenario NAME GUEST OPTIONS STATUS SUMMARY CONSOLE: the run ends with STATUS, its summary line
# (the first line on stderr) matches SUMMARY (grep -E), and the guest's console (stdout) is
# exactly CONSOLE, one line, or nothing when CONSOLE is empty: these guests are deterministic.
scenario() {
    name=$1 guest=$2 opts=$3 want=$4 summary=$5 console=$6
    # shellcheck disable=SC2086
    timeout -s INT 60 exitscope run $opts /guests/$guest.bin >/tmp/h.out 2>/tmp/h.err
    got=$?
    if [ -n "$console" ]; then printf '%s\n' "$console"; fi >/tmp/h.want
    if [ "$got" = "$want" ] && head -n 1 /tmp/h.err | grep -Eq "$summary" && cmp -s /tmp/h.want /tmp/h.out; then
        pass "$name"
    else
        fail "$name" "status $got (wanted $want), console: '$(head -c 200 /tmp/h.out)' (wanted '$console'), summary: $(head -c 300 /tmp/h.err)"
    fi
}

halted='^exitscope: guest halted: [0-9]+ exits'
code0='^exitscope: guest exited with code 0: [0-9]+ exits'
ept='^exitscope: guest accessed guest-physical'
scenario triple_fault        hostile-triple-fault     ""                 72 '^exitscope: guest triple-faulted at rip ' ""
scenario vmx_instructions    hostile-vmx-instructions ""                 0  "$code0" "vmx-instructions: #UD delivered 13, reasons not counted exactly once: 0"
scenario msr_all_fault       hostile-msr              ""                 0  "$code0" "msr: accesses that did not fault: 0"
scenario xsetbv_invalid      hostile-xsetbv           ""                 0  "$code0" "xsetbv: wrong outcomes: 0"
scenario cr_writes_refused   hostile-cr               ""                 0  "$code0" "cr: writes that did not fault: 0"
scenario io_every_port       hostile-io-ports         "--mode protected" 0  "$code0" "io-ports: 65536 ports, INs not reading all ones: 0"
scenario ept_read            hostile-ept-read         "--mode protected" 73 "$ept 0x7fff0000, outside its RAM" ""
scenario ept_write           hostile-ept-write        "--mode protected" 73 "$ept 0x200000, outside its RAM" ""
scenario ept_exec            hostile-ept-exec         "--mode protected" 73 "$ept 0x40000000, outside its RAM" ""
# CR3 at 0x40000000: the walk's first read (the PML4 entry) faults, so the qualification says a
# read with a valid linear address that is not the access's final translation (bit 8 clear).
scenario ept_page_walk       hostile-ept-walk         "--mode long"      73 "$ept 0x40000000, outside its RAM \(EPT violation, qualification 0x81\) at rip 0x1008:" ""
scenario fault_storm         hostile-fault-storm      "--mode long"      0  "$code0" "fault-storm: exceptions handled in the guest: 9000"
scenario last_page           hostile-last-page        "--mode protected --load 0x1ff000" 0 "$halted" "last-page: code and stack at the top of RAM"
scenario task_switch         hostile-task-switch      ""                 70 '^exitscope: unhandled exit .*task switch \(9\)' ""
scenario mode_switch         hostile-mode-switch      ""                 0  "$halted" "mode-switch: real -> protected -> long mode, EFER.LMA set"
scenario endless_loop_bound  spin-cli                 "--max-exits 20"   74 '^exitscope: stopped at the --max-exits limit at rip ' ""
scenario random_bytes_zero   hostile-triple-fault     "--load 0x2000 --entry 0x1000" 72 '^exitscope: guest triple-faulted at rip ' ""

# Afterwards the host is healthy and the module unloads cleanly.
exitscope run /guests/hello-real.bin >/dev/null 2>&1
expect_status host_healthy_after 0 $?
unload
expect_status unload_after 0 $?
