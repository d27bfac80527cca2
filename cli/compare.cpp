// `exitscope compare`.
#include "compare.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_flow.hpp"
#include "signals.hpp"
#include "stops.hpp"
#include "text.hpp"

namespace es::cli {

namespace {

volatile pid_t running_child = 0;

// SIGINT/SIGTERM: forward to the running backend (it stops its guest and reports), then stop.
void forward_to_child(int sig) {
    if (const pid_t c = running_child)
        kill(c, sig);
}

std::string plural(std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// The whole content of a descriptor, from offset 0.
std::string read_all(int fd) {
    std::string s;
    char buf[4096];
    off_t at = 0;
    for (;;) {
        const ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        s.append(buf, static_cast<std::size_t>(n));
        at += n;
    }
    return s;
}

// Runs one backend in a child process with stdout and stderr captured in memory files.
bool run_captured(const run_options& o, backend_outcome& out) {
    const int fd_out = memfd_create("exitscope-console", MFD_CLOEXEC);
    const int fd_err = memfd_create("exitscope-messages", MFD_CLOEXEC);
    if (fd_out < 0 || fd_err < 0) {
        std::fprintf(stderr, "exitscope: compare: memfd_create failed: %s\n", std::strerror(errno));
        return false;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
        std::fprintf(stderr, "exitscope: compare: fork failed: %s\n", std::strerror(errno));
        close(fd_out);
        close(fd_err);
        return false;
    }
    if (pid == 0) {
        dup2(fd_out, STDOUT_FILENO);
        dup2(fd_err, STDERR_FILENO);
        const int status = run_guest(o);
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(status);
    }
    running_child = pid;
    if (stop_requested)
        kill(pid, SIGINT);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    running_child = 0;
    out.backend = o.backend;
    out.console = read_all(fd_out);
    out.messages = read_all(fd_err);
    out.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    if (WIFSIGNALED(wstatus))
        out.messages += "exitscope: compare: the " + o.backend + " run was killed by signal " +
                        std::to_string(WTERMSIG(wstatus)) + "\n";
    close(fd_out);
    close(fd_err);
    return true;
}

} // namespace

std::string stop_kind(const backend_outcome& o) {
    // "guest exited with code N" first: a guest may well pick 70..73 as its code.
    const auto at = o.messages.find("guest exited with code ");
    if (at != std::string::npos) {
        const auto from = at + std::strlen("guest exited with code ");
        const auto to = o.messages.find_first_not_of("0123456789", from);
        return "exit code " + o.messages.substr(from, to - from);
    }
    if (o.status == 0)
        return o.messages.find("guest halted") != std::string::npos ? "halted"
                                                                    : "status 0 without a summary";
    if (const stop_entry* e = find_stop_by_status(o.status); e && e->kind)
        return e->kind;
    switch (o.status) {
    case status_interrupted:
        return "interrupted";
    case status_usage:
        return "usage error";
    case status_error:
        return "error";
    default:
        return "unknown stop";
    }
}

std::string console_difference(const backend_outcome& a, const backend_outcome& b) {
    if (a.console == b.console)
        return "";
    std::size_t i = 0;
    while (i < a.console.size() && i < b.console.size() && a.console[i] == b.console[i])
        ++i;
    std::size_t line = 1, line_start = 0;
    for (std::size_t k = 0; k < i; ++k)
        if (a.console[k] == '\n') {
            ++line;
            line_start = k + 1;
        }
    auto snippet = [&](const std::string& c) {
        if (i >= c.size())
            return std::string("nothing more");
        return "\"" + escape_text(c.substr(line_start, i - line_start + 24)) +
               (c.size() > i + 24 ? "...\"" : "\"");
    };
    return "differ at byte " + std::to_string(i) + " (line " + std::to_string(line) +
           "): " + a.backend + " has " + snippet(a.console) + " (" +
           plural(a.console.size(), "byte") + "), " + b.backend + " has " + snippet(b.console) +
           " (" + plural(b.console.size(), "byte") + ")";
}

comparison compare_outcomes(const backend_outcome& a, const backend_outcome& b) {
    const std::string ka = stop_kind(a), kb = stop_kind(b);
    const bool same_stop = ka == kb && a.status == b.status;
    const std::string diff = console_difference(a, b);
    const bool failed = a.status == status_error || a.status == status_usage ||
                        b.status == status_error || b.status == status_usage;
    if (same_stop && diff.empty() && !failed)
        return {true, "compare: same: both " + ka + " (status " + std::to_string(a.status) +
                          "), identical consoles (" + plural(a.console.size(), "byte") + ")"};
    std::string v = "compare: DIFFERENT:";
    if (!same_stop)
        v += " stop: " + a.backend + " " + ka + " (status " + std::to_string(a.status) + "), " +
             b.backend + " " + kb + " (status " + std::to_string(b.status) + ");";
    else if (failed)
        v += " both failed to run (" + ka + ");";
    else
        v += " both " + ka + ";";
    v += diff.empty() ? " consoles identical" : " consoles " + diff;
    return {false, v};
}

std::string format_outcome(const backend_outcome& o) {
    std::string s = "--- " + o.backend + ": console (" + plural(o.console.size(), "byte") +
                    ") ---\n" + o.console;
    if (!o.console.empty() && o.console.back() != '\n')
        s += "\n[no newline at the end of the console]\n";
    s += "--- " + o.backend + ": summary (exit status " + std::to_string(o.status) + ") ---\n" +
         o.messages;
    if (!o.messages.empty() && o.messages.back() != '\n')
        s += "\n";
    return s;
}

int compare_backends(const run_options& o) {
    install_stop_handler(forward_to_child);

    backend_outcome out[2];
    const char* const backends[2] = {"exitscope", "kvm"};
    for (int i = 0; i < 2; ++i) {
        run_options bo = o;
        bo.backend = backends[i];
        if (!run_captured(bo, out[i]))
            return status_error;
        std::fputs(format_outcome(out[i]).c_str(), stdout);
        if (stop_requested) {
            std::printf("compare: interrupted by a signal during the %s run%s\n", backends[i],
                        i == 0 ? "; kvm not run" : "");
            std::fflush(stdout);
            return status_interrupted;
        }
    }
    const comparison c = compare_outcomes(out[0], out[1]);
    std::printf("%s\n", c.verdict.c_str());
    std::fflush(stdout);
    return c.same ? 0 : 1;
}

} // namespace es::cli
