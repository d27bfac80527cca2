#!/bin/sh
# The CLI binary on the host, fed what a new user might type: a directory, a device, a missing
# file, no /dev/exitscope. Each must end in one clear message and a status of 1 or 2, never an
# uncaught C++ exception (std::terminate: status 134) or an unbounded read.
#   tests/cli/bad_inputs.sh PATH-TO-EXITSCOPE
es=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
# expect WANT-STATUS PATTERN ARGS...: the status and a stderr line matching PATTERN (grep -E).
expect() {
    want=$1 pattern=$2
    shift 2
    timeout 20 "$es" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    got=$?
    if [ "$got" != "$want" ] || ! grep -Eq -- "$pattern" "$tmp/err" || grep -q terminate "$tmp/err"; then
        echo "FAIL exitscope $*: status $got (wanted $want), stderr: $(head -c 300 "$tmp/err")"
        failed=1
    else
        echo "PASS exitscope $*"
    fi
}
mkfifo "$tmp/fifo"
head -c 3145728 /dev/zero >"$tmp/big.bin"
printf 'ESSNAP\r\n' >"$tmp/short.snap"

expect 2 "cannot read image $tmp: it is a directory, not a file" run "$tmp"
expect 2 "cannot read image /dev/zero: it is not a regular file" run /dev/zero
expect 2 "cannot read image $tmp/fifo: it is not a regular file" run "$tmp/fifo"
expect 2 "cannot read image $tmp/missing.bin\$" run "$tmp/missing.bin"
expect 2 "is 3,145,728 bytes, more than the guest's RAM \(2,097,152 bytes; raise --mem\)" \
    run "$tmp/big.bin"
expect 2 "exitscope\[kvm\]: cannot read image $tmp: it is a directory" run --backend kvm "$tmp"
expect 2 "exitscope\[kvm\]: cannot read image /dev/zero: it is not a regular file" \
    run --backend kvm /dev/zero
expect 1 "cannot read snapshot $tmp: it is a directory, not a file" stat --since "$tmp"
expect 1 "cannot read snapshot /dev/zero: it is not a regular file" stat --since /dev/zero
expect 1 "cannot read snapshot $tmp/missing: No such file or directory" stat --since "$tmp/missing"
expect 1 "not an exitscope snapshot" stat --since "$tmp/short.snap"
expect 1 "cannot read $tmp: it is a directory, not a file" plot "$tmp" -o "$tmp/x.png"
expect 1 "cannot read /dev/zero: it is not a regular file" plot /dev/zero -o "$tmp/x.png"
expect 2 "unknown command 'frobnicate'" frobnicate
expect 2 "unexpected or incomplete argument '--frob'" stat --frob
expect 2 "--cpu needs a value" stat --cpu
expect 2 "reasons: --paging nested: give ept or shadow" reasons --paging nested
expect 2 "stat: --cpu reads a host CPU, --vm and --vcpu a VM: choose one" stat --cpu 0 --vm 1
expect 2 "stat: --vm 0: give a number from 1 to" stat --vm 0
expect 2 "record: the VM of -- gets its id when it starts" record -o - --vm 1 -- "$tmp/big.bin"
expect 2 "--mode needs a value" run --mode
expect 2 "--load 08x: give a guest-physical address" run --load 08x "$tmp/big.bin"
expect 2 "unknown option -- " run -- -x
# --add: the file is read (and refused) before the kernel is looked at.
expect 2 "--add $tmp/missing: cannot read $tmp/missing: No such file or directory" \
    run --kernel "$tmp/big.bin" --add "$tmp/missing"
expect 2 "--add $tmp: cannot read $tmp: it is a directory, not a file" \
    run --kernel "$tmp/big.bin" --add "$tmp"
expect 2 "guest path \"rel/x\" is not absolute" run --kernel "$tmp/big.bin" --add "$tmp/big.bin:rel/x"
expect 2 "--add needs --kernel BZIMAGE" run --add "$tmp/big.bin" "$tmp/big.bin"
if [ ! -e /dev/exitscope ]; then
    expect 1 "/dev/exitscope not found: the exitscope module is not loaded" stat
    expect 1 "/dev/exitscope not found" run --entry 0x100000 "$tmp/short.snap"
fi
if [ ! -e /dev/kvm ]; then
    expect 1 "/dev/kvm not found: KVM is not loaded" run --backend kvm "$tmp/short.snap"
fi
exit $failed
