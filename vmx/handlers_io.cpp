// Port I/O, by the guest conventions of the README: 0xE9 is the console, 0xF4 ends the run with
// an exit code, other writes are dropped and other reads return all ones. A linux64 guest also
// has a PC board (platform.hpp): COM1, whose transmitted bytes take the console's path, the PIC,
// the PIT and the CMOS clock.
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "exitscope/ports.hpp"
#include "platform.hpp"
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

// Port 0xE9: the bytes go to the console buffer. When it fills, hand them to user space; the
// next run call continues after this OUT.
exit_action to_console(exit_context& ctx, std::uint64_t value, unsigned n) {
    if (append_console(ctx.vm, value, n)) {
        ctx.stop = {ES_STOP_CONSOLE_FULL, 0, 0};
        return exit_action::stop;
    }
    return exit_action::skip;
}

// The plain conventions, for every port of a toy guest and the ports a Linux guest's board does
// not have.
[[gnu::always_inline]] inline exit_action conventions(exit_context& ctx,
                                                      const sdm::io_qualification& q) {
    es_vm& vm = ctx.vm;
    const std::uint64_t mask = sdm::io_size_mask(q.size);
    if (q.in) {
        // 32-bit results clear the upper half of RAX, narrower ones merge ("MOV" semantics).
        vm.regs.rax = q.size == 4 ? mask : (vm.regs.rax | mask);
        return exit_action::skip;
    }
    const std::uint64_t value = vm.regs.rax & mask;
    if (q.port == ports::exit_request) {
        ctx.stop = {ES_STOP_EXIT_REQUEST, value, 0};
        return exit_action::stop;
    }
    if (q.port == ports::console)
        return to_console(ctx, value, q.size);
    return exit_action::skip;
}

} // namespace

exit_action plain_io(exit_context& ctx, std::uint64_t qualification) {
    return conventions(ctx, sdm::decode_io(qualification));
}

exit_action io(exit_context& ctx) {
    const auto q = sdm::decode_io(hw::vmread(sdm::vmcs_field::exit_qualification));
    // INS/OUTS would need guest linear-address translation; the toy guests do not use them.
    if (q.string)
        return unexpected(ctx);
    return conventions(ctx, q);
}

exit_action board_io(exit_context& ctx) {
    const std::uint64_t qualification = hw::vmread(sdm::vmcs_field::exit_qualification);
    if (sdm::decode_io(qualification).string)
        return unexpected(ctx);
    return platform_io(ctx, qualification);
}

} // namespace es::handlers
