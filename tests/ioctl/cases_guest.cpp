// The ioctl matrix: loading an image, setting the start state and running a guest.
#include "harness.hpp"

namespace ioctl_matrix {

void matrix::load_cases() {
    auto vm_fd = [this] { return vm; };
    static std::vector<std::uint8_t> hlts(vm_mem + 2 * page, 0xF4);
    auto make = [] {
        auto a = sized<es_vm_load>();
        a.gpa = vm_mem - 2 * page;
        a.data = reinterpret_cast<u64>(hlts.data());
        a.len = 64;
        return a;
    };
    struct_cases<es_vm_load>(
        "vm_load", vm_fd, ES_VM_LOAD, make, [](es_vm_load&, long) { return ok(); }, false);
    flags_cases<es_vm_load>("vm_load", vm_fd, ES_VM_LOAD, make);
    auto ld = [this](u64 gpa, u64 data, u64 len) {
        auto a = sized<es_vm_load>();
        a.gpa = gpa;
        a.data = data;
        a.len = len;
        return got{xioctl(vm, ES_VM_LOAD, a), {}};
    };
    const u64 d = reinterpret_cast<u64>(hlts.data());
    add("vm_load/len_0", {EINVAL}, [=] { return ld(0, d, 0); });
    add("vm_load/len_huge", {ENOSPC}, [=] { return ld(0, d, ~u64{0}); });
    add("vm_load/len_ram_plus_1", {ENOSPC}, [=] { return ld(0, d, vm_mem + 1); });
    add("vm_load/whole_ram", {0}, [=] { return ld(0, d, vm_mem); });
    add("vm_load/ends_at_end_of_ram", {0}, [=] { return ld(vm_mem - 100, d, 100); });
    add("vm_load/last_byte", {0}, [=] { return ld(vm_mem - 1, d, 1); });
    add("vm_load/one_byte_beyond_ram", {ENOSPC}, [=] { return ld(vm_mem - 100, d, 101); });
    add("vm_load/gpa_at_end_of_ram", {ENOSPC}, [=] { return ld(vm_mem, d, 1); });
    add("vm_load/gpa_huge", {ENOSPC}, [=] { return ld(u64{1} << 63, d, 1); });
    add("vm_load/gpa_plus_len_overflows", {ENOSPC}, [=] { return ld(~u64{0} - 7, d, 16); });
    add("vm_load/len_wraps_to_gpa_0", {ENOSPC}, [=] { return ld(16, d, ~u64{0} - 15); });
    add("vm_load/data_null", {EFAULT}, [=] { return ld(0, 0, 16); });
    add("vm_load/data_unmapped", {EFAULT}, [=] { return ld(0, unmapped_address(), 16); });
    add("vm_load/data_kernel_address", {EFAULT}, [=] { return ld(0, kernel_address, 16); });
    add("vm_load/data_partly_mapped", {EFAULT}, [=] {
        mapping m(2, 1, false, 0xF4);
        return ld(0, reinterpret_cast<u64>(m.end() - 100), 200);
    });
    add("vm_load/data_partly_mapped_page_aligned_gpa", {EFAULT}, [=] {
        mapping m(2, 1, false, 0xF4);
        return ld(page, m.addr(), 2 * page);
    });
    add("vm_load/data_read_only", {0}, [=] {
        mapping m(1, 1, true, 0xF4);
        return ld(0, m.addr(), page);
    });
    add("vm_load/data_misaligned_crossing_pages", {0}, [=] { return ld(4000, d + 3, 3 * page); });
    // Put the shared VM's image back (HLT everywhere, the ABCD program at 0x1000).
    add("vm_load/restore_image", {0}, [=] {
        std::vector<std::uint8_t> img(vm_mem, 0xF4);
        std::memcpy(img.data() + image_gpa, abcd_image, sizeof abcd_image);
        return ld(0, reinterpret_cast<u64>(img.data()), vm_mem);
    });
}

void matrix::state_cases() {
    auto vm_fd = [this] { return vm; };
    auto make = [] {
        auto a = sized<es_vcpu_state>();
        a.mode = ES_MODE_REAL;
        a.entry = image_gpa;
        return a;
    };
    struct_cases<es_vcpu_state>(
        "vm_set_state", vm_fd, ES_VM_SET_STATE, make, [](es_vcpu_state&, long) { return ok(); },
        false);
    auto st = [this](u32 mode, u64 entry, u64 stack) {
        return got{set_state(vm, mode, entry, stack), {}};
    };
    add("vm_set_state/mode_protected", {0}, [=] { return st(ES_MODE_PROTECTED, 0x1000, 0); });
    add("vm_set_state/mode_long", {0}, [=] { return st(ES_MODE_LONG, 0x1000, 0); });
    add("vm_set_state/linux64_without_zero_page", {EINVAL}, [=] { return st(3, 0x1000, 0); });
    add("vm_set_state/mode_4", {EINVAL}, [=] { return st(4, 0x1000, 0); });
    add("vm_set_state/mode_huge", {EINVAL}, [=] { return st(0xffffffffu, 0x1000, 0); });
    add("vm_set_state/entry_last_byte", {0}, [=] { return st(ES_MODE_REAL, vm_mem - 1, 0); });
    add("vm_set_state/entry_at_end_of_ram", {ENOSPC}, [=] { return st(ES_MODE_REAL, vm_mem, 0); });
    add("vm_set_state/entry_huge", {ENOSPC}, [=] { return st(ES_MODE_REAL, ~u64{0}, 0); });
    add("vm_set_state/stack_end_of_ram", {0}, [=] { return st(ES_MODE_REAL, 0x1000, vm_mem); });
    add("vm_set_state/stack_beyond_ram", {ENOSPC},
        [=] { return st(ES_MODE_REAL, 0x1000, vm_mem + 1); });
    add("vm_set_state/long_entry_in_page_tables", {ENOSPC},
        [=] { return st(ES_MODE_LONG, vm_mem - 4096, 0); });
    add("vm_set_state/protected_stack_above_4g", {ENOSPC, EINVAL},
        [=] { return st(ES_MODE_PROTECTED, 0x1000, u64{1} << 32); });
    // The Linux entry takes a zero page, page aligned and below the top ES_LINUX64_HOST_BYTES;
    // no other mode takes one.
    auto with_zero_page = [this](u32 mode, u64 entry, u64 zero_page) {
        return got{set_state(vm, mode, entry, 0, zero_page), {}};
    };
    auto linux64 = [=](u64 entry, u64 zero_page) {
        return with_zero_page(ES_MODE_LINUX64, entry, zero_page);
    };
    const u64 host_base = vm_mem - ES_LINUX64_HOST_BYTES;
    add("vm_set_state/linux64", {0}, [=] { return linux64(0x1000, 0x2000); });
    add("vm_set_state/linux64_no_zero_page", {EINVAL}, [=] { return linux64(0x1000, 0); });
    add("vm_set_state/linux64_zero_page_unaligned", {EINVAL},
        [=] { return linux64(0x1000, 0x2001); });
    add("vm_set_state/linux64_zero_page_in_host_area", {ENOSPC},
        [=] { return linux64(0x1000, host_base); });
    add("vm_set_state/linux64_entry_in_host_area", {ENOSPC},
        [=] { return linux64(host_base, 0x2000); });
    add("vm_set_state/real_with_zero_page", {EINVAL},
        [=] { return with_zero_page(ES_MODE_REAL, 0x1000, 0x2000); });
    add("vm_set_state/long_with_zero_page", {EINVAL},
        [=] { return with_zero_page(ES_MODE_LONG, 0x1000, 0x2000); });
    // Leave the shared VM as the run cases expect it.
    add("vm_set_state/restore", {0}, [=] { return st(ES_MODE_REAL, image_gpa, 0); });
}

void matrix::run_cases() {
    auto vm_fd = [this] { return vm; };
    // Each run starts the ABCD program afresh; without a console it prints nowhere.
    auto make = [this] {
        set_state(vm, ES_MODE_REAL, image_gpa);
        return sized<es_run>();
    };
    auto halted = [](es_run& r, long) {
        if (r.stop != ES_STOP_HALTED)
            return problem("stop " + std::to_string(r.stop) + ", wanted halted (1)");
        return ok();
    };
    struct_cases<es_run>("vm_run", vm_fd, ES_VM_RUN, make, halted, true);
    flags_cases<es_run>("vm_run", vm_fd, ES_VM_RUN, make);

    // The console: 4 bytes "ABCD" go to `console`.
    auto con = [this](u64 console, u32 cap, const std::string& expect) {
        set_state(vm, ES_MODE_REAL, image_gpa);
        auto r = sized<es_run>();
        r.console = console;
        r.console_cap = cap;
        if (int e = xioctl(vm, ES_VM_RUN, r))
            return got{e, {}};
        if (r.stop != ES_STOP_HALTED)
            return problem("stop " + std::to_string(r.stop) + ", wanted halted (1)");
        if (r.console_len != expect.size())
            return problem("console_len " + std::to_string(r.console_len) + ", wanted " +
                           std::to_string(expect.size()));
        if (!expect.empty() &&
            std::memcmp(reinterpret_cast<void*>(console), expect.data(), expect.size()) != 0)
            return problem("console bytes differ from " + expect);
        if (r.exits < 5)
            return problem("exits " + std::to_string(r.exits) + ", wanted >= 5");
        return ok();
    };
    add("vm_run/console_valid", {0}, [=] {
        char buf[16] = {};
        return con(reinterpret_cast<u64>(buf), sizeof buf, "ABCD");
    });
    add("vm_run/console_misaligned", {0}, [=] {
        alignas(8) char buf[16] = {};
        return con(reinterpret_cast<u64>(buf + 1), 8, "ABCD");
    });
    add("vm_run/console_cap_2_truncates", {0}, [=, this] {
        // A full console stops the run (console full) before the HLT.
        set_state(vm, ES_MODE_REAL, image_gpa);
        char buf[2] = {};
        auto r = sized<es_run>();
        r.console = reinterpret_cast<u64>(buf);
        r.console_cap = 2;
        if (int e = xioctl(vm, ES_VM_RUN, r))
            return got{e, {}};
        if (r.stop != ES_STOP_CONSOLE_FULL || r.console_len != 2 || buf[0] != 'A' || buf[1] != 'B')
            return problem("stop " + std::to_string(r.stop) + " console_len " +
                           std::to_string(r.console_len) + ", wanted console full (7) and AB");
        return ok();
    });
    add("vm_run/console_cap_huge", {0}, [=] {
        mapping m(1, 1);
        return con(m.addr(), 0xffffffffu, "ABCD");
    });
    add("vm_run/console_null_cap_0", {0}, [=] { return con(0, 0, ""); });
    add("vm_run/console_set_cap_0", {0}, [=] {
        char buf[4] = {'x', 'x', 'x', 'x'};
        got g = con(reinterpret_cast<u64>(buf), 0, "");
        if (!g.err && g.problem.empty() && buf[0] != 'x')
            g.problem = "console written with console_cap 0";
        return g;
    });
    add("vm_run/console_null_cap_16", {EFAULT}, [=] { return con(0, 16, "ABCD"); });
    add("vm_run/console_unmapped", {EFAULT}, [=] { return con(unmapped_address(), 16, "ABCD"); });
    add("vm_run/console_kernel_address", {EFAULT}, [=] { return con(kernel_address, 16, "ABCD"); });
    add("vm_run/console_partly_mapped", {EFAULT}, [=] {
        mapping m(2, 1);
        return con(reinterpret_cast<u64>(m.end() - 2), 16, "ABCD");
    });
    add("vm_run/console_read_only", {EFAULT}, [=] {
        mapping m(1, 1, true);
        return con(m.addr(), 16, "ABCD");
    });
    // The guest stays usable after each bad console.
    add("vm_run/after_bad_consoles", {0}, [=] {
        char buf[16] = {};
        return con(reinterpret_cast<u64>(buf), sizeof buf, "ABCD");
    });

    // A signal ends a run of an endless guest with EINTR; the guest can be resumed.
    add("vm_run/signal_gives_eintr", {EINTR}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, spin_image, sizeof spin_image, &v))
            return problem("guest setup: " + errno_text(e));
        std::atomic<bool> done{false};
        const pthread_t self = pthread_self();
        std::thread t([&] {
            // Keep signalling until the run returns (a signal before the run starts is lost).
            for (int i = 0; i < 200; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                if (done)
                    break;
                pthread_kill(self, SIGUSR1);
            }
        });
        es_run r;
        const int e = run(v.fd, &r);
        done = true;
        t.join();
        if (e == EINTR && r.exits == 0)
            return got{e, "EINTR with exits 0: counts not returned"};
        return got{e, {}};
    });
}

