# Observation: stat with min/max/stddev/histograms, snapshots, the flight recorder, watch, record.
# Prints a record CSV between @@CSV-BEGIN@@ and @@CSV-END@@ for tests/e2e/observe-host.sh to plot.
. /tests/lib.sh

load || { fail load "insmod failed"; exit 0; }

# hist_sum JSONFILE N: the sum of reason N's histogram buckets in `exitscope stat --json` output.
hist_sum() {
    tr '{' '\n' <"$1" | grep "^\"reason\":$2," | sed -n 's/.*"hist":\[\([0-9,]*\)\].*/\1/p' |
        tr ',' '\n' | awk '{s += $1} END {print s + 0}'
}

exitscope reset
exitscope run /guests/cpuid-loop.bin >/dev/null 2>&1
expect_status cpuid_loop_halts 0 $?
exitscope stat --json >/tmp/stat.json
c=$(reason_count /tmp/stat.json 10)
h=$(reason_count /tmp/stat.json 12)
hc=$(hist_sum /tmp/stat.json 10)
hh=$(hist_sum /tmp/stat.json 12)
if [ "$c" = 1001 ] && [ "$hc" = 1001 ] && [ "$h" = 1 ] && [ "$hh" = 1 ]; then pass histogram_sums_equal_counts
else fail histogram_sums_equal_counts "CPUID count $c hist $hc, HLT count $h hist $hh"; fi
contains stat_json_keeps_key_order /tmp/stat.json '\{"reason":10,"name":"CPUID","enabled":true,"count":1001,"cycles":[0-9]+,"min":[1-9][0-9]*,"max":[0-9]+,"mean":[0-9.]+,"stddev":[0-9.]+,"hist":\['
exitscope stat >/tmp/stat.txt
contains stat_table_has_min_max_mean_stddev /tmp/stat.txt "^ +nr +reason +count +share +cycles +min +max +mean +stddev$"
contains stat_table_cpuid_row /tmp/stat.txt "^ +10 +CPUID +1,001 +[0-9.]+% +[0-9,]+ +[0-9,]+ +[0-9,]+ +[0-9,]+ +[0-9,]+$"
exitscope stat --csv >/tmp/stat.csv
contains stat_csv /tmp/stat.csv "^10,CPUID,1,1001,[0-9]+,[0-9]+,[0-9]+,[0-9.]+,[0-9.]+$"
exitscope stat --hist CPUID >/tmp/hist.txt
expect_status stat_hist_status 0 $?
contains stat_hist_heading /tmp/hist.txt "^Handling cycles of CPUID \(10\): 1,001 exits"
contains stat_hist_bar /tmp/hist.txt "^ +[0-9]+-[0-9]+ +[0-9,]+ \|#+$"
hsum=$(sed -n 's/^ *[0-9+-]* *\([0-9,]*\) |#*$/\1/p' /tmp/hist.txt | tr -d , | awk '{s += $1} END {print s + 0}')
if [ "$hsum" = 1001 ]; then pass stat_hist_rows_sum_to_count; else fail stat_hist_rows_sum_to_count "sum $hsum"; fi
exitscope stat --hist 12 >/tmp/hist12.txt
contains stat_hist_by_number /tmp/hist12.txt "^Handling cycles of HLT \(12\): 1 exits"
exitscope stat --hist FROB >/dev/null 2>/tmp/hist.err
expect_status stat_hist_unknown_reason_is_usage_error 2 $?

# The flight recorder: the last exit is cpuid-loop's HLT; its VM's exits are in TSC order, all
# of its one vCPU (CSV: tsc,rel_tsc,cpu,vm,vcpu,reason,name,...).
exitscope trace --json --last 1 >/tmp/trace1.json
vm=$(json_field /tmp/trace1.json vm)
contains trace_last_exit_is_hlt /tmp/trace1.json '"name":"HLT"'
exitscope trace --vm "$vm" --csv >/tmp/trace.csv
n=$(($(wc -l </tmp/trace.csv) - 1))
awk -F, -v vm="$vm" 'NR > 1 { if ($4 != vm || $5 != 0 || (NR > 2 && $1 < prev)) bad++; prev = $1; last = $7 }
    END { exit !(bad == 0 && last == "HLT") }' /tmp/trace.csv
