// The stop table: what each stop says and which exit status it ends the process with.
#include "stops.hpp"

#include <iterator>

#include "exitscope/abi.h"
#include "text.hpp"

namespace es::cli {

namespace {

std::string at_rip(const stop_record& r) {
    return " at rip " + hex(r.rip);
}

// In es_stop order, one row per value: find_stop indexes it by value.
constexpr stop_entry stop_table[] = {
    {ES_STOP_HALTED, 0, nullptr, false,
     [](const stop_record&) { return std::string("guest halted"); }},
    {ES_STOP_EXIT_REQUEST, status_from_guest, nullptr, false,
     [](const stop_record& r) { return "guest exited with code " + std::to_string(r.exit_code); }},
    {ES_STOP_UNHANDLED, status_unhandled, "unhandled exit", true,
     [](const stop_record& r) { return "unhandled exit " + r.detail + at_rip(r); }},
    {ES_STOP_ENTRY_FAILED, status_entry_failed, "VM entry failure", true,
     [](const stop_record& r) { return "VM entry failed: " + r.detail; }},
    {ES_STOP_TRIPLE_FAULT, status_triple_fault, "triple fault", true,
     [](const stop_record& r) {
         return "guest triple-faulted" + at_rip(r) +
                (r.detail.empty() ? "" : " (" + r.detail + ")");
     }},
    {ES_STOP_EPT_VIOLATION, status_ept_violation, "access outside guest RAM", true,
     [](const stop_record& r) {
         return "guest accessed guest-physical " + hex(r.gpa) + ", outside its RAM (" + r.detail +
                ")" + at_rip(r);
     }},
    {ES_STOP_CONSOLE_FULL, status_none, nullptr, false,
     [](const stop_record& r) {
         return "the console buffer filled up (the run goes on)" + at_rip(r);
     }},
    {ES_STOP_EXIT_LIMIT, status_exit_limit, "exit limit", false,
     [](const stop_record& r) { return "stopped at the --max-exits limit" + at_rip(r); }},
    {ES_STOP_RESET, status_reset, "machine reset", false,
     [](const stop_record& r) {
         return "guest reset the machine (a reboot, or a panic with panic=N)" + at_rip(r);
     }},
    {ES_STOP_RIP_WRAP, status_rip_wrap, "RIP left its address space", true,
     [](const stop_record& r) {
         return "guest RIP left its address space (an instruction ended at its top)" + at_rip(r);
     }},
};
// A new es_stop value gets its row here, after the last one.
static_assert(std::size(stop_table) == ES_STOP_RIP_WRAP);

constexpr bool rows_in_stop_order() {
    for (std::size_t i = 0; i < std::size(stop_table); ++i)
        if (stop_table[i].stop != i + 1)
            return false;
    return true;
}
static_assert(rows_in_stop_order());

} // namespace

const stop_entry& find_stop(std::uint32_t stop) {
    if (stop >= 1 && stop <= std::size(stop_table))
        return stop_table[stop - 1];
    return stop_table[ES_STOP_UNHANDLED - 1];
}

const stop_entry* stop_table_begin() {
    return std::begin(stop_table);
}

const stop_entry* stop_table_end() {
    return std::end(stop_table);
}

const stop_entry* find_stop_by_status(int status) {
    for (const stop_entry& e : stop_table)
        if (e.status == status && status >= 0)
            return &e;
    return nullptr;
}

stop_summary summarize_stop(const stop_record& r, const char* tag, const std::string& counts) {
    const std::string head = std::string(tag) + ": ", tail = ": " + counts;
    if (r.interrupted)
        return {head + "run interrupted by a signal" + at_rip(r) + tail, status_interrupted};
    const stop_entry& e = find_stop(r.stop);
    const int status =
        e.status == status_from_guest ? static_cast<int>(r.exit_code & 0xff) : e.status;
    return {head + e.describe(r) + tail, status};
}

} // namespace es::cli
