// `exitscope run`.
#include "run.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

#include "command_util.hpp"
#include "device.hpp"
#include "input_file.hpp"
#include "reason_names.hpp"

namespace es::cli {

namespace {

volatile std::sig_atomic_t interrupted = 0;

// SIGINT/SIGTERM interrupt the run ioctl (no SA_RESTART) so the summary still prints.
void on_signal(int) {
    interrupted = 1;
}

} // namespace

stop_summary summarize_stop(const es_run& r, std::uint64_t exits, std::uint64_t cycles,
                            bool was_interrupted) {
    const std::string tail = ": " + std::to_string(exits) + " exits, " + std::to_string(cycles) +
                             " cycles in the hypervisor";
    if (was_interrupted)
        return {"exitscope: run interrupted by a signal at rip " + hex(r.rip) + tail,
                status_interrupted};
    switch (r.stop) {
    case ES_STOP_HALTED:
        return {"exitscope: guest halted" + tail, 0};
    case ES_STOP_EXIT_REQUEST:
        return {"exitscope: guest exited with code " + std::to_string(r.exit_code) + tail,
                static_cast<int>(r.exit_code & 0xff)};
    case ES_STOP_TRIPLE_FAULT:
        return {"exitscope: guest triple-faulted at rip " + hex(r.rip) + tail, status_triple_fault};
    case ES_STOP_EPT_VIOLATION:
        return {"exitscope: guest accessed guest-physical " + hex(r.gpa) +
                    ", outside its RAM (EPT violation, qualification " + hex(r.qualification) +
                    ") at rip " + hex(r.rip) + tail,
                status_ept_violation};
    case ES_STOP_ENTRY_FAILED:
        if (r.exit_reason & (1u << 31))
            return {"exitscope: VM entry failed: " + reason_text(r.exit_reason) +
                        ", qualification " + hex(r.qualification) + tail,
                    status_entry_failed};
        return {"exitscope: VM entry failed: VM-instruction error " +
                    std::to_string(r.vm_instruction_error) + tail,
                status_entry_failed};
    case ES_STOP_RESET:
        return {"exitscope: guest reset the machine (a reboot, or a panic with panic=N) at rip " +
                    hex(r.rip) + tail,
                status_reset};
    case ES_STOP_EXIT_LIMIT:
        return {"exitscope: stopped at the --max-exits limit at rip " + hex(r.rip) + tail,
                status_exit_limit};
    case ES_STOP_UNHANDLED:
    default:
        return {"exitscope: unhandled exit " + reason_text(r.exit_reason) + ", qualification " +
                    hex(r.qualification) + (r.gpa ? ", gpa " + hex(r.gpa) : "") + " at rip " +
                    hex(r.rip) + tail,
                status_unhandled};
    }
}

std::optional<std::string> read_image(const run_options& o, const char* tag) {
    input_error why{};
    auto bytes = read_input_file(
        o.image, o.mem_bytes,
        "the guest's RAM (" + group_digits(o.mem_bytes) + " bytes; raise --mem)", why);
    if (!bytes) {
        // A missing or unreadable file keeps the message it always had.
        if (why.cannot_open)
            std::fprintf(stderr, "%s: cannot read image %s\n", tag, o.image.c_str());
        else
            std::fprintf(stderr, "%s: cannot read image %s: %s\n", tag, o.image.c_str(),
                         why.why.c_str());
        return std::nullopt;
    }
    if (bytes->empty()) {
        std::fprintf(stderr, "%s: image %s is empty\n", tag, o.image.c_str());
        return std::nullopt;
    }
    return bytes;
}

vm_handles open_vm(std::uint64_t mem_bytes, std::uint32_t flags) {
    vm_handles h{open_device(), fd_handle{}};
    if (!h.dev.valid())
        return h;
    es_vm_create create{};
    create.size = sizeof create;
    create.mem_bytes = mem_bytes;
    create.flags = flags;
    h.vm = fd_handle(checked_ioctl(h.dev.get(), ES_IOC_CREATE_VM, &create, "creating the VM"));
    return h;
}

bool load_guest_bytes(int vm, std::uint64_t gpa, const void* data, std::uint64_t len,
                      const char* what) {
    es_vm_load load{};
    load.size = sizeof load;
    load.gpa = gpa;
    load.data = reinterpret_cast<std::uintptr_t>(data);
    load.len = len;
    return checked_ioctl(vm, ES_VM_LOAD, &load, what) >= 0;
}

int run_to_stop(int dev, int vm, std::uint64_t max_exits) {
    install_interrupt_handler(on_signal);
    std::vector<char> console(4096);
    std::uint64_t exits = 0, cycles = 0;
    es_run r{};
    for (;;) {
        r = es_run{};
        r.size = sizeof r;
        r.console = reinterpret_cast<std::uintptr_t>(console.data());
        r.console_cap = static_cast<std::uint32_t>(console.size());
        if (max_exits)
            r.max_exits = max_exits > exits ? max_exits - exits : 1;
        const int rc = checked_ioctl(vm, ES_VM_RUN, &r, "running the guest");
        const bool eintr = rc < 0 && errno == EINTR;
        if (rc < 0 && !eintr)
            return status_error;
        if (r.console_len)
            std::fwrite(console.data(), 1, r.console_len, stdout);
        std::fflush(stdout);
        exits += r.exits;
        cycles += r.cycles;
        if (eintr || interrupted) {
            const stop_summary s = summarize_stop(r, exits, cycles, true);
            std::fprintf(stderr, "%s\n", s.line.c_str());
            return s.status;
        }
        if (r.stop != ES_STOP_CONSOLE_FULL)
            break;
    }
    const stop_summary s = summarize_stop(r, exits, cycles, false);
    std::fprintf(stderr, "%s\n", s.line.c_str());
    // The guest died: show how it got there.
    if (r.stop == ES_STOP_UNHANDLED || r.stop == ES_STOP_ENTRY_FAILED ||
        r.stop == ES_STOP_TRIPLE_FAULT || r.stop == ES_STOP_EPT_VIOLATION)
        print_last_exits(dev, r.vm_id, 16);
    return s.status;
}

int run_guest(const run_options& o) {
    if (!o.kernel.empty())
        return run_linux(o);
    const auto image = read_image(o, "exitscope");
    if (!image)
        return status_usage;
    const vm_handles h = open_vm(o.mem_bytes, o.shadow_paging ? ES_VM_SHADOW_PAGING : 0);
    if (!h.vm.valid())
        return status_error;
    if (!load_guest_bytes(h.vm.get(), o.load, image->data(), image->size(), "loading the image"))
        return status_error;

    es_vcpu_state state{};
    state.size = sizeof state;
    state.mode = o.mode;
    state.entry = *o.entry;
    if (const auto why = explain_state_error(state, o.mem_bytes)) {
        report_failure("exitscope", "setting the start state", EINVAL, *why);
        return status_error;
    }
    if (checked_ioctl(h.vm.get(), ES_VM_SET_STATE, &state, "setting the start state") < 0)
        return status_error;
    return run_to_stop(h.dev.get(), h.vm.get(), o.max_exits);
}

} // namespace es::cli
