# Random guests: seeded random byte images and random instruction mixes in the three toy modes
# and as fake bzImages on the Linux board (linux64), each bounded (--max-exits and a timeout).
# Every run must end in a defined outcome, the host must survive, and the seed of anything else
# is printed for replay. The long-mode ones run again under EPT and under shadow paging, which
# must give the same console output and end status:
#   randguest SEED 1 DIR; exitscope run --mode MODE DIR/KIND-MODE-SEED.bin
#   (linux64: exitscope run --kernel DIR/KIND-linux64-SEED.bin)
# RANDOM_SEED and RANDOM_COUNT (images per kind and mode) come from the environment.
. /tests/lib.sh

seed=${RANDOM_SEED:-1}
count=${RANDOM_COUNT:-100}
mkdir -p /tmp/rg
randguest "$seed" "$count" /tmp/rg || { fail generate "randguest failed"; exit 0; }
# A short time slice, so spinning guests reach the exit bound quickly.
load preemption_slice=16 || { fail load "insmod failed"; exit 0; }

halted=0 exited=0 triple=0 ept=0 unhandled=0 entry=0 limit=0 intr=0 reset=0 wrap=0 bad=0 n=0
for f in /tmp/rg/*.bin; do
    base=${f##*/}
    mode=${base#*-}
    mode=${mode%%-*}
    if [ "$mode" = linux64 ]; then set -- --kernel "$f"; else set -- --mode "$mode" "$f"; fi
    timeout -s INT 20 exitscope run --max-exits 200 "$@" >/dev/null 2>/tmp/r.err
    n=$((n + 1))
    # The summary line (a dying guest's flight-recorder lines follow it).
    line=$(grep -m 1 '^exitscope: ' /tmp/r.err)
    case $line in
    *"guest halted"*) halted=$((halted + 1)) ;;
    *"guest exited with code"*) exited=$((exited + 1)) ;;
    *"triple-faulted"*) triple=$((triple + 1)) ;;
    *"outside its RAM"*) ept=$((ept + 1)) ;;
    *"unhandled exit"*) unhandled=$((unhandled + 1)) ;;
    *"max-exits limit"*) limit=$((limit + 1)) ;;
    *"interrupted by a signal"*) intr=$((intr + 1)) ;;
    *"reset the machine"*) reset=$((reset + 1)) ;;
    *"RIP left its address space"*) wrap=$((wrap + 1)) ;;
    *"VM entry failed"*)
        entry=$((entry + 1))
        bad=$((bad + 1))
        echo "  replay: $base ($line)" ;;
    *)
        bad=$((bad + 1))
        echo "  replay: $base ($line)" ;;
    esac
done
echo "RANDOM seed=$seed guests=$n halted=$halted exit_request=$exited triple_fault=$triple ept_violation=$ept unhandled=$unhandled exit_limit=$limit interrupted=$intr reset=$reset rip_wrap=$wrap entry_failed=$entry undefined=$bad"
# randguest writes COUNT images of each kind (bytes, mix) in each mode (real, protected, long,
# linux64).
if [ $bad = 0 ] && [ $n = $((8 * count)) ]; then pass all_outcomes_defined
else fail all_outcomes_defined "$bad of $n runs (wanted $((8 * count))) ended undefined (seeds above)"; fi
# The long-mode guests under EPT and under shadow paging: the same console output and end status.
# A run that reaches its exit bound (74) or its timeout (130) under either is not compared:
# shadow paging adds #PF, CR and INVLPG exits, so the bound falls at another instruction. At most
# 40 guests, so the suite's time grows by a bounded amount.
same=0 differ=0 unbounded=0
for f in /tmp/rg/*-long-*.bin; do
    [ $((same + differ + unbounded)) -ge 40 ] && break
    timeout -s INT 20 exitscope run --mode long --paging ept --max-exits 2000 "$f" \
        >/tmp/d.ept 2>/tmp/d.ept.err
    se=$?
    timeout -s INT 20 exitscope run --mode long --paging shadow --max-exits 20000 "$f" \
        >/tmp/d.shadow 2>/tmp/d.shadow.err
    ss=$?
    case "$se $ss" in
    74\ * | 130\ * | *\ 74 | *\ 130) unbounded=$((unbounded + 1)) ;;
    *)
        if [ "$se" = "$ss" ] && cmp -s /tmp/d.ept /tmp/d.shadow; then same=$((same + 1))
        else
            differ=$((differ + 1))
            echo "  replay: ${f##*/} (ept $se: $(head -n 1 /tmp/d.ept.err); shadow $ss: $(head -n 1 /tmp/d.shadow.err))"
        fi ;;
    esac
done
echo "RANDOM ept-vs-shadow: same=$same differ=$differ not_compared=$unbounded"
if [ $differ = 0 ] && [ $same -gt 0 ]; then pass long_guests_same_under_shadow
else fail long_guests_same_under_shadow "$differ of $((same + differ)) differ (seeds above)"; fi

exitscope run /guests/hello-real.bin >/dev/null 2>&1
expect_status host_healthy_after 0 $?
unload
expect_status unload_after 0 $?