ordered=$?
# cpuid-loop exits more often than a CPU's ring holds (ES_TRACE_RING, 1024): the ring of the CPU it
# ended on is all its own, so at least 1024 entries, at most its exits; exactly 1024 on one CPU.
total=$(sed -n 's/.*"total":{"count":\([0-9]*\).*/\1/p' /tmp/stat.json)
ncpu=$(grep -c ^processor /proc/cpuinfo)
if [ "$ncpu" = 1 ]; then lo=1024 hi=1024; else lo=1024 hi=$total; fi
if [ $ordered -eq 0 ] && [ "$n" -ge $lo ] && [ "$n" -le "$hi" ]; then pass trace_vm_in_tsc_order_ending_in_hlt
else fail trace_vm_in_tsc_order_ending_in_hlt "vm $vm, $n entries (wanted $lo..$hi): $(tail -n 3 /tmp/trace.csv)"; fi
exitscope trace --vm "$vm" --last 5 >/tmp/trace.txt
expect_status trace_table_status 0 $?
contains trace_table_heading /tmp/trace.txt "^Flight recorder: the last exits, VM $vm, 5 exit\(s\), oldest first$"
tail -n 1 /tmp/trace.txt | grep -Eq "^ +[0-9]+ +[0-9]+ +$vm +0 +HLT " &&
    pass trace_table_ends_with_hlt || fail trace_table_ends_with_hlt "$(tail -n 2 /tmp/trace.txt)"
sed -n 3p /tmp/trace.txt | grep -Eq "^ +0 " &&
    pass trace_time_relative_to_first || fail trace_time_relative_to_first "$(sed -n 3p /tmp/trace.txt)"
exitscope trace --outliers >/tmp/outliers.txt
expect_status trace_outliers_status 0 $?
contains trace_outliers_heading /tmp/outliers.txt "^Flight recorder: outliers \(handling took more than [0-9,]+ cycles\)"

# A guest that dies gets its last exits printed after the summary.
exitscope run /guests/exit-zoo.bin >/dev/null 2>/tmp/zoo.err
expect_status exit_zoo_ends_on_ept_violation 73 $?
contains exit_zoo_prints_last_exits /tmp/zoo.err "^Last 16 exits of VM [0-9]+ \(flight recorder, oldest first\):$"
tail -n 1 /tmp/zoo.err | grep -q "EPT_VIOLATION" &&
    pass exit_zoo_last_exit_is_ept_violation || fail exit_zoo_last_exit_is_ept_violation "$(tail -n 2 /tmp/zoo.err)"
exitscope run /guests/cpuid-loop.bin >/dev/null 2>/tmp/loop.err
st=$?
# A halting guest's stderr is its summary line and nothing else.
if [ $st = 0 ] && [ "$(wc -l </tmp/loop.err)" = 1 ] && grep -q '^exitscope: guest halted: ' /tmp/loop.err; then
    pass halt_prints_no_trace
else fail halt_prints_no_trace "status $st: $(cat /tmp/loop.err)"; fi

# record while a guest runs: cumulative series never go down; it captured exactly the run.
exitscope record --interval 20 -o /tmp/r.csv -- /guests/cpuid-loop.bin >/dev/null 2>/tmp/record.err
expect_status record_status_is_the_runs 0 $?
contains record_csv_header /tmp/r.csv "^time_ms,reason,name,count,cycles$"
awk -F, 'NR > 1 { if (($2 in last) && $4 < last[$2]) bad++; if ($1 < t) bad++; last[$2] = $4; t = $1; times[$1] = 1 }
    END { for (x in times) n++; exit !(bad == 0 && n >= 2) }' /tmp/r.csv &&
    pass record_series_monotonic || fail record_series_monotonic "$(head -c 400 /tmp/r.csv)"
first=$(awk -F, 'NR > 1 && $1 == 0 && $2 == 10 {print $4}' /tmp/r.csv)
last=$(awk -F, 'NR > 1 && $2 == 10 {v = $4} END {print v}' /tmp/r.csv)
if [ $((last - ${first:-0})) = 1001 ]; then pass record_captures_the_run
else fail record_captures_the_run "CPUID from ${first:-0} to $last"; fi
exitscope record --interval 50 --duration 200 -o - >/tmp/r2.csv
expect_status record_duration_status 0 $?
s=$(awk -F, 'NR > 1 {t[$1] = 1} END {for (x in t) n++; print n}' /tmp/r2.csv)
if [ "$s" -ge 4 ] && [ "$s" -le 6 ]; then pass record_duration_samples; else fail record_duration_samples "$s samples"; fi
exitscope record -o /tmp/x.csv -- --frobnicate /guests/cpuid-loop.bin 2>/dev/null
expect_status record_bad_run_options_usage_error 2 $?

