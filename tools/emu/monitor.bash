# shellcheck shell=bash
# tools/emu-run's boot monitor (sourced by tools/emu-run; uses its globals and functions): follows
# the serial log of a non-interactive run through its stages (firmware, bootloader, kernel boot,
# init, the command, the kernel log dump), streams the command's output, and turns what it saw
# into emu-run's exit status (finish_run). The kernel-log scan (bad_kernel_lines) serves the
# interactive session too.

# Kernel-log lines that mean trouble, from the serial log (console + dmesg dump),
# without the reports of KNOWN_WARNINGS; those go to $RUN_DIR/known (one line
# each, "FILE:LINE|why", once however often they appear).
bad_kernel_lines() {
    tr -d '\r' <"$SERIAL" | tr -c '[:print:]\t\n' '?' | grep -E "$KLINE_RE" |
        awk -v known="$(printf '%s\n' "${KNOWN_WARNINGS[@]}")" -v out="$RUN_DIR/known" '
            BEGIN { n = split(known, k, "\n") }
            skip {
                # The report ends with its end-trace line; 100 lines at most, so
                # that a report cut short cannot hide what follows.
                if (index($0, "---[ end trace") || ++skipped > 100) skip = 0
                next
            }
            /WARNING: / {
                for (i = 1; i <= n; i++) {
                    sig = k[i]; sub(/\|.*/, "", sig)
                    if (sig != "" && match($0, / at [^ ]+/) && substr($0, RSTART + 4, RLENGTH - 4) == sig) {
                        if (!(sig in seen)) { seen[sig] = 1; print k[i] >out }
                        skip = 1; skipped = 0
                        next
                    }
                }
            }
            { print }' | grep -E "$BAD_RE" | awk '!seen[$0]++' || true
}

# Follow the serial log: report boot stages, stream COMMAND's output to stdout,
# and stop at the exit marker, a panic, the emulator's death or the timeout.
STAGE=firmware
WHAT=
EXIT_STATUS=
PANIC=0
BOOT_TIME=
monitor() {
    local begin="@@EMU-BEGIN-$NONCE@@" exitm="@@EMU-EXIT-$NONCE " dend="@@EMU-DMESG-END-$NONCE@@"
    local initm="@@EMU-INIT-$NONCE@@"
    local line="" part="" deadline next_note now in_cmd=0 done_at=""
    now_ms
    deadline=$((NOW_MS + TIMEOUT * 1000))
    next_note=$((NOW_MS + 5000))
    # tail exits by itself once the emulator is gone (after a last read).
    exec 3< <(exec tail -n +1 -f --pid="$EMU_PID" "$SERIAL" 2>/dev/null)
    while :; do
        if IFS= read -r -t 0.5 part <&3; then
            line+=$part
            line=${line//$'\r'/}
            handle_line "$line"
            line=""
        else
            local rc=$?
            # Timed out mid-line: keep the partial text for the next read.
            if ((rc > 128)); then line+=$part; else
                # EOF: the emulator is gone.
                [[ -n $line ]] && handle_line "${line//$'\r'/}"
                break
            fi
        fi
        [[ -n $EXIT_STATUS && $STAGE == done ]] && break
        now_ms
        now=$NOW_MS
        if ((PANIC)); then
            # Let the panic message finish, then stop (Bochs would reboot).
            [[ -n $done_at ]] || done_at=$((now + 2000))
            ((now >= done_at)) && break
        fi
        if ((now >= deadline)); then
            TIMED_OUT=1
            break
        fi
        if ((now >= next_note)) && ((!in_cmd)); then
            progress "$(elapsed)s ... $STAGE"
            next_note=$((now + 10000))
        fi
    done
    exec 3<&-
}

# What the stage means, for messages.
stage_text() {
    case $STAGE in
        firmware) echo "firmware: no bootloader or kernel output yet" ;;
        bootloader) echo "bootloader: the kernel printed nothing yet" ;;
        "kernel boot") echo "kernel boot: init not reached" ;;
        init) echo "init: the command did not start" ;;
        command) echo "command: started but did not finish" ;;
        "kernel log dump") echo "command finished with status $EXIT_STATUS; kernel log dump/poweroff did not finish" ;;
        *) echo "$STAGE" ;;
    esac
}

