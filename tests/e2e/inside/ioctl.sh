# The ioctl negative-test matrix (tests/ioctl/ioctl_matrix.cpp): every ioctl of the ABI with bad
# sizes, reserved fields, flags, pointers, lengths, RAM sizes, descriptors and races. Needs
# /bin/ioctl_matrix in the machine (emu-run --add build/cmake/cli/ioctl_matrix:/bin/ioctl_matrix).
. /tests/lib.sh

if [ ! -x /bin/ioctl_matrix ]; then
    fail matrix_present "/bin/ioctl_matrix missing (emu-run --add it)"
    exit 0
fi
t0=$(klog_now)
load || { fail load "insmod failed"; exit 0; }

# The matrix prints its own PASS/FAIL lines; its summary line says how many cases it ran.
/bin/ioctl_matrix >/tmp/ioctl.out 2>/tmp/ioctl.err
st=$?
cat /tmp/ioctl.out
npass=$(grep -c '^PASS ioctl/' /tmp/ioctl.out)
nfail=$(grep -c '^FAIL ioctl/' /tmp/ioctl.out)
ncases=$(sed -n 's/^ioctl matrix: \([0-9]*\) cases$/\1/p' /tmp/ioctl.out)
if [ -n "$ncases" ] && [ $((npass + nfail)) = "$ncases" ]; then pass matrix_completed
else fail matrix_completed "status $st, $npass PASS + $nfail FAIL lines, summary says '$ncases' cases: $(tail -c 400 /tmp/ioctl.err)"; fi
if [ $st = 0 ] || [ "$nfail" != 0 ]; then pass matrix_exit_status
else fail matrix_exit_status "exit status $st without a FAIL line"; fi

# The kernel log since the matrix started has no warning, oops, BUG or OOM kill (emu-run checks
# the console too; the timestamps are cut from the message so that emu-run does not take it for
# a kernel line).
klog_since "$t0" >/tmp/ioctl.klog
if grep -Eq 'WARNING:|BUG:|Oops|general protection fault|Call Trace|invoked oom-killer' /tmp/ioctl.klog; then
    fail dmesg_clean "$(grep -E -m 5 'WARNING:|BUG:|Oops|general protection|Call Trace|oom-killer' /tmp/ioctl.klog | sed 's/^\[ *[0-9.]*\] //' | tr '\n' ';')"
else pass dmesg_clean; fi

# The program closed every descriptor: the module unloads.
unload
expect_status rmmod_after_matrix 0 $?
check module_gone sh -c '! grep -q "^exitscope " /proc/modules'