# A longer recording, with guests running meanwhile, for the plot on the host.
exitscope reset
(for g in cpuid-loop hello-real exit-zoo cpuid-loop cpuid-loop hello-long exit-zoo cpuid-loop; do
    exitscope run /guests/$g.bin >/dev/null 2>&1
    sleep 0.1
done) &
busy=$!
exitscope record --interval 20 --duration 1500 -o /tmp/plot.csv
expect_status record_with_background_guests 0 $?
awk -F, 'NR > 1 { if (($2 in last) && $4 < last[$2]) bad++; last[$2] = $4; times[$1] = 1 }
    END { for (x in times) n++; exit !(bad == 0 && n >= 20 && last[10] > 0) }' /tmp/plot.csv &&
    pass record_duration_series_monotonic || fail record_duration_series_monotonic "$(tail -n 5 /tmp/plot.csv)"
wait $busy

# watch --batch: blocks without escape codes, then it stops.
(for i in 1 2 3 4 5 6; do exitscope run /guests/cpuid-loop.bin >/dev/null 2>&1; done) &
busy=$!
exitscope watch --batch --count 2 --interval 100 >/tmp/watch.txt
expect_status watch_status 0 $?
wait $busy
b=$(grep -c '^Exit rates over the last' /tmp/watch.txt)
if [ "$b" = 2 ]; then pass watch_batch_two_blocks; else fail watch_batch_two_blocks "$b blocks: $(cat /tmp/watch.txt)"; fi
if [ -s /tmp/watch.txt ] && ! grep -q "$(printf '\033')" /tmp/watch.txt; then pass watch_batch_no_escapes
else fail watch_batch_no_escapes "empty, or escape codes in batch output"; fi
exitscope watch --batch --count 1 --interval 50 --filter cpu >/tmp/watch1.txt
if grep -q " CPUID " /tmp/watch1.txt && ! grep -q " HLT " /tmp/watch1.txt; then pass watch_filter
else fail watch_filter "$(cat /tmp/watch1.txt)"; fi

# Snapshots: --since shows exactly the new run.
exitscope stat --save /tmp/snap.bin 2>/dev/null >/dev/null
expect_status stat_save_status 0 $?
exitscope run /guests/cpuid-loop.bin >/dev/null 2>&1
exitscope stat --since /tmp/snap.bin --json >/tmp/since.json 2>/dev/null
c=$(reason_count /tmp/since.json 10)
h=$(reason_count /tmp/since.json 12)
hc=$(hist_sum /tmp/since.json 10)
if [ "$c" = 1001 ] && [ "$h" = 1 ] && [ "$hc" = 1001 ]; then pass stat_since_shows_the_new_run
else fail stat_since_shows_the_new_run "CPUID $c (hist $hc), HLT $h"; fi
exitscope stat --since /tmp/snap.bin >/tmp/since.txt
contains stat_since_table /tmp/since.txt "^ +10 +CPUID +1,001 "
contains stat_since_heading /tmp/since.txt "^Difference from the snapshot /tmp/snap.bin:$"
contains stat_since_footnote /tmp/since.txt "min and max are the current ones .*cannot be differenced"
echo garbage >/tmp/bad.snap
exitscope stat --since /tmp/bad.snap 2>/tmp/bad.err
expect_status stat_since_rejects_garbage 1 $?
contains stat_since_says_why /tmp/bad.err "not an exitscope snapshot"

exitscope info >/tmp/info.txt
contains info_instrument_level /tmp/info.txt "instrument=3 \(\+ flight recorder\)"

# Examples for people reading the log.
for f in stat.txt hist.txt trace.txt since.txt watch.txt zoo.err; do
    echo "---- /tmp/$f"
    cat /tmp/$f
done

echo "@@CSV-BEGIN@@"
cat /tmp/plot.csv
echo "@@CSV-END@@"
unload
