# Lifecycle: 100 cycles of load, run a guest, unload, without kernel-memory growth or warnings.
. /tests/lib.sh

# Ten cycles first, so first-use allocations and the kernel's per-CPU page caches (which keep
# freed guest RAM pages for a while) have settled; measured: a leak grows with every cycle,
# these do not (Slab and MemFree stay put from cycle 50 to 150).
w=0
while [ $w -lt 10 ]; do
    load && exitscope run /guests/cpuid-loop.bin >/dev/null 2>&1
    unload
    w=$((w + 1))
done
set -- $(kmem_kb)
slab0=$1 free0=$2
i=0
bad=0
while [ $i -lt 100 ]; do
    if ! load; then bad=$((bad + 1)); break; fi
    exitscope run /guests/cpuid-loop.bin >/dev/null 2>&1 || bad=$((bad + 1))
    unload || bad=$((bad + 1))
    i=$((i + 1))
done
set -- $(kmem_kb)
slab1=$1 free1=$2
if [ $bad = 0 ] && [ $i = 100 ]; then pass load_run_unload_100_cycles
else fail load_run_unload_100_cycles "$bad failures in $i cycles"; fi
growth=$(( (slab1 - slab0) + (free0 - free1) ))
# Free-page noise is within +-1 MB with one CPU's page lists, +-2 MB with two (measured).
limit=1024
[ "$(grep -c ^processor /proc/cpuinfo)" -gt 1 ] && limit=2048
if [ $growth -lt $limit ]; then pass load_run_unload_no_memory_growth
else fail load_run_unload_no_memory_growth "kernel memory grew by ${growth} kB (slab $slab0->$slab1, free $free0->$free1)"; fi
