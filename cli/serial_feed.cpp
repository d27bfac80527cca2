#include "serial_feed.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <thread>

namespace es::cli {

namespace {
std::atomic<bool> output_without_onlcr{false};

// Standard output is the terminal `fd` is (the same device), so its termios apply to the console.
bool same_terminal_as_stdout(int fd) {
    struct stat in {
    }, out{};
    return isatty(STDOUT_FILENO) && fstat(fd, &in) == 0 && fstat(STDOUT_FILENO, &out) == 0 &&
           in.st_rdev == out.st_rdev;
}
} // namespace

bool console_adds_cr() {
    return output_without_onlcr.load(std::memory_order_relaxed);
}

std::string escape_decoder::feed(std::string_view bytes) {
    std::string out;
    for (const char c : bytes) {
        if (quit)
            break;
        if (after_escape) {
            after_escape = false;
            if (c == 'x' || c == 'X')
                quit = true;
            else if (c == escape_key)
                out += escape_key;
            // Any other key after Ctrl-A is dropped with it, as QEMU does for unknown commands.
            continue;
        }
        if (c == escape_key)
            after_escape = true;
        else
            out += c;
    }
    return out;
}

struct serial_feed::state {
    int fd;
    offer_fn offer;
    std::function<void()> on_quit;
    int stop_pipe[2] = {-1, -1}; // written to end the reader
    bool terminal = false;
    termios saved{};
    std::thread reader;

    // Waits until `fd` is readable (true) or the feed is stopping (false); `ms` < 0: no limit.
    bool wait_readable(int ms) const {
        pollfd p[2] = {{fd, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
        for (;;) {
            const int r = poll(p, 2, ms);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0 || (p[1].revents & (POLLIN | POLLHUP)))
                return false;
            return (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
        }
    }

    bool stopping() const {
        pollfd p{stop_pipe[0], POLLIN, 0};
        return poll(&p, 1, 0) > 0;
    }

    // Offers `bytes` until all are taken (10 ms between tries) or the feed stops.
    void deliver(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size() && !stopping()) {
            const std::size_t n = offer(reinterpret_cast<const std::uint8_t*>(bytes.data()) + done,
                                        bytes.size() - done);
            done += n;
            if (n == 0) {
                pollfd p{stop_pipe[0], POLLIN, 0};
                poll(&p, 1, 10);
            }
        }
    }

    void read_loop() {
        escape_decoder escape;
        char buf[256];
        while (wait_readable(-1)) {
            const ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return; // end of input: the guest goes on without
            const std::string_view got(buf, static_cast<std::size_t>(n));
            const std::string bytes = terminal ? escape.feed(got) : std::string(got);
            deliver(bytes);
            if (escape.quit) {
                on_quit();
                return;
            }
        }
    }
};

serial_feed::serial_feed(int fd, offer_fn offer, std::function<void()> on_quit)
    : s_(std::make_unique<state>()) {
    s_->fd = fd;
    s_->offer = std::move(offer);
    s_->on_quit = std::move(on_quit);
    if (pipe(s_->stop_pipe) != 0)
        return; // no feed: the guest runs without input
    // Raw mode: every key goes to the guest as typed (Ctrl-C included), nothing echoed by the
    // host's terminal. Output processing stays on but for ONLCR: Linux's tty already sends
    // "\r\n", which ONLCR would make "\r\r\n"; write_console adds the CR a bare LF lacks.
    if (isatty(fd) && tcgetattr(fd, &s_->saved) == 0) {
        termios raw = s_->saved;
        cfmakeraw(&raw);
        raw.c_oflag = s_->saved.c_oflag & ~static_cast<tcflag_t>(ONLCR);
        s_->terminal = tcsetattr(fd, TCSANOW, &raw) == 0;
        output_without_onlcr.store(s_->terminal && (s_->saved.c_oflag & ONLCR) &&
                                       same_terminal_as_stdout(fd),
                                   std::memory_order_relaxed);
    }
    s_->reader = std::thread([st = s_.get()] { st->read_loop(); });
}

serial_feed::~serial_feed() {
    if (s_->stop_pipe[1] >= 0) {
        const char one = 1;
        (void)!write(s_->stop_pipe[1], &one, 1);
    }
    if (s_->reader.joinable())
        s_->reader.join();
    if (s_->terminal) {
        std::fflush(stdout); // the console's last bytes still under this run's line ends
        output_without_onlcr.store(false, std::memory_order_relaxed);
        tcsetattr(s_->fd, TCSANOW, &s_->saved);
    }
    for (int p : s_->stop_pipe)
        if (p >= 0)
            close(p);
}

} // namespace es::cli
