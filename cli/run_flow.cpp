// The run flow: one sequence of steps, each a backend call that reports its own failure.
#include "run_flow.hpp"

#include <cpuid.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "serial_feed.hpp"
#include "signals.hpp"
#include "text.hpp"

namespace es::cli {

guest_plan image_plan(const run_options& o, const std::string& image) {
    guest_plan p;
    p.mem_bytes = o.mem_bytes;
    p.segments = {{o.load, image.data(), image.size()}};
    p.load_what = "loading the image";
    p.state.size = sizeof p.state;
    p.state.mode = o.mode;
    p.state.entry = *o.entry;
    p.max_exits = o.max_exits;
    return p;
}

guest_plan linux_plan(const run_options& o, const linux_boot& boot) {
    guest_plan p;
    p.mem_bytes = o.mem_bytes;
    p.segments = boot_segments(boot.plan, boot.kernel, boot.initrd);
    p.load_what = "loading the kernel";
    p.state.size = sizeof p.state;
    p.state.mode = ES_MODE_LINUX64;
    p.state.entry = boot.plan.entry;
    p.state.boot_params = boot.plan.boot_params;
    p.max_exits = o.max_exits;
    p.vcpus = o.vcpus;
    return p;
}

namespace {

// The MP table's processor signature and features: the host's CPUID.1, which both backends'
// CPUID views start from.
bool add_linux_mp_table(const run_options& o, linux_boot& boot) {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    __get_cpuid(1, &eax, &ebx, &ecx, &edx);
    const std::string why = add_mp_table(boot.plan, o.vcpus, eax, edx);
    if (!why.empty())
        std::fprintf(stderr, "exitscope: --cpus %u: %s\n", o.vcpus, why.c_str());
    return why.empty();
}

} // namespace

int run_flow(const run_options& o, backend& b) {
    if (!b.accepts(o))
        return status_usage;
    std::optional<std::string> image;
    std::optional<linux_boot> boot;
    if (o.kernel.empty())
        image = read_image(o, b.tag());
    else
        boot = prepare_linux_boot(o);
    if (!image && !boot)
        return status_usage;
    if (boot && !add_linux_mp_table(o, *boot))
        return status_usage;
    guest_plan p = image ? image_plan(o, *image) : linux_plan(o, *boot);
    p.console_raw = o.raw || !isatty(STDOUT_FILENO);
    p.shadow_paging = o.shadow_paging;
    p.paging_given = o.paging_given;

    if (!b.check(p) || !b.create(p))
        return status_error;
    for (const load_segment& s : p.segments)
        if (!b.load(s, p.load_what))
            return status_error;
    if (!b.set_state(p))
        return status_error;
    stop_record stop;
    // A Linux guest's serial port reads standard input while it runs; Ctrl-A x (on a terminal)
    // ends the run as SIGINT does. The handler is in place before the first key can arrive.
    install_stop_handler();
    bool ran = false;
    {
        std::unique_ptr<serial_feed> feed;
        if (p.state.mode == ES_MODE_LINUX64)
            feed = std::make_unique<serial_feed>(
                STDIN_FILENO,
                [&b](const std::uint8_t* bytes, std::size_t n) { return b.offer_input(bytes, n); },
                [runner = pthread_self()] { pthread_kill(runner, SIGINT); });
        ran = b.run(p, stop);
    }
    if (!ran)
        return status_error;

    std::fflush(stdout);
    const stop_summary s = summarize_stop(stop, b.tag(), b.counts());
    std::fprintf(stderr, "%s\n", s.line.c_str());
    b.after_summary(stop);
    return s.status;
}

void write_console(const char* bytes, std::size_t n, bool raw) {
    static bool after_cr = false; // console writes are serialized (one writer, or in order)
    const std::string safe = raw ? std::string() : terminal_safe(std::string_view(bytes, n));
    const std::string_view text = raw ? std::string_view(bytes, n) : std::string_view(safe);
    if (console_adds_cr()) {
        const std::string ends = terminal_line_ends(text, after_cr);
        std::fwrite(ends.data(), 1, ends.size(), stdout);
        return;
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
}

int run_guest(const run_options& o) {
    const auto b = o.backend == "kvm" ? make_kvm_backend() : make_exitscope_backend();
    return run_flow(o, *b);
}

} // namespace es::cli
