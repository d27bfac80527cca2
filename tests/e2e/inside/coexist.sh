# Other hypervisors: Debian's kvm_intel and Exitscope take turns with VMX. While a KVM VM runs,
# Exitscope refuses (EBUSY, message naming kvm_intel) to load and to create VMs; while an
# Exitscope VM runs, KVM cannot create a VM and Exitscope keeps working.
# Linux 6.12+ (kvm.ko has enable_virt_at_load): kvm_intel loaded with its defaults holds VMX from
# load on, so Exitscope refuses to load at all; after rmmod kvm_intel it works; with
# kvm.enable_virt_at_load=0 the two take turns as above.
. /tests/lib.sh

for m in irqbypass kvm kvm-intel; do insmod /lib/modules/kvm/$m.ko || fail kvm_load "$m"; done

if [ -e /sys/module/kvm/parameters/enable_virt_at_load ]; then
    dmesg -c >/dev/null
    insmod /exitscope.ko 2>/tmp/insmod.err
    st=$?
    if [ $st -ne 0 ] && grep -q 'busy' /tmp/insmod.err && dmesg | grep -q 'VMX is already in use.*kvm_intel'; then
        pass insmod_refused_while_kvm_intel_holds_vmx_from_load
    else
        fail insmod_refused_while_kvm_intel_holds_vmx_from_load "insmod status $st: $(cat /tmp/insmod.err) $(dmesg | grep exitscope | tail -n 2)"
        unload
    fi
    dmesg >/tmp/refusal.log
    contains refusal_names_the_fixes /tmp/refusal.log 'rmmod kvm_intel.*enable_virt_at_load=0'
    rmmod kvm_intel
    expect_status kvm_intel_unloads 0 $?
    load
    expect_status loads_after_rmmod_kvm_intel 0 $?
    exitscope run /guests/hello-real.bin >/dev/null 2>&1
    expect_status runs_after_rmmod_kvm_intel 0 $?
    unload
    rmmod kvm
    insmod /lib/modules/kvm/kvm.ko enable_virt_at_load=0 && insmod /lib/modules/kvm/kvm-intel.ko
    expect_status kvm_loads_with_enable_virt_at_load_0 0 $?
    load
    expect_status loads_next_to_kvm_intel_without_virt_at_load 0 $?
    unload
fi

# A KVM guest holds VMX.
exitscope run --backend kvm /guests/spin-sti.bin >/dev/null 2>&1 &
kvm_pid=$!
sleep 2
dmesg -c >/dev/null
insmod /exitscope.ko 2>/dev/null
st=$?
if [ $st -ne 0 ] && dmesg | grep -q 'VMX is already in use.*kvm_intel'; then pass insmod_refused_while_kvm_vm_runs
else fail insmod_refused_while_kvm_vm_runs "insmod status $st: $(dmesg | grep exitscope | tail -n 2)"; unload; fi
kill -INT $kvm_pid
wait $kvm_pid

# Loaded beside an idle kvm_intel, then a KVM VM starts: creating an Exitscope VM is refused.
load
expect_status loads_next_to_idle_kvm 0 $?
exitscope run --backend kvm /guests/spin-sti.bin >/dev/null 2>&1 &
kvm_pid=$!
sleep 2
exitscope run /guests/hello-real.bin >/dev/null 2>/tmp/busy.err
st=$?
if [ $st = 1 ] && grep -q 'in use by another hypervisor' /tmp/busy.err; then pass create_vm_refused_while_kvm_vm_runs
else fail create_vm_refused_while_kvm_vm_runs "status $st: $(cat /tmp/busy.err)"; fi
exitscope info --json >/tmp/info-refused.json
st=$?
ncpu=$(grep -c ^processor /proc/cpuinfo)
noff=$(tr '{' '\n' </tmp/info-refused.json | grep -c '"online":true,"vmx_on":false')
if [ $st = 0 ] && [ "$noff" = "$ncpu" ]; then pass no_vmx_left_on_after_refusal
else fail no_vmx_left_on_after_refusal "status $st, $noff of $ncpu CPUs off: $(head -c 300 /tmp/info-refused.json)"; fi
kill -INT $kvm_pid
wait $kvm_pid

# An Exitscope guest holds VMX: KVM fails cleanly and Exitscope keeps working.
exitscope run /guests/spin-sti.bin >/dev/null 2>&1 &
es_pid=$!
sleep 1
exitscope run --backend kvm /guests/hello-real.bin >/dev/null 2>/tmp/kvm.err
st=$?
if [ $st != 0 ]; then pass kvm_vm_refused_while_exitscope_vm_runs
else fail kvm_vm_refused_while_exitscope_vm_runs "KVM ran a guest while Exitscope held VMX"; fi
exitscope run /guests/cpuid-loop.bin >/tmp/loop.out 2>/dev/null
if [ $? = 0 ] && grep -q 'says 1001$' /tmp/loop.out; then pass exitscope_keeps_working_next_to_kvm
else fail exitscope_keeps_working_next_to_kvm "$(cat /tmp/loop.out)"; fi
kill -INT $es_pid
wait $es_pid
expect_status exitscope_guest_ended_by_signal 130 $?

# Both idle again: KVM runs a guest, then Exitscope does.
exitscope run --backend kvm /guests/hello-real.bin >/dev/null 2>&1
expect_status kvm_runs_after_exitscope_vm_gone 0 $?
exitscope run /guests/hello-real.bin >/dev/null 2>&1
expect_status exitscope_runs_after_kvm_vm_gone 0 $?
unload
rmmod kvm_intel kvm irqbypass
expect_status kvm_unloads 0 $?
