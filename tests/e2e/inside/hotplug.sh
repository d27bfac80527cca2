# CPU hotplug with a guest running (2 CPUs): a CPU going offline leaves VMX, a CPU coming back
# online while a VM exists enters it again, and guests keep running throughout.
. /tests/lib.sh

[ -e /sys/devices/system/cpu/cpu1/online ] || { pass hotplug_skipped_single_cpu; exit 0; }
load || { fail load "insmod failed"; exit 0; }
exitscope run /guests/spin-sti.bin >/dev/null 2>&1 &
pid=$!
sleep 1
cpu_state() { exitscope info --json | tr '{' '\n' | sed -n "s/^\"cpu\":$1,\(.*\)}.*/\1/p"; }
echo 0 >/sys/devices/system/cpu/cpu1/online
expect_status cpu1_offline 0 $?
state=$(cpu_state 1)
case $state in *'"online":false,"vmx_on":false'*) pass offline_cpu_left_vmx ;; *) fail offline_cpu_left_vmx "cpu1: $state" ;; esac
exitscope run /guests/cpuid-loop.bin >/tmp/h.out 2>/dev/null
same_lines guests_run_with_one_cpu_offline /tmp/h.out "cpuid-loop: ran 1000 CPUIDs, leaf 0x4FFFFFFE says 1001"
echo 1 >/sys/devices/system/cpu/cpu1/online
expect_status cpu1_online 0 $?
state=$(cpu_state 1)
case $state in *'"online":true,"vmx_on":true'*) pass online_cpu_entered_vmx ;; *) fail online_cpu_entered_vmx "cpu1: $state" ;; esac
exitscope run /guests/cpuid-loop.bin >/tmp/h.out 2>/dev/null
same_lines guests_run_after_cpu_back /tmp/h.out "cpuid-loop: ran 1000 CPUIDs, leaf 0x4FFFFFFE says 1001"
kill -INT $pid
wait $pid
expect_status background_guest_survived_hotplug 130 $?
unload
expect_status unload_after_hotplug 0 $?
