# Serial input soak: 128 KiB of random bytes (every value but 'q', which ends the guest) piped
# into serial-echo.bin's COM1 on the Linux board. Every byte comes back once, in order, whatever
# its value (NUL, control bytes, Ctrl-A: a pipe is not a terminal, so no escape applies), while
# the PIT ticks and the guest sleeps in HLT between bursts; the host stays healthy. The same
# under the KVM backend (the same COM1 model, in user space).
. /tests/lib.sh

t0=$(klog_now)
load || { fail serial_soak_load "insmod failed"; exit 0; }
head -c 140000 /dev/urandom | tr -d q | head -c 131072 >/tmp/soak.in
{ printf 'ready\n'; cat /tmp/soak.in; printf 'bye\n'; } >/tmp/soak.want
# soak CHECK [RUN OPTIONS...]: the random bytes, then 'q', through one run of the echo guest.
soak() {
    check=$1
    shift
    { cat /tmp/soak.in; printf 'q'; } | timeout -s INT 600 exitscope run "$@" \
        --kernel /guests/serial-echo.bin >/tmp/soak.out 2>/tmp/soak.err
    expect_status "${check}_status" 0 $?
    if cmp -s /tmp/soak.want /tmp/soak.out; then pass "${check}_every_byte_once_in_order"
    else fail "${check}_every_byte_once_in_order" "$(cmp /tmp/soak.want /tmp/soak.out 2>&1 | head -n 1); $(wc -c </tmp/soak.out) bytes out of $(wc -c </tmp/soak.want)"; fi
}
soak serial_soak
if klog_since "$t0" | grep -Eq 'WARNING:|BUG:|Oops|Call Trace'; then
    fail serial_soak_host_log "$(klog_since "$t0" | grep -E -m 1 'WARNING:|BUG:|Oops|Call Trace' | sed 's/^\[ *[0-9.]*\] //')"
else pass serial_soak_host_log; fi
unload
expect_status serial_soak_unload 0 $?
if kvm_load_idle; then
    soak serial_soak_kvm --backend kvm
    rmmod kvm_intel kvm irqbypass 2>/dev/null
else
    fail serial_soak_kvm_load "kvm_intel did not load"
fi
