// Exit handlers, one per concern (the list is ES_EXIT_HANDLERS in exit_table.hpp), and the
// helpers they share.
#pragma once

#include <cstdint>

#include "exit_dispatch.hpp"
#include "exit_table.hpp"

namespace es::handlers {

#define ES_HANDLER_DECLARATION(name) exit_action name(exit_context& ctx);
ES_EXIT_HANDLERS(ES_HANDLER_DECLARATION)
#undef ES_HANDLER_DECLARATION
// handler::none: a reason this configuration does not expect stops the VM.
exit_action unexpected(exit_context& ctx);

// Shared helpers.
// Appends `n` bytes of `value` (low byte first) to the VM's console buffer (the caller holds the
// board lock); true when it is now full (the caller stops the run so user space drains it).
bool append_console(es_vm& vm, std::uint64_t value, unsigned n);
exit_action inject_ud(exit_context& ctx);
exit_action inject_gp(exit_context& ctx);
exit_action stop_with(exit_context& ctx, std::uint32_t stop, std::uint64_t code = 0,
                      std::uint64_t gpa = 0);
// Shadow paging (handlers_shadow.cpp): a #PF exit, MOV to and from CR3.
exit_action shadow_page_fault(exit_context& ctx);
exit_action shadow_write_cr3(exit_context& ctx, std::uint64_t value);
std::uint64_t shadow_read_cr3(exit_context& ctx);
// General-purpose register by the 4-bit number exit qualifications use (0 RAX ... 15 R15).
std::uint64_t read_gpr(es_vcpu& vcpu, unsigned n);
void write_gpr(es_vcpu& vcpu, unsigned n, std::uint64_t value);

} // namespace es::handlers
