// The exit-reason table: complete, unique, and in agreement with the contract's list.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "sdm/exit_reasons.hpp"

TEST_CASE("every number 0..77 is classified, and only 35, 38, 42 are undefined") {
    int defined = 0;
    for (std::uint32_t n = 0; n < sdm::exit_reason_count; ++n) {
        const bool d = sdm::is_defined_exit_reason(n);
        CHECK(d == (n != 35 && n != 38 && n != 42));
        defined += d;
    }
    CHECK(defined == 75);
}

TEST_CASE("numbers past the table are undefined, however large") {
    for (std::uint32_t n : {78u, 90u, 100u, 0x100u, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
        CHECK_FALSE(sdm::is_defined_exit_reason(n));
        CHECK(sdm::find_exit_reason(n) == nullptr);
    }
}

TEST_CASE("each entry is found under its own number; names and keys are unique") {
    std::set<std::string> names, keys;
    for (const auto& info : sdm::defined_exit_reasons) {
        const auto* found = sdm::find_exit_reason(info.number);
        REQUIRE(found != nullptr);
        CHECK(found->number == info.number);
        CHECK(names.insert(info.name).second);
        CHECK(keys.insert(info.key).second);
    }
}

TEST_CASE("spot checks against the SDM numbering") {
    CHECK(sdm::to_number(sdm::exit_reason::cpuid) == 10);
    CHECK(sdm::to_number(sdm::exit_reason::hlt) == 12);
    CHECK(sdm::to_number(sdm::exit_reason::io_instruction) == 30);
    CHECK(sdm::to_number(sdm::exit_reason::ept_violation) == 48);
    CHECK(sdm::to_number(sdm::exit_reason::preemption_timer) == 52);
    CHECK(sdm::to_number(sdm::exit_reason::xsetbv) == 55);
    CHECK(std::string(sdm::find_exit_reason(10)->key) == "CPUID");
    CHECK(std::string(sdm::find_exit_reason(77)->name) == "TDCALL");
}
