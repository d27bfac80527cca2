// The run flow: one sequence of steps, each a backend call that reports its own failure.
#include "run_flow.hpp"

#include <cstdio>

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
    return p;
}

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
    const guest_plan p = image ? image_plan(o, *image) : linux_plan(o, *boot);

    if (!b.check(p) || !b.create(p))
        return status_error;
    for (const load_segment& s : p.segments)
        if (!b.load(s, p.load_what))
            return status_error;
    if (!b.set_state(p))
        return status_error;
    stop_record stop;
    if (!b.run(p, stop))
        return status_error;

    std::fflush(stdout);
    const stop_summary s = summarize_stop(stop, b.tag(), b.counts());
    std::fprintf(stderr, "%s\n", s.line.c_str());
    b.after_summary(stop);
    return s.status;
}

int run_guest(const run_options& o) {
    const auto b = o.backend == "kvm" ? make_kvm_backend() : make_exitscope_backend();
    return run_flow(o, *b);
}

} // namespace es::cli
