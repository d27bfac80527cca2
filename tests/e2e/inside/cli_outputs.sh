# Outputs of two exitscope binaries side by side, for checking that a CLI change keeps every
# output byte-identical. Not part of a suite: run it by hand, e.g. with the CLI of a base commit
# saved as /tmp/exitscope-base:
#   tools/emu-run --add tests/e2e/inside/cli_outputs.sh:/cli_outputs.sh \
#       --add /tmp/exitscope-base:/bin/es-a --add build/cli/exitscope:/bin/es-b \
#       -- 'sh /cli_outputs.sh /bin/es-a /bin/es-b'
# Each command runs under both binaries in turn (same machine state), with status, stdout and
# stderr; where digits vary between runs (cycles, VM ids, TSC) they are masked. Prints the first
# binary's outputs between @@BEGIN-A@@/@@END-A@@ and `diff -u` of both between
# @@BEGIN-DIFF@@/@@END-DIFF@@.
A=$1; B=$2
insmod /exitscope.ko
mkdir -p /tmp/cap/a /tmp/cap/b /tmp/cap/x
n=0
# c NORMALISE-SED ARGS... : run both binaries with ARGS
c() {
    ns=$1; shift
    n=$((n + 1))
    for side in a b; do
        if [ $side = a ]; then bin=$A; else bin=$B; fi
        "$bin" "$@" >/tmp/cap/x/out 2>/tmp/cap/x/err </dev/null
        rc=$?
        { echo "### $*"; echo "rc=$rc"; echo "--- stdout"; sed -E "$ns" /tmp/cap/x/out; echo "--- stderr"; sed -E "$ns" /tmp/cap/x/err | sed "s#$bin#BIN#g"; } >/tmp/cap/$side/$(printf %03d $n)
    done
}
K='s/^$//'                        # keep as is
D='s/[0-9]+/N/g; s/ +/ /g'
c "$K"
c "$K" --help
c "$K" help
c "$K" bogus
c "$K" reasons
c "$K" reasons --json
c "$K" reasons --bogus
c "$K" info
c "$K" info --json
c "$K" info --csv
c "$K" reset
c "$K" reset extra
c "$D" run /guests/hello-real.bin
c "$D" run --mode protected /guests/hello-protected.bin
c "$D" run --mode long /guests/hello-long.bin
c "$D" run /guests/cpuid-loop.bin
c "$D" run /guests/exit-zoo.bin
c "$D" run /guests/hostile-triple-fault.bin
c "$D" run --max-exits 5 /guests/cpuid-loop.bin
c "$D" run --mode long --mem 1 --entry 0xff000 /guests/hello-long.bin
c "$D" run --load 0x300000 /guests/hello-real.bin
c "$D" run --entry 0x100000 /guests/hello-real.bin
c "$D" run --mem 4 --load 010 /guests/hello-real.bin
c "$K" run
c "$K" run --mode foo x
c "$K" run --mode
c "$K" run --mem 0 x
c "$K" run --mem 99999 x
c "$K" run --load zz x
c "$K" run --max-exits 0 x
c "$K" run --backend xen x
c "$K" run --frob x
c "$K" run a b
c "$K" run /guests/no-such.bin
c "$K" run --backend kvm --max-exits 3 /guests/hello-real.bin
c "$K" run --backend kvm /guests/hello-real.bin
c "$K" compare --backend kvm x
c "$K" compare --max-exits 3 x
c "$K" compare
c "$K" stat
c "$K" stat --all
c "$K" stat --json
c "$K" stat --csv
c "$K" stat --hist CPUID
c "$K" stat --hist 12
c "$K" stat --hist 0x0a
c "$K" stat --hist FROB
c "$K" stat --cpu 0
c "$K" stat --cpu 0 --json
c "$K" stat --cpu x
c "$K" stat --cpu
c "$K" stat --json --csv
c "$K" stat --bogus
c "$K" stat extra
c "$K" stat --save /tmp/cap/snap
c "$D" stat --since /tmp/cap/snap
c "$D" stat --since /tmp/cap/snap --json
c "$K" stat --since /tmp/cap/nosnap
c "$K" stat --since /guests/hello-real.bin
c "$K" stat --cpu 1 --since /tmp/cap/snap
c "$K" trace --last 5
c "$K" trace --json --last 3
c "$K" trace --csv --last 3
c "$K" trace --outliers --last 2
c "$K" trace --vm 999
c "$K" trace --last 0
c "$K" trace --json --csv
c "$K" trace --vm
c "$D" watch --batch --count 1 --interval 100
c "$K" watch --interval 5
c "$K" watch --count 0
c "$K" watch --bogus
c "$K" record
c "$K" record -o
c "$K" record -o - --interval 0
c "$K" record -o - -- --mode foo x
c "$K" record -o - -- --backend kvm x
c "$D" record -o - --duration 200
c "$D" record -o /tmp/cap/rec.csv -- /guests/cpuid-loop.bin
c "$K" plot
c "$K" plot a b
c "$K" plot /tmp/cap/missing.csv -o /tmp/cap/x.png
c "$K" plot /guests/hello-real.bin -o /tmp/cap/x.png
c "$K" plot /tmp/cap/rec.csv
c "$K" stat --cpu 99
for f in /tmp/cap/a/*; do cat "$f"; done >/tmp/cap/all-a
for f in /tmp/cap/b/*; do cat "$f"; done >/tmp/cap/all-b
echo "@@BEGIN-A@@"; cat /tmp/cap/all-a; echo "@@END-A@@"
echo "@@BEGIN-DIFF@@"; diff -u /tmp/cap/all-a /tmp/cap/all-b; echo "@@END-DIFF@@"
