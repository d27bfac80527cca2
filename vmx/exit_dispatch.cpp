// The dispatch table: handler names (exit_table.hpp) to functions, built at compile time.
#include "exit_dispatch.hpp"

#include <array>

#include "exit_handlers.hpp"
#include "exit_table.hpp"

namespace es {

namespace {

constexpr std::size_t nr_handlers = static_cast<std::size_t>(handler::count);

// Functions by handler name, and which names were given one (GCC cannot test function pointers
// for null in constant expressions under the kernel's -fno-delete-null-pointer-checks).
struct handler_map {
    std::array<handler_fn, nr_handlers> fns{};
    std::array<bool, nr_handlers> given{};
};

constexpr handler_map handlers_by_name = [] {
    handler_map m{};
    auto set = [&m](handler h, handler_fn f) {
        m.fns[static_cast<std::size_t>(h)] = f;
        m.given[static_cast<std::size_t>(h)] = true;
    };
    set(handler::none, handlers::unexpected);
    set(handler::exception_or_nmi, handlers::exception_or_nmi);
    set(handler::external_interrupt, handlers::external_interrupt);
    set(handler::triple_fault, handlers::triple_fault);
    set(handler::stop_unsupported, handlers::stop_unsupported);
    set(handler::cpuid, handlers::cpuid);
    set(handler::hlt, handlers::hlt);
    set(handler::cache_flush, handlers::cache_flush);
    set(handler::rdpmc, handlers::rdpmc);
    set(handler::vmx_instruction, handlers::vmx_instruction);
    set(handler::cr_access, handlers::cr_access);
    set(handler::mov_dr, handlers::mov_dr);
    set(handler::io, handlers::io);
    set(handler::rdmsr, handlers::rdmsr);
    set(handler::wrmsr, handlers::wrmsr);
    set(handler::entry_failure, handlers::entry_failure);
    set(handler::monitor_mwait, handlers::monitor_mwait);
    set(handler::pause, handlers::pause);
    set(handler::ept_violation, handlers::ept_violation);
    set(handler::ept_misconfig, handlers::ept_misconfig);
    set(handler::preemption_timer, handlers::preemption_timer);
    set(handler::xsetbv, handlers::xsetbv);
    set(handler::interrupt_window, handlers::interrupt_window);
    return m;
}();

constexpr bool every_handler_has_a_function() {
    for (bool g : handlers_by_name.given)
        if (!g)
            return false;
    return true;
}
static_assert(every_handler_has_a_function(), "each handler name maps to a function");

} // namespace

namespace {

constexpr std::array<handler_fn, sdm::exit_reason_count>
build_handler_by_reason(const handler_map& by_name) {
    std::array<handler_fn, sdm::exit_reason_count> t{};
    for (std::uint32_t r = 0; r < sdm::exit_reason_count; ++r)
        t[r] = by_name.fns[static_cast<std::size_t>(exit_handlers_table.h[r])];
    return t;
}

// A Linux guest's board (platform.hpp) changes what two handlers do: its devices' ports, and HLT
// waiting for its timer. Separate functions, so the toy guests' handlers carry no test for it.
// (CPUID tests vm.linux_platform itself, past the exit leaves: a handler of its own cost the
// toy guests' CPUID more than the test does.)
constexpr handler_map board_handlers_by_name = [] {
    handler_map m = handlers_by_name;
    m.fns[static_cast<std::size_t>(handler::io)] = handlers::board_io;
    m.fns[static_cast<std::size_t>(handler::hlt)] = handlers::board_hlt;
    return m;
}();

} // namespace

// Reason -> function, composed at compile time from the exit table and the map above (constant
// initialization: no constructor runs, the table lives in read-only data).
constexpr std::array<handler_fn, sdm::exit_reason_count> handler_by_reason =
    build_handler_by_reason(handlers_by_name);
constexpr std::array<handler_fn, sdm::exit_reason_count> board_handler_by_reason =
    build_handler_by_reason(board_handlers_by_name);

} // namespace es
