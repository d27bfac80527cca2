// Port I/O, by the guest conventions of the README: 0xE9 is the console, 0xF4 ends the run with
// an exit code, other writes are dropped and other reads return all ones. A linux64 guest also
// has COM1 (uart16550.hpp), whose transmitted bytes take the console's path.
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "exitscope/ports.hpp"
#include "sdm/exit_qualification.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

namespace {

std::uint64_t size_mask(unsigned size) {
    return size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
}

bool is_com1(const es_vm& vm, std::uint16_t port) {
    return vm.linux_platform && port >= uart::com1_base &&
           port < uart::com1_base + uart::port_count;
}

// Appends `n` bytes of `value` (low byte first) to the console buffer. When it fills, hand the
// bytes to user space; the next run call continues after this OUT.
exit_action to_console(exit_context& ctx, std::uint64_t value, unsigned n) {
    es_vm& vm = ctx.vm;
    // A caller without a console buffer (console_limit 0) does not want the bytes.
    for (unsigned i = 0; i < n && vm.console_len < vm.console_limit; ++i)
        vm.console[vm.console_len++] = static_cast<std::uint8_t>(value >> (8 * i));
    if (vm.console_limit && vm.console_len == vm.console_limit) {
        ctx.stop = {ES_STOP_CONSOLE_FULL, 0, 0};
        return exit_action::stop;
    }
    return exit_action::skip;
}

// Each byte of a wider access goes to the next register, as on the ISA bus.
// Out of line: the common ports keep a short path without its registers.
[[gnu::noinline]] exit_action com1_io(exit_context& ctx, sdm::io_qualification q,
                                      std::uint64_t mask) {
    es_vm& vm = ctx.vm;
    const auto offset = static_cast<std::uint16_t>(q.port - uart::com1_base);
    if (q.in) {
        std::uint64_t v = 0;
        for (unsigned i = 0; i < q.size; ++i)
            v |= std::uint64_t{uart_read(vm.com1, (offset + i) % uart::port_count)} << (8 * i);
        vm.regs.rax = q.size == 4 ? v : ((vm.regs.rax & ~mask) | v);
        return exit_action::skip;
    }
    exit_action action = exit_action::skip;
    for (unsigned i = 0; i < q.size; ++i) {
        const auto w = uart_write(vm.com1, (offset + i) % uart::port_count,
                                  static_cast<std::uint8_t>(vm.regs.rax >> (8 * i)));
        if (w.transmitted && to_console(ctx, w.byte, 1) == exit_action::stop)
            action = exit_action::stop;
    }
    return action;
}

} // namespace

exit_action io(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    const auto q = sdm::decode_io(hw::vmread(sdm::vmcs_field::exit_qualification));
    // INS/OUTS would need guest linear-address translation; the toy guests do not use them.
    if (q.string)
        return unexpected(ctx);
    const std::uint64_t mask = size_mask(q.size);
    if (is_com1(vm, q.port))
        return com1_io(ctx, q, mask);
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

} // namespace es::handlers
