// The stop table (cli/stops.cpp): every stop of the ABI has its text and its own exit status, and
// the summary line is built from them alike for both backends.
#include <catch2/catch.hpp>
#include <set>

#include "cli/stops.hpp"
#include "exitscope/abi.h"

using namespace es::cli;

namespace {

// Every enum es_stop value (include/exitscope/abi.h).
constexpr std::uint32_t all_stops[] = {
    ES_STOP_HALTED,       ES_STOP_EXIT_REQUEST,  ES_STOP_UNHANDLED,    ES_STOP_ENTRY_FAILED,
    ES_STOP_TRIPLE_FAULT, ES_STOP_EPT_VIOLATION, ES_STOP_CONSOLE_FULL, ES_STOP_EXIT_LIMIT,
    ES_STOP_RESET,        ES_STOP_RIP_WRAP,
};

} // namespace

TEST_CASE("stop table: one row per stop, each with text and its own exit status") {
    CHECK(static_cast<std::size_t>(stop_table_end() - stop_table_begin()) == std::size(all_stops));
    std::set<int> statuses;
    for (const std::uint32_t stop : all_stops) {
        const stop_entry& e = find_stop(stop);
        INFO("stop " << stop);
        CHECK(e.stop == stop);
        stop_record r;
        r.stop = stop;
        CHECK_FALSE(e.describe(r).empty());
        if (e.status == status_from_guest || e.status == status_none)
            continue;
        CHECK(statuses.insert(e.status).second); // distinct
        // Clear of the statuses that mean something else.
        CHECK(e.status != status_error);
        CHECK(e.status != status_usage);
        CHECK(e.status != status_interrupted);
        CHECK(find_stop_by_status(e.status) == &e);
    }
    // Only the guest's own request takes its status from the guest, and only a full console
    // goes on without one.
    CHECK(find_stop(ES_STOP_EXIT_REQUEST).status == status_from_guest);
    CHECK(find_stop(ES_STOP_CONSOLE_FULL).status == status_none);
    CHECK(find_stop(ES_STOP_HALTED).status == 0);
}

TEST_CASE("stop table: the README's statuses") {
    CHECK(find_stop(ES_STOP_UNHANDLED).status == 70);
    CHECK(find_stop(ES_STOP_ENTRY_FAILED).status == 71);
    CHECK(find_stop(ES_STOP_TRIPLE_FAULT).status == 72);
    CHECK(find_stop(ES_STOP_EPT_VIOLATION).status == 73);
    CHECK(find_stop(ES_STOP_EXIT_LIMIT).status == 74);
    CHECK(find_stop(ES_STOP_RESET).status == 75);
    CHECK(find_stop(ES_STOP_RIP_WRAP).status == 76);
}

TEST_CASE("stop table: an unknown stop reads as an unhandled exit") {
    CHECK(&find_stop(0) == &find_stop(ES_STOP_UNHANDLED));
    CHECK(&find_stop(ES_STOP_RIP_WRAP + 1) == &find_stop(ES_STOP_UNHANDLED));
    CHECK(find_stop_by_status(status_interrupted) == nullptr);
    CHECK(find_stop_by_status(status_from_guest) == nullptr);
}

TEST_CASE("summaries: TAG: TEXT: COUNTS, with the row's status") {
    stop_record r;
    r.stop = ES_STOP_RIP_WRAP;
    r.rip = 0xfffffffe;
    auto s = summarize_stop(r, "exitscope", "2 exits");
    CHECK(s.status == status_rip_wrap);
    CHECK(s.line == "exitscope: guest RIP left its address space (an instruction ended at its top) "
                    "at rip 0xfffffffe: 2 exits");
    r.stop = ES_STOP_EXIT_REQUEST;
    r.exit_code = 0x1234;
    s = summarize_stop(r, "exitscope[kvm]", "1 exits seen by user space");
    CHECK(s.status == 0x34);
    CHECK(s.line == "exitscope[kvm]: guest exited with code 4660: 1 exits seen by user space");
    r = stop_record{};
    r.stop = ES_STOP_TRIPLE_FAULT;
    r.rip = 0x10;
    CHECK(summarize_stop(r, "t", "c").line == "t: guest triple-faulted at rip 0x10: c");
    r.detail = "KVM_EXIT_SHUTDOWN";
    CHECK(summarize_stop(r, "t", "c").line ==
          "t: guest triple-faulted at rip 0x10 (KVM_EXIT_SHUTDOWN): c");
    r.interrupted = true;
    s = summarize_stop(r, "t", "c");
    CHECK(s.status == status_interrupted);
    CHECK(s.line == "t: run interrupted by a signal at rip 0x10: c");
}

TEST_CASE("stop table: the dying guests show their last exits") {
    for (const std::uint32_t stop : {ES_STOP_UNHANDLED, ES_STOP_ENTRY_FAILED, ES_STOP_TRIPLE_FAULT,
                                     ES_STOP_EPT_VIOLATION, ES_STOP_RIP_WRAP})
        CHECK(find_stop(stop).guest_died);
    for (const std::uint32_t stop :
         {ES_STOP_HALTED, ES_STOP_EXIT_REQUEST, ES_STOP_EXIT_LIMIT, ES_STOP_RESET})
        CHECK_FALSE(find_stop(stop).guest_died);
}
