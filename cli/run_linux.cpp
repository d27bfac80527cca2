// `exitscope run --kernel`: read the bzImage and initrd, lay them out by the 64-bit boot protocol
// (linux_loader.hpp), and start the VM in ES_MODE_LINUX64 on the zero page.
#include <cstdio>

#include "command_util.hpp"
#include "input_file.hpp"
#include "linux_loader.hpp"
#include "run.hpp"
#include "text.hpp"

namespace es::cli {

namespace {

// The whole of `path`, a regular file no bigger than guest RAM; nullopt after saying why not.
std::optional<std::string> read_boot_file(const std::string& path, const char* what,
                                          std::uint64_t mem_bytes) {
    input_error why{};
    auto bytes = read_input_file(
        path, mem_bytes, "the guest's RAM (" + group_digits(mem_bytes) + " bytes; raise --mem)",
        why);
    if (!bytes)
        std::fprintf(stderr, "exitscope: cannot read %s %s: %s\n", what, path.c_str(),
                     why.why.c_str());
    return bytes;
}

} // namespace

std::optional<linux_boot> prepare_linux_boot(const run_options& o) {
    linux_boot b;
    auto kernel = read_boot_file(o.kernel, "kernel", o.mem_bytes);
    if (!kernel)
        return std::nullopt;
    b.kernel = std::move(*kernel);
    if (!o.initrd.empty()) {
        auto bytes = read_boot_file(o.initrd, "initrd", o.mem_bytes);
        if (!bytes)
            return std::nullopt;
        if (bytes->empty()) {
            std::fprintf(stderr, "exitscope: initrd %s is empty\n", o.initrd.c_str());
            return std::nullopt;
        }
        b.initrd = std::move(*bytes);
    }
    std::string error;
    auto plan =
        plan_linux_boot(b.kernel, b.initrd, o.append, o.mem_bytes, ES_LINUX64_HOST_BYTES, error);
    if (!plan) {
        std::fprintf(stderr, "exitscope: %s: %s\n", o.kernel.c_str(), error.c_str());
        return std::nullopt;
    }
    b.plan = std::move(*plan);
    return b;
}

int run_linux(const run_options& o) {
    const auto boot = prepare_linux_boot(o);
    if (!boot)
        return status_usage;
    const linux_boot_plan* plan = &boot->plan;
    const vm_handles h = open_vm(o.mem_bytes);
    if (!h.vm.valid())
        return status_error;
    for (const auto& s : boot_segments(*plan, boot->kernel, boot->initrd))
        if (!load_guest_bytes(h.vm.get(), s.gpa, s.data, s.len, "loading the kernel"))
            return status_error;

    es_vcpu_state state{};
    state.size = sizeof state;
    state.mode = ES_MODE_LINUX64;
    state.entry = plan->entry;
    state.boot_params = plan->boot_params;
    if (checked_ioctl(h.vm.get(), ES_VM_SET_STATE, &state, "setting the start state") < 0)
        return status_error;
    return run_to_stop(h.dev.get(), h.vm.get(), o.max_exits);
}

} // namespace es::cli
