// SIGINT and SIGTERM, for every command that stops cleanly on them (run, compare, watch,
// record): one handler that records the request and, for a command that must act at once,
// calls its hook.
#pragma once

#include <csignal>

namespace es::cli {

// Set once SIGINT or SIGTERM arrived after install_stop_handler.
extern volatile std::sig_atomic_t stop_requested;

// What a command does inside the handler besides setting stop_requested, with the signal's
// number: async-signal-safe work only (kick a vCPU out of KVM_RUN, forward the signal to a
// child).
using stop_hook = void (*)(int sig);

// Installs the handler for SIGINT and SIGTERM, with `hook` (or none). Without SA_RESTART, so a
// blocking ioctl or sleep returns EINTR and the command can still report what happened.
void install_stop_handler(stop_hook hook = nullptr);

} // namespace es::cli
