# shellcheck shell=bash
# tools/emu-run --interactive (sourced by tools/emu-run; uses its globals and functions): the
# emulated machine's serial console on the user's terminal, through tools/emu/serial-bridge,
# instead of a log file and a command. The non-interactive path never calls anything here
# except stop_bridge and restore_terminal in cleanup, which do nothing unless a session started.

BRIDGE_PID=
STTY_SAVED=
# The emulators' serial settings, set by run_interactive only (never taken from the environment):
# empty, start_bochs and start_qemu write the serial log file as they always did.
SERIAL_DEV=
SERIAL_MODE=
QEMU_SERIAL=

# What a session has unless the user added it otherwise: the Linux guest where the test suites
# put it, and the memory that guest needs beside the machine's own kernel.
interactive_defaults() {
    local spec has_kernel=0 has_initramfs=0 initramfs="$REPO/build/linux-guest/initramfs.cpio.gz"
    for spec in "${ADDS[@]}"; do
        [[ $spec == *:/vmlinuz ]] && has_kernel=1
        [[ $spec == *:/initramfs.cpio.gz ]] && has_initramfs=1
    done
    ((has_kernel)) || ADDS+=("@kernel:/vmlinuz")
    if ((!has_initramfs)); then
        if [[ -f $initramfs ]]; then ADDS+=("$initramfs:/initramfs.cpio.gz")
        else say "warning: no $initramfs (make linux-guest): the machine will have no /initramfs.cpio.gz"; fi
    fi
    EMU_MEM=${EMU_MEM:-768}
}

# The session's /init: the host terminal's type and size go in (the serial line carries neither).
interactive_init() { # DEST
    local term=${TERM:-vt100} rows=24 cols=80 size
    [[ $term =~ ^[A-Za-z0-9._+-]+$ ]] || term=vt100
    if [[ -t 0 ]] && size=$(stty size 2>/dev/null) && [[ $size =~ ^([1-9][0-9]*)\ ([1-9][0-9]*)$ ]]; then
        rows=${BASH_REMATCH[1]} cols=${BASH_REMATCH[2]}
    fi
    sed -e "s/@TERM@/$term/" -e "s/@ROWS@/$rows/" -e "s/@COLS@/$cols/" \
        "$EMU_DIR/init-interactive.in" >"$1"
}

# A non-interactive bash cannot trap a signal that was ignored when it started, and a job started
# in the background of a script (or under nohup) starts with SIGINT (or SIGHUP) ignored: the
# session's INT and HUP traps were then silently not set, so emu-run kept running after SIGINT or
# SIGHUP with the terminal still raw (make test's sigint/sighup failures). A session asked to end
# must end: emu-run starts itself again once with both at their defaults. The mask is the kernel's
# SigIgn (bit N-1 for signal N: SIGHUP 1, SIGINT 2).
interactive_take_signals() { # ARGS...
    local mask
    [[ -z ${EMU_RUN_SIGNALS_RESET:-} ]] || return 0
    mask=$(awk '$1 == "SigIgn:" { print $2 }' /proc/$$/status 2>/dev/null) || return 0
    [[ $mask =~ ^[0-9a-fA-F]+$ ]] || return 0
    (((16#${mask: -2} & 3) != 0)) || return 0
    EMU_RUN_SIGNALS_RESET=1 exec env --default-signal=INT,HUP "$SCRIPT" "$@"
}

stop_bridge() {
    local pid=$BRIDGE_PID
    [[ -n $pid ]] || return 0
    BRIDGE_PID=
    # Killed outright after 2 s if it hangs: restore_terminal then puts the terminal back.
    stop_child "$pid"
}

# The bridge restores the terminal itself; this is for when it could not (killed with SIGKILL).
restore_terminal() {
    [[ -n $STTY_SAVED ]] || return 0
    stty "$STTY_SAVED" 2>/dev/null || true
    STTY_SAVED=
}

# Boot with the console on this terminal; returns only by exiting with the session's status.
run_interactive() {
    local status=0 ended="" _
    machine_what
    if [[ -t 0 ]]; then STTY_SAVED=$(stty -g); fi
    SERIAL_DEV="$RUN_DIR/serial.pty"
    SERIAL_MODE=term
    say "booting $WHAT, kernel $KVER: the shell comes after the boot (a minute or two in Bochs)"
    say "keys: Ctrl-A x stops the machine; Ctrl-A Ctrl-A x leaves an \`exitscope run\` inside it"
    # An explicit redirection: a background job's standard input would be /dev/null otherwise.
    python3 "$EMU_DIR/serial-bridge" --link "$SERIAL_DEV" --log "$SERIAL" 0<&0 &
    BRIDGE_PID=$!
    for _ in $(seq 50); do
        [[ -L $SERIAL_DEV ]] && break
        kill -0 "$BRIDGE_PID" 2>/dev/null || break
        sleep 0.1
    done
    [[ -L $SERIAL_DEV ]] || die "tools/emu/serial-bridge made no pty"
    # QEMU takes a host tty by its /dev path.
    QEMU_SERIAL=$(readlink -f "$SERIAL_DEV")
    T0=$EPOCHREALTIME
    "start_$EMULATOR"
    wait -n -p ended "$BRIDGE_PID" "$EMU_PID" || status=$?
    if [[ $ended == "$BRIDGE_PID" ]]; then
        # Ctrl-A x (130), the power-off seen (0), or the terminal gone.
        BRIDGE_PID=
    else
        # The emulator ended first: powered off (and exited), or died.
        EMU_PID=
        stop_bridge
        if grep -q 'reboot: Power down' "$SERIAL"; then status=0; else
            say "the emulator stopped by itself; its last words:"
            tail -n 5 "$RUN_DIR/emulator.out" 2>/dev/null | sed 's/^/emu-run:   /' >&2 || true
            status=125
        fi
    fi
    stop_emulator
    restore_terminal
    save_log
    local bad
    bad=$(bad_kernel_lines)
    if [[ -n $bad ]]; then
        say "kernel log shows trouble (oops/BUG/WARNING/lockup/panic/Call Trace):"
        printf '%s\n' "$bad" | head -n 40 | sed 's/^/emu-run:   /' >&2
        status=125
    fi
    say "session ended after $(elapsed)s (status $status); serial log: $LAST_LOG"
    exit "$status"
}
