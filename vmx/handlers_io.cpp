// Port I/O, by the guest conventions of the README: 0xE9 is the console, 0xF4 ends the run with
// an exit code, other writes are dropped and other reads return all ones.
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "sdm/exit_qualification.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

namespace {

constexpr std::uint16_t console_port = 0xe9;
constexpr std::uint16_t exit_port = 0xf4;

std::uint64_t size_mask(unsigned size) {
    return size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
}

} // namespace

exit_action io(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    const auto q = sdm::decode_io(hw::vmread(sdm::vmcs_field::exit_qualification));
    // INS/OUTS would need guest linear-address translation; the toy guests do not use them.
    if (q.string)
        return unexpected(ctx);
    const std::uint64_t mask = size_mask(q.size);
    if (q.in) {
        // 32-bit results clear the upper half of RAX, narrower ones merge ("MOV" semantics).
        vm.regs.rax = q.size == 4 ? mask : (vm.regs.rax | mask);
        return exit_action::skip;
    }
    const std::uint64_t value = vm.regs.rax & mask;
    if (q.port == exit_port) {
        ctx.stop = {ES_STOP_EXIT_REQUEST, value, 0};
        return exit_action::stop;
    }
    if (q.port == console_port) {
        // A caller without a console buffer (console_limit 0) does not want the bytes.
        for (unsigned i = 0; i < q.size && vm.console_len < vm.console_limit; ++i)
            vm.console[vm.console_len++] = static_cast<std::uint8_t>(value >> (8 * i));
        // Full: hand the bytes to user space; the next run call continues after this OUT.
        if (vm.console_limit && vm.console_len == vm.console_limit) {
            ctx.stop = {ES_STOP_CONSOLE_FULL, 0, 0};
            return exit_action::stop;
        }
    }
    return exit_action::skip;
}

} // namespace es::handlers
