#!/usr/bin/env bash
# The observation suite end to end: boots the emulated machine with tests/e2e/inside/observe.sh,
# takes the record CSV it prints between @@CSV-BEGIN@@ and @@CSV-END@@, and plots it on the host
# with `exitscope plot` into build/e2e/exits.png. Prints PASS/FAIL lines like run-suite.
#   tests/e2e/observe-host.sh [--no-emu]   (--no-emu: reuse build/e2e/observe.log)
set -uo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$top"
status=0
if [[ ${1:-} != --no-emu ]]; then
    tests/e2e/run-suite observe --cpus 1 -- observe.sh || status=1
fi
log=build/e2e/observe.log
csv=build/e2e/observe.csv
png=build/e2e/exits.png
sed -n '/^@@CSV-BEGIN@@/,/^@@CSV-END@@/p' "$log" 2>/dev/null | sed '1d;$d' | tr -d '\r' >"$csv"
if [[ -s $csv ]] && head -n 1 "$csv" | grep -qx 'time_ms,reason,name,count,cycles'; then
    echo "PASS observe/csv_extracted"
else
    echo "FAIL observe/csv_extracted: no CSV between @@CSV-BEGIN@@ and @@CSV-END@@ in $log"
    exit 1
fi
rm -f "$png"
if build/cli/exitscope plot "$csv" -o "$png" --title "exitscope record --interval 20 --duration 1500, guests running (Bochs)" \
    >build/e2e/plot.log 2>&1 && [[ -s $png ]] &&
    [[ $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; then
    echo "PASS observe/plot_png"
else
    echo "FAIL observe/plot_png: $(tr '\n' ' ' <build/e2e/plot.log | head -c 400)"
    status=1
fi
exit $status
