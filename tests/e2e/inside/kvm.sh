# The KVM backend (`exitscope run --backend kvm`) and `exitscope compare`, with Debian's kvm
# modules. The exit zoo's "counted" numbers come from Exitscope's CPUID leaves, which KVM does not
# have: under KVM only its stop is checked.
. /tests/lib.sh

if kvm_load_idle 2>/tmp/insmod.err; then pass kvm_modules_load
else fail kvm_modules_load "insmod: $(cat /tmp/insmod.err)"; fi
[ -c /dev/kvm ] && pass dev_kvm_exists || { fail dev_kvm_exists "no /dev/kvm"; exit 0; }

for m in real protected long; do
    exitscope run --backend kvm --mode $m /guests/hello-$m.bin >/tmp/kvm-hello.out 2>/tmp/kvm-hello.err
    expect_status kvm_hello_${m}_halts 0 $?
    case $m in
    real) hello="Hello from real mode!" ;;
    protected) hello="Hello from 32-bit protected mode!" ;;
    long) hello="Hello from 64-bit long mode!" ;;
    esac
    same_lines kvm_hello_${m}_prints /tmp/kvm-hello.out "$hello"
    contains kvm_hello_${m}_summary /tmp/kvm-hello.err "^exitscope\[kvm\]: guest halted: "
done
cat /tmp/kvm-hello.err

exitscope run --backend kvm /guests/cpuid-loop.bin >/tmp/kvm-loop.out 2>/tmp/kvm-loop.err
expect_status kvm_cpuid_loop_halts 0 $?
contains kvm_cpuid_loop_prints /tmp/kvm-loop.out "^cpuid-loop: ran 1000 CPUIDs"
# KVM handles CPUID in the kernel: its own counter sees them, user space does not.
contains kvm_stats_count_in_kernel_exits /tmp/kvm-loop.err "KVM counted: exits [0-9]{4,}"
cat /tmp/kvm-loop.err

exitscope run --backend kvm /guests/exit-zoo.bin >/tmp/kvm-zoo.out 2>/tmp/kvm-zoo.err
expect_status kvm_exit_zoo_ends_outside_ram 73 $?
contains kvm_exit_zoo_reports_gpa /tmp/kvm-zoo.err "guest-physical 0xfffff000"
contains kvm_exit_zoo_reaches_the_end /tmp/kvm-zoo.out "reading 0xFFFFF000, outside guest RAM"
cat /tmp/kvm-zoo.out /tmp/kvm-zoo.err

exitscope run --backend kvm --mem 1 --load 0x300000 /guests/hello-real.bin >/dev/null 2>/tmp/kvm-bad.err
expect_status kvm_rejects_load_beyond_ram 1 $?
contains kvm_load_beyond_ram_message /tmp/kvm-bad.err "does not fit in guest RAM"

# Both backends, one after the other: needs Exitscope to hold VMX only while it has a VM.
if load; then
    pass exitscope_loads_next_to_kvm
    exitscope compare /guests/hello-real.bin >/tmp/compare.out 2>/tmp/compare.err
    st=$?
    cat /tmp/compare.out /tmp/compare.err
    expect_status compare_hello_real_same 0 $st
    contains compare_labels_both /tmp/compare.out "^--- kvm: summary"
    contains compare_verdict /tmp/compare.out "^compare: same: both halted"
    exitscope compare /guests/exit-zoo.bin >/tmp/compare-zoo.out 2>&1
    expect_status compare_exit_zoo_differs 1 $?
    contains compare_exit_zoo_says_what /tmp/compare-zoo.out "^compare: DIFFERENT: both access outside guest RAM; consoles differ"
    tail -n 1 /tmp/compare-zoo.out
    unload
else
    fail exitscope_loads_next_to_kvm "insmod exitscope.ko failed while kvm_intel is loaded"
fi
# An endless loop ended by SIGINT. spin-sti, not spin-cli: KVM bounds a guest's slice only by
# host interrupts (external-interrupt exits), and Bochs takes none while the guest runs with IF=0,
# so spin-cli under KVM would freeze this emulated CPU for good (Exitscope uses the
# VMX-preemption timer instead). On real hardware spin-cli ends the same way.
timeout -s INT 3 exitscope run --backend kvm /guests/spin-sti.bin >/dev/null 2>/tmp/kvm-spin.err
expect_status kvm_spin_sti_ended_by_signal 130 $?
contains kvm_spin_sti_summary_says_interrupted /tmp/kvm-spin.err "^exitscope\[kvm\]: run interrupted by a signal"
cat /tmp/kvm-spin.err

rmmod kvm_intel kvm irqbypass
expect_status kvm_modules_unload 0 $?