// Serial input (ES_VM_INPUT): checked like every struct, a ring that fills and then takes
// nothing, and never behind a run of the same VM.
void matrix::input_cases() {
    auto vm_fd = [this] { return vm; };
    static const std::string bytes(ES_INPUT_RING_BYTES + 1, 'x');
    auto make = [] {
        auto a = sized<es_input>();
        a.data = reinterpret_cast<u64>(bytes.data());
        a.len = 1;
        return a;
    };
    auto took_at_most_len = [](es_input& a, long) {
        return a.accepted <= a.len ? ok() : problem("accepted " + std::to_string(a.accepted));
    };
    struct_cases<es_input>("vm_input", vm_fd, ES_VM_INPUT, make, took_at_most_len, true);
    flags_cases<es_input>("vm_input", vm_fd, ES_VM_INPUT, make);
    auto in = [this](u64 data, u32 len, u32 accepted_in) {
        auto a = sized<es_input>();
        a.data = data;
        a.len = len;
        a.accepted = accepted_in;
        return got{xioctl(vm, ES_VM_INPUT, a), {}};
    };
    const u64 d = reinterpret_cast<u64>(bytes.data());
    add("vm_input/len_over_ring", {EINVAL}, [=] { return in(d, ES_INPUT_RING_BYTES + 1, 0); });
    add("vm_input/accepted_not_zero", {EINVAL}, [=] { return in(d, 1, 1); });
    add("vm_input/data_null", {EFAULT}, [=] { return in(0, 1, 0); });
    add("vm_input/data_unmapped", {EFAULT}, [=] { return in(unmapped_address(), 1, 0); });
    add("vm_input/len_0", {0}, [=] { return in(0, 0, 0); });
    add("vm_input/ring_fills_then_takes_nothing", {0}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, spin_image, sizeof spin_image, &v))
            return problem("guest setup: " + errno_text(e));
        auto a = sized<es_input>();
        a.data = d;
        a.len = ES_INPUT_RING_BYTES;
        if (int e = xioctl(v.fd, ES_VM_INPUT, a))
            return got{e, {}};
        if (a.accepted != ES_INPUT_RING_BYTES)
            return problem("first push took " + std::to_string(a.accepted));
        a.accepted = 0;
        a.len = 1;
        if (int e = xioctl(v.fd, ES_VM_INPUT, a))
            return got{e, {}};
        return a.accepted == 0 ? ok() : problem("a full ring took " + std::to_string(a.accepted));
    });
    // Input goes in while another thread runs the VM: it never waits for the run.
    add("vm_input/beside_a_run", {0}, [=, this] {
        fd_guard v;
        if (int e = make_guest(dev, vm_mem, spin_image, sizeof spin_image, &v))
            return problem("guest setup: " + errno_text(e));
        std::atomic<bool> run_done{false};
        std::thread runner([&] {
            es_run r;
            run(v.fd, &r);
            run_done = true;
        });
        const pthread_t runner_thread = runner.native_handle();
        std::this_thread::sleep_for(std::chrono::milliseconds(200)); // the run has started
        auto a = sized<es_input>();
        a.data = d;
        a.len = 16;
        const int e = xioctl(v.fd, ES_VM_INPUT, a);
        const bool input_first = !run_done;
        for (int i = 0; i < 200 && !run_done; ++i) {
            pthread_kill(runner_thread, SIGUSR1);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        runner.join();
        if (e)
            return got{e, {}};
        if (!input_first)
            return problem("the run ended before the input returned");
        return a.accepted == 16 ? ok() : problem("accepted " + std::to_string(a.accepted));
    });
}

} // namespace ioctl_matrix
