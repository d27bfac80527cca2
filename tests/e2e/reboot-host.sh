#!/usr/bin/env bash
# Reboot with Exitscope holding VMX and a guest running, in Bochs with 2 CPUs: the console must
# show the reboot notifier turning VMX off and then the kernel restarting, with no oops and no
# hang. Prints PASS/FAIL lines like tests/e2e/run-suite.
set -uo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$top"
"$top/tests/e2e/run-suite" reboot --cpus 2 --expect-reboot --timeout 600 -- reboot.sh
log=build/e2e/reboot.log
off=$(grep -n 'exitscope: VMX turned off on every CPU for restart' "$log" | head -n 1 | cut -d: -f1)
restart=$(grep -n 'reboot: Restarting system' "$log" | head -n 1 | cut -d: -f1)
if [[ -n $off && -n $restart && $off -lt $restart ]]; then
    echo "PASS reboot/notifier_turned_vmx_off_then_restarted"
else
    echo "FAIL reboot/notifier_turned_vmx_off_then_restarted: notifier line ${off:-missing}, restart line ${restart:-missing} (see $log)"
fi
