// Exit handlers, one per concern, and the helpers they share.
#pragma once

#include <cstdint>

#include "exit_dispatch.hpp"

namespace es::handlers {

exit_action exception_or_nmi(exit_context& ctx);
exit_action external_interrupt(exit_context& ctx);
exit_action triple_fault(exit_context& ctx);
exit_action stop_unsupported(exit_context& ctx);
exit_action cpuid(exit_context& ctx);
exit_action hlt(exit_context& ctx);
exit_action cache_flush(exit_context& ctx);
exit_action rdpmc(exit_context& ctx);
exit_action vmx_instruction(exit_context& ctx);
exit_action cr_access(exit_context& ctx);
exit_action mov_dr(exit_context& ctx);
exit_action io(exit_context& ctx);
exit_action rdmsr(exit_context& ctx);
exit_action wrmsr(exit_context& ctx);
exit_action entry_failure(exit_context& ctx);
exit_action monitor_mwait(exit_context& ctx);
exit_action pause(exit_context& ctx);
exit_action ept_violation(exit_context& ctx);
exit_action ept_misconfig(exit_context& ctx);
exit_action preemption_timer(exit_context& ctx);
exit_action interrupt_window(exit_context& ctx);
// A Linux guest's board (platform.hpp): its devices' ports, HLT waiting for its timer.
exit_action board_io(exit_context& ctx);
exit_action board_hlt(exit_context& ctx);
exit_action xsetbv(exit_context& ctx);
exit_action unexpected(exit_context& ctx);

// Shared helpers.
// Appends `n` bytes of `value` (low byte first) to the VM's console buffer; true when it is now
// full (the caller stops the run so user space drains it).
bool append_console(es_vm& vm, std::uint64_t value, unsigned n);
// Port I/O by the plain guest conventions (README), for ports no device of the guest's claims;
// `qualification` is the I/O exit's.
exit_action plain_io(exit_context& ctx, std::uint64_t qualification);
exit_action inject_ud(exit_context& ctx);
exit_action inject_gp(exit_context& ctx);
exit_action stop_with(exit_context& ctx, std::uint32_t stop, std::uint64_t code = 0,
                      std::uint64_t gpa = 0);
// General-purpose register by the 4-bit number exit qualifications use (0 RAX ... 15 R15).
std::uint64_t read_gpr(es_vm& vm, unsigned n);
void write_gpr(es_vm& vm, unsigned n, std::uint64_t value);

} // namespace es::handlers
