# In a machine without VMX (QEMU TCG) loading must fail cleanly and say why.
. /tests/lib.sh

load 2>/tmp/insmod.err
st=$?
if [ $st -ne 0 ]; then pass insmod_fails_without_vmx; else fail insmod_fails_without_vmx "insmod succeeded"; unload; fi
if dmesg | grep -q "exitscope: VMX is unavailable"; then pass dmesg_says_vmx_unavailable
else fail dmesg_says_vmx_unavailable "$(dmesg | grep exitscope | tail -n 3)"; fi
check nothing_left_loaded sh -c '! grep -q exitscope /proc/modules'
check no_device_left sh -c '! test -e /dev/exitscope'
