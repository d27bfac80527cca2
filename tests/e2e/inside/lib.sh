# Helpers for end-to-end checks that run inside the emulated machine (busybox sh).
# Each check prints one line, "PASS name" or "FAIL name: why", which tests/e2e/run-suite counts.

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# check NAME CONDITION-COMMAND...: PASS when the command succeeds.
check() {
    name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}

# expect_status NAME WANT GOT
expect_status() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "exit status $3, wanted $2"; fi
}

# contains NAME FILE PATTERN (grep -E)
contains() {
    if grep -Eq "$3" "$2"; then pass "$1"; else fail "$1" "no line matching '$3' in: $(head -c 400 "$2")"; fi
}

# same_lines NAME FILE LINE...: PASS when FILE holds exactly these lines, nothing more, nothing less
# (what a deterministic guest prints).
same_lines() {
    name=$1 file=$2
    shift 2
    printf '%s\n' "$@" >/tmp/same_lines.want
    if cmp -s /tmp/same_lines.want "$file"; then pass "$name"
    else fail "$name" "wanted '$(tr '\n' '|' </tmp/same_lines.want)', got '$(head -c 600 "$file" | tr '\n' '|')'"; fi
}

load() { insmod /exitscope.ko "$@"; }
unload() { rmmod exitscope; }

# Kernel memory figures in kB: "SLAB FREE", where FREE counts the pages the per-CPU page lists
# hold as free too (MemFree alone swings by megabytes with them on 2 CPUs).
kmem_kb() {
    pcp=$(awk '$1 == "count:" {s += $2} END {print s * 4}' /proc/zoneinfo)
    awk -v pcp="$pcp" '/^Slab:/ {s=$2} /^MemFree:/ {f=$2} END {print s " " f + pcp}' /proc/meminfo
}

# json_number FILE KEY-PATTERN: the first number after "KEY": in a one-line JSON document.
json_field() { sed -n "s/.*\"$2\":\([a-z0-9]*\).*/\1/p" "$1" | head -n 1; }

# reason_count JSONFILE N: "count" of reason N in `exitscope stat --json` output.
reason_count() { tr '{' '\n' <"$1" | sed -n "s/^\"reason\":$2,.*\"count\":\([0-9]*\).*/\1/p"; }

# Kernel log time stamp now, and the kernel log after such a stamp: checks that look for
# warnings in dmesg look at what their own test caused (a boot-time WARNING that the emulator
# causes, such as Linux 6.12's in Bochs, is emu-run's business: it knows those).
klog_now() { dmesg | tail -n 1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
klog_since() {
    dmesg | awk -v t0="${1:-0}" '
        /^\[ *[0-9]+\.[0-9]+\]/ { ts = substr($0, 2, index($0, "]") - 2) + 0; keep = ts > t0 }
        keep { print }'
}

# Load Debian's KVM modules so that KVM holds VMX only while one of its VMs runs: on Linux 6.12+
# (kvm.ko has enable_virt_at_load) kvm.ko is loaded again with enable_virt_at_load=0, since by
# default kvm_intel would take VMX at load and Exitscope could not load beside it.
kvm_load_idle() {
    insmod /lib/modules/kvm/irqbypass.ko && insmod /lib/modules/kvm/kvm.ko || return 1
    if [ -e /sys/module/kvm/parameters/enable_virt_at_load ]; then
        rmmod kvm && insmod /lib/modules/kvm/kvm.ko enable_virt_at_load=0 || return 1
    fi
    insmod /lib/modules/kvm/kvm-intel.ko
}

# running PID: the process exists and has not exited (a background job stays a zombie, which
# `kill -0` still reaches, until the shell waits for it).
running() { [ -r /proc/$1/status ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status; }

# hop PID: move the process to the next CPU every 0.2 s while it runs; prints the number of moves.
hop() {
    n=0 cpus=$(grep -c ^processor /proc/cpuinfo)
    while running "$1"; do
        taskset -p $((1 << (n % cpus))) "$1" >/dev/null 2>&1
        n=$((n + 1))
        sleep 0.2
    done
    echo $n
}

# console_boot NAME SECONDS RUN-OPTIONS...: one boot of /vmlinuz with the shipped initramfs, ended
# by SIGINT after SECONDS; the console is shown (guest time stamps marked as guest(T), so that
# emu-run does not take them for the host's) and kept in /tmp/NAME.out, the summary in
# /tmp/NAME.err and the status in /tmp/NAME.status.
console_boot() {
    name=$1 seconds=$2
    shift 2
    {
        timeout -s INT "$seconds" exitscope run "$@" --kernel "${BOOT_KERNEL:-/vmlinuz}" --initrd /initramfs.cpio.gz \
            2>"/tmp/$name.err"
        echo $? >"/tmp/$name.status"
    } | tee "/tmp/$name.out" | sed 's/\[\( *[0-9]*\.[0-9]*\)\]/guest(\1)/'
}
