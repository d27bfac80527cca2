// The dispatch table: handler names (exit_table.hpp) to functions, built at compile time.
#include "exit_dispatch.hpp"

#include <array>

#include "exit_handlers.hpp"
#include "exit_table.hpp"

namespace es {

namespace {

constexpr std::size_t nr_handlers = static_cast<std::size_t>(handler::count);

// Functions by handler name, from the one list: every name has its function by construction.
constexpr std::array<handler_fn, nr_handlers> handlers_by_name = {
    handlers::unexpected, // handler::none
#define ES_HANDLER_FUNCTION(name) handlers::name,
    ES_EXIT_HANDLERS(ES_HANDLER_FUNCTION)
#undef ES_HANDLER_FUNCTION
};

constexpr std::array<handler_fn, sdm::exit_reason_count> build_handler_by_reason() {
    std::array<handler_fn, sdm::exit_reason_count> t{};
    for (std::uint32_t r = 0; r < sdm::exit_reason_count; ++r)
        t[r] = handlers_by_name[static_cast<std::size_t>(exit_handlers_table.h[r])];
    return t;
}

} // namespace

// Reason -> function, composed at compile time from the exit table and the map above (constant
// initialization: no constructor runs, the table lives in read-only data).
constexpr std::array<handler_fn, sdm::exit_reason_count> handler_by_reason =
    build_handler_by_reason();

} // namespace es