TIMED_OUT=0
EXPECT_REBOOT=${EXPECT_REBOOT:-0}
REBOOTED=0
handle_line() {
    local l=$1
    case $STAGE in
        firmware)
            # isolinux prints its banner on the serial port (Bochs only).
            if [[ $l == *ISOLINUX* ]]; then STAGE=bootloader; progress "$(elapsed)s bootloader"; fi
            ;;&
        firmware|bootloader)
            if [[ $l =~ $KLINE_RE ]]; then STAGE="kernel boot"; progress "$(elapsed)s kernel started"; fi
            ;;&
        firmware|bootloader|"kernel boot")
            if [[ $l == *"$initm"* ]]; then STAGE="init"; progress "$(elapsed)s init"; fi
            ;;&
        firmware|bootloader|"kernel boot"|init)
            if [[ $l == *"$begin"* ]]; then
                STAGE="command"
                in_cmd=1
                BOOT_TIME=$(elapsed)
                say "booted $WHAT in ${BOOT_TIME}s; running command"
                return 0
            fi
            ;;
        command)
            if [[ $l =~ $KLINE_RE ]] && [[ $l == *"reboot: Restarting system"* ]]; then
                # The command rebooted the machine: everything up to the restart ran.
                printf '%s\n' "$l"
                REBOOTED=1
                EXIT_STATUS=$((EXPECT_REBOOT ? 0 : 125))
                STAGE=done
                in_cmd=0
                return 0
            fi
            if [[ $l == *"$exitm"* ]]; then
                # Output before the marker on the same line (no final newline).
                local pre=${l%%"$exitm"*} rest=${l#*"$exitm"}
                [[ -n $pre ]] && printf '%s' "$pre"
                EXIT_STATUS=${rest%%@@*}
                STAGE="kernel log dump"
                in_cmd=0
            else
                printf '%s\n' "$l"
            fi
            ;;
        "kernel log dump")
            if [[ $l == *"$dend"* ]]; then STAGE=done; fi
            ;;
    esac
    if [[ $l =~ $KLINE_RE ]] && [[ $l == *"Kernel panic"* ]]; then PANIC=1; fi
    return 0
}

# After monitor: stop the machine, report, and exit with the run's status.
finish_run() {
    if [[ $STAGE == done ]]; then
        # Give poweroff a moment to end the emulator, then end it ourselves.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$EMU_PID" 2>/dev/null || break
            sleep 0.3
        done
    fi
    stop_emulator
    save_log

    local bad
    bad=$(bad_kernel_lines)
    if [[ -s $RUN_DIR/known ]]; then
        local sig
        while IFS='|' read -r sig why; do
            say "known emulator warning, not counted: WARNING at $sig ($why)"
        done <"$RUN_DIR/known"
    fi
    if ((TIMED_OUT)); then
        say "timeout after ${TIMEOUT}s on $WHAT; reached $(stage_text)"
        if [[ -n $bad ]]; then
            say "kernel log trouble:"
            printf '%s\n' "$bad" | head -n 40 | sed 's/^/emu-run:   /' >&2
        fi
        say "serial log: $LAST_LOG"
        exit 124
    fi
    if [[ -n $bad ]]; then
        if ((PANIC)); then say "the kernel panicked; reached $(stage_text)"; fi
        say "kernel log shows trouble (oops/BUG/WARNING/lockup/panic/Call Trace):"
        printf '%s\n' "$bad" | head -n 40 | sed 's/^/emu-run:   /' >&2
        say "serial log: $LAST_LOG"
        exit 125
    fi
    if [[ -z $EXIT_STATUS ]]; then
        say "the machine stopped before the command finished; reached $(stage_text)"
        tail -n 5 "$RUN_DIR/emulator.out" 2>/dev/null | sed 's/^/emu-run:   /' >&2 || true
        say "serial log: $LAST_LOG"
        exit 125
    fi
    if ((REBOOTED)); then
        if ((EXPECT_REBOOT)); then say "the machine restarted, as the command asked"
        else say "the machine restarted during the command (use --expect-reboot if meant); serial log: $LAST_LOG"; fi
    fi
    [[ $EXIT_STATUS =~ ^[0-9]+$ ]] || die "bad exit marker '$EXIT_STATUS'; serial log: $LAST_LOG"
    exit "$EXIT_STATUS"
}
