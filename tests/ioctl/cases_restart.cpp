// The ioctl matrix: a new start state after a run that stopped with an event still pending.
// ES_VM_SET_STATE must leave nothing of the earlier run behind: neither an exception a handler
// queued for injection nor the interrupt window a Linux guest's board asked for. Either would
// reach the fresh guest (issue 20's "stale events"): the #GP through a real-mode IVT of HLT bytes
// lands outside RAM, and the window makes an interrupt-enabled toy guest exit before every
// instruction.
#include "harness.hpp"

namespace ioctl_matrix {

namespace {

// mov ecx, 0x12345678; rdmsr; hlt (real mode): the RDMSR of an MSR no one has injects #GP.
constexpr std::uint8_t gp_image[] = {0x66, 0xB9, 0x78, 0x56, 0x34, 0x12, 0x0F, 0x32, 0xF4};
// A Linux guest's board with IRQ 0 pending that the guest never takes (long mode):
// ICW1-ICW4 to the master 8259A (vectors 0x20-0x27), IRQ 0 unmasked, PIT channel 0 in mode 2
// with count 0x1000, then cli; jmp $.
constexpr std::uint8_t window_image[] = {0xB0, 0x11, 0xE6, 0x20, 0xB0, 0x20, 0xE6, 0x21, 0xB0,
                                         0x04, 0xE6, 0x21, 0xB0, 0x01, 0xE6, 0x21, 0xB0, 0xFE,
                                         0xE6, 0x21, 0xB0, 0x34, 0xE6, 0x43, 0xB0, 0x00, 0xE6,
                                         0x40, 0xB0, 0x10, 0xE6, 0x40, 0xFA, 0xEB, 0xFE};
// sti; mov cx,4; mov al,'A'; l: out 0xE9,al; inc al; loop l; cli; hlt: "ABCD" with interrupts on.
constexpr std::uint8_t sti_abcd_image[] = {0xFB, 0xB9, 0x04, 0x00, 0xB0, 0x41, 0xE6,
                                           0xE9, 0xFE, 0xC0, 0xE2, 0xFA, 0xFA, 0xF4};
constexpr u64 zero_page_gpa = 0x2000;

got run_bounded(int vm, u64 max_exits, es_run& r, char* console, u32 cap) {
    r = sized<es_run>();
    r.console = reinterpret_cast<u64>(console);
    r.console_cap = cap;
    r.max_exits = max_exits;
    return {xioctl(vm, ES_VM_RUN, r), {}};
}

// The first run stops at its exit bound (the guest is resumable, its event still pending).
got first_run_ends_at_limit(int vm, u64 max_exits, const char* where) {
    es_run r;
    if (got e = run_bounded(vm, max_exits, r, nullptr, 0); e.err)
        return e;
    if (r.stop != ES_STOP_EXIT_LIMIT)
        return problem("first run: stop " + std::to_string(r.stop) +
                       ", wanted the exit limit (8) " + where);
    return ok();
}

// The fresh real-mode guest at 0x1000 prints ABCD and halts, in a handful of exits.
got fresh_guest_prints_abcd(int vm, const std::uint8_t* image, std::size_t len) {
    if (int e = load(vm, image_gpa, image, len))
        return {e, {}};
    if (int e = set_state(vm, ES_MODE_REAL, image_gpa))
        return {e, {}};
    es_run r;
    char console[16] = {};
    got g = run_bounded(vm, 100, r, console, sizeof console);
    if (g.err)
        return g;
    if (r.stop != ES_STOP_HALTED || r.console_len != 4 || std::memcmp(console, "ABCD", 4) != 0)
        return problem("second run: stop " + std::to_string(r.stop) + ", console_len " +
                       std::to_string(r.console_len) + ", wanted halted (1) after ABCD");
    if (r.exits > 10)
        return problem("second run took " + std::to_string(r.exits) + " exits, wanted <= 10");
    return ok();
}

} // namespace

void matrix::restart_cases() {
    add("vm_set_state/after_pending_exception", {0}, [this] {
        fd_guard g;
        if (int e = make_guest(dev, vm_mem, gp_image, sizeof gp_image, &g))
            return got{e, {}};
        if (got e = first_run_ends_at_limit(g.fd, 1, "right after the RDMSR");
            e.err || !e.problem.empty())
            return e;
        return fresh_guest_prints_abcd(g.fd, abcd_image, sizeof abcd_image);
    });
    add("vm_set_state/after_board_interrupt_window", {0}, [this] {
        fd_guard g;
        if (int e = make_guest(dev, vm_mem, window_image, sizeof window_image, &g))
            return got{e, {}};
        if (int e = set_state(g.fd, ES_MODE_LINUX64, image_gpa, 0, zero_page_gpa))
            return got{e, {}};
        if (got e = first_run_ends_at_limit(g.fd, 60, "while the guest spins with IRQ 0 held");
            e.err || !e.problem.empty())
            return e;
        return fresh_guest_prints_abcd(g.fd, sti_abcd_image, sizeof sti_abcd_image);
    });
}

} // namespace ioctl_matrix
