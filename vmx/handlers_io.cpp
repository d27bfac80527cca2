// Port I/O, by the guest conventions of the README: 0xE9 is the console, 0xF4 ends the run with
// an exit code, other writes are dropped and other reads return all ones. A Linux guest's VM
// also has a PC board (board/pc_board.hpp), which claims its devices' ports first: COM1, whose
// transmitted bytes take the console's path, the PIC, the PIT, the CMOS clock, the reset ports.
#include "board_guard.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "exitscope/ports.hpp"
#include "sdm/exit_qualification.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

bool append_console(es_vm& vm, std::uint64_t value, unsigned n) {
    // A caller without a console buffer (console_limit 0) does not want the bytes.
    for (unsigned i = 0; i < n && vm.console_len < vm.console_limit; ++i)
        vm.console[vm.console_len++] = static_cast<std::uint8_t>(value >> (8 * i));
    return vm.console_limit && vm.console_len == vm.console_limit;
}

namespace {

// IN's result in RAX: 32-bit results clear the upper half, narrower ones merge ("MOV"
// semantics).
void set_in_result(es_vcpu& vcpu, const sdm::io_qualification& q, std::uint64_t value) {
    const std::uint64_t mask = sdm::io_size_mask(q.size);
    vcpu.regs.rax = q.size == 4 ? value : ((vcpu.regs.rax & ~mask) | value);
}

// Port 0xE9: the bytes go to the console buffer. When it fills, hand them to user space; the
// next run call continues after this OUT.
exit_action to_console(exit_context& ctx, std::uint64_t value, unsigned n) {
    const board_guard g{ctx.vm}; // several vCPUs share the console
    if (append_console(ctx.vm, value, n))
        return stop_with(ctx, ES_STOP_CONSOLE_FULL);
    return exit_action::skip;
}

// The plain conventions, for every port of a toy guest and the ports a board does not claim.
[[gnu::always_inline]] inline exit_action conventions(exit_context& ctx,
                                                      const sdm::io_qualification& q) {
    es_vcpu& vcpu = ctx.vcpu;
    const std::uint64_t mask = sdm::io_size_mask(q.size);
    if (q.in) {
        set_in_result(vcpu, q, mask);
        return exit_action::skip;
    }
    const std::uint64_t value = vcpu.regs.rax & mask;
    if (q.port == ports::exit_request)
        return stop_with(ctx, ES_STOP_EXIT_REQUEST, value);
    if (q.port == ports::console)
        return to_console(ctx, value, q.size);
    return exit_action::skip;
}

// A VM with a board: its ports (board/pc_board.cpp routes each byte to its device), the others
// by the conventions. Out of line, so toy guests' I/O keeps its short path; the qualification
// comes raw and is decoded again here, since a decoded one passed by address would make GCC put
// a stack canary into every I/O exit.
[[gnu::noinline]] exit_action board_io(exit_context& ctx, std::uint64_t qualification) {
    const sdm::io_qualification q = sdm::decode_io(qualification);
    if (!board_claims(q.port))
        return conventions(ctx, q);
    es_vcpu& vcpu = ctx.vcpu;
    const board_guard g{ctx.vm};
    const std::uint64_t now = hw::rdtsc();
    if (q.in) {
        set_in_result(vcpu, q, board_in(ctx.vm.board, q.port, q.size, now));
        return exit_action::skip;
    }
    const board_out_result r =
        board_out(ctx.vm.board, q.port, q.size, static_cast<std::uint32_t>(vcpu.regs.rax), now);
    bool console_full = false;
    for (unsigned i = 0; i < r.nr_transmitted; ++i)
        console_full = append_console(ctx.vm, r.transmitted[i], 1) || console_full;
    if (r.reset)
        return stop_with(ctx, ES_STOP_RESET);
    if (console_full)
        return stop_with(ctx, ES_STOP_CONSOLE_FULL);
    return exit_action::skip;
}

} // namespace

exit_action io(exit_context& ctx) {
    const std::uint64_t qualification = hw::vmread(sdm::vmcs_field::exit_qualification);
    const auto q = sdm::decode_io(qualification);
    // INS/OUTS would need guest linear-address translation; the guests do not use them.
    if (q.string)
        return unexpected(ctx);
    if (ctx.vm.has_board) [[unlikely]]
        return board_io(ctx, qualification);
    return conventions(ctx, q);
}

} // namespace es::handlers
