# Hostile guests: a scenario table in the style of kvm-unit-tests. Each row: name, guest image,
# run options, expected exit status, a pattern the output (stdout+stderr) must contain. Every
# scenario must end with its documented outcome, and the host must stay healthy after all.
. /tests/lib.sh

load || { fail load "insmod failed"; exit 0; }

scenario() { # name guest options status pattern
    name=$1 guest=$2 opts=$3 want=$4 pattern=$5
    # shellcheck disable=SC2086
    timeout -s INT 60 exitscope run $opts /guests/$guest.bin >/tmp/h.out 2>&1
    got=$?
    if [ "$got" = "$want" ] && grep -Eq "$pattern" /tmp/h.out; then
        pass "$name"
    else
        fail "$name" "status $got (wanted $want), output: $(head -c 300 /tmp/h.out)"
    fi
}

scenario triple_fault        hostile-triple-fault     ""                          72 "triple-faulted"
scenario vmx_instructions    hostile-vmx-instructions ""                          0  "#UD delivered 13, reasons not counted exactly once: 0"
scenario msr_all_fault       hostile-msr              ""                          0  "did not fault: 0"
scenario xsetbv_invalid      hostile-xsetbv           ""                          0  "wrong outcomes: 0"
scenario cr_writes_refused   hostile-cr               ""                          0  "did not fault: 0"
scenario io_every_port       hostile-io-ports         "--mode protected"          0  "all ones: 0"
scenario ept_read            hostile-ept-read         "--mode protected"          73 "guest-physical 0x7fff0000"
scenario ept_write           hostile-ept-write        "--mode protected"          73 "guest-physical 0x200000"
scenario ept_exec            hostile-ept-exec         "--mode protected"          73 "guest-physical 0x40000000"
scenario ept_page_walk       hostile-ept-walk         "--mode long"               73 "guest-physical 0x4000"
scenario fault_storm         hostile-fault-storm      "--mode long"               0  "handled in the guest: 9000"
scenario last_page           hostile-last-page        "--mode protected --load 0x1ff000" 0 "top of RAM"
scenario task_switch         hostile-task-switch      ""                          70 "task switch \\(9\\)"
scenario mode_switch         hostile-mode-switch      ""                          0  "EFER.LMA set"
scenario endless_loop_bound  spin-cli                 "--max-exits 20"            74 "max-exits"
scenario random_bytes_zero   hostile-triple-fault     "--load 0x2000 --entry 0x1000" 72 "triple-faulted"

# Afterwards the host is healthy and the module unloads cleanly.
exitscope run /guests/hello-real.bin >/dev/null 2>&1
expect_status host_healthy_after 0 $?
unload
expect_status unload_after 0 $?
