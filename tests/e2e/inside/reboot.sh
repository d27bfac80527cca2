# Reboot with the module loaded and a guest running (on another CPU when there is one): the
# reboot notifier must turn VMX off everywhere and the machine must restart, not hang. The
# host side (tests/e2e/reboot-host.sh) checks the console for both, in that order.
. /tests/lib.sh

dmesg -n 8 # info-level kernel messages on the console
load || { fail load "insmod failed"; exit 0; }
exitscope run /guests/spin-sti.bin >/dev/null 2>&1 &
sleep 1
exitscope info --json | grep -q '"vmx_on":true' && pass vmx_on_before_reboot || fail vmx_on_before_reboot "no CPU in VMX operation"
echo "@@REBOOTING@@"
reboot -f
sleep 30
fail reboot_returned "reboot -f returned"
