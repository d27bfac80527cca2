// The one SIGINT/SIGTERM handler.
#include "signals.hpp"

namespace es::cli {

volatile std::sig_atomic_t stop_requested = 0;

namespace {

stop_hook volatile current_hook = nullptr;

void on_stop_signal(int sig) {
    stop_requested = 1;
    if (const stop_hook hook = current_hook)
        hook(sig);
}

} // namespace

void install_stop_handler(stop_hook hook) {
    current_hook = hook;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

} // namespace es::cli
