// What the CLI reads and writes at its edges: files checked before use, JSON valid for any input,
// numbers never octal, module errors explained. Regression tests for issue 13.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/device.hpp"
#include "cli/format.hpp"
#include "cli/input_file.hpp"
#include "cli/json_out.hpp"
#include "cli/observe.hpp"
#include "cli/options.hpp"
#include "sdm/vmx_control_names.hpp"
#include "tests/unit/scratch_dir.hpp"

using namespace es::cli;

using es::test::scratch;

TEST_CASE("input files: only regular files, up to the bound") {
    const scratch s;
    input_error e{};
    CHECK_FALSE(read_input_file(s.dir, 100, "x", e));
    CHECK(e.why == "it is a directory, not a file");
    CHECK_FALSE(e.cannot_open);
    CHECK_FALSE(read_input_file("/dev/zero", 100, "x", e));
    CHECK(e.why.find("not a regular file") != std::string::npos);
    REQUIRE(mkfifo((s.dir + "/fifo").c_str(), 0600) == 0);
    CHECK_FALSE(read_input_file(s.dir + "/fifo", 100, "x", e)); // must not block
    CHECK(e.why.find("not a regular file") != std::string::npos);
    CHECK_FALSE(read_input_file(s.dir + "/missing", 100, "x", e));
    CHECK(e.cannot_open);
    const std::string big = s.file("big", std::string(101, 'a'));
    CHECK_FALSE(read_input_file(big, 100, "the limit", e));
    CHECK(e.why == "it is 101 bytes, more than the limit");
    const auto ok = read_input_file(big, 101, "x", e);
    REQUIRE(ok);
    CHECK(*ok == std::string(101, 'a'));
    const auto empty = read_input_file(s.file("empty", ""), 0, "x", e);
    REQUIRE(empty);
    CHECK(empty->empty());
}

TEST_CASE("JSON: control characters and quotes are escaped, the result parses back") {
    std::string nasty = "tab\there \"q\" back\\slash nl\n";
    for (char c = 1; c < 0x20; ++c)
        nasty += c;
    nasty += '\x7f';
    const std::string text = to_json_text(json{{"name", nasty}});
    for (const char c : text.substr(0, text.size() - 1))
        CHECK(static_cast<unsigned char>(c) >= 0x20); // no raw control character survives
    CHECK(text.find("\\u0001") != std::string::npos);
    CHECK(text.find("\\\"q\\\"") != std::string::npos);
    CHECK(nlohmann::json::parse(text)["name"] == nasty);
    // Invalid UTF-8 is replaced, never thrown.
    CHECK_NOTHROW(to_json_text(json{{"name", std::string("\xff\xfe")}}));
}

TEST_CASE("JSON: floats keep three decimals, key order is kept, non-finite is null") {
    CHECK(to_json_text(json{{"b", 1}, {"a", 1234.5}, {"c", 0.0}}) ==
          "{\"b\":1,\"a\":1234.500,\"c\":0.000}\n");
    CHECK(to_json_text(json{{"x", std::numeric_limits<double>::quiet_NaN()}}) == "{\"x\":null}\n");
    CHECK(to_json_text(json{{"l", json::array({1, 2})}, {"o", json::object()}}) ==
          "{\"l\":[1,2],\"o\":{}}\n");
}

TEST_CASE("JSON: every --json document parses") {
    es_stats st{};
    es_reasons r{};
    for (int i = 0; i < ES_NR_REASONS; ++i)
        r.flags[i] = ES_REASON_DEFINED;
    st.reasons[10].count = 3;
    st.reasons[10].cycles = 300;
    const auto stat = nlohmann::json::parse(format_stat_json(make_rows(st, r), "cpu0"));
    CHECK(stat["scope"] == "cpu0");
    CHECK(stat["total"]["count"] == 3);
    CHECK(nlohmann::json::parse(format_reasons_json(r))["reasons"].size() == ES_NR_REASONS);
    es_info info{};
    info.nr_cpus = 2;
    CHECK(nlohmann::json::parse(format_info_json(info))["cpus"].size() == 2);
    std::vector<es_trace_entry> t(2);
    t[0].reason = 0x80000021;
    t[1].tsc = 5;
    const auto trace = nlohmann::json::parse(format_trace_json(t, true, 7));
    CHECK(trace["entries"][0]["entry_failure"] == true);
    CHECK(trace["entries"][1]["rel"] == 5);
}

TEST_CASE("numbers: a leading 0 is decimal, never octal") {
    CHECK(parse_number("010") == 10u);
    CHECK(parse_number("0777") == 777u);
    CHECK_FALSE(parse_number("08x"));
    CHECK_FALSE(parse_number("0o17"));
    CHECK_FALSE(parse_number("0b101"));
    std::string err;
    const auto o = parse_run_options({"--load", "010", "--mem", "010", "g.bin"}, err);
    REQUIRE(o);
    CHECK(o->load == 10);
    CHECK(o->mem_bytes == 10ull << 20);
}

TEST_CASE("run options through CLI11: help, last value wins, no image that looks like an option") {
    std::string err, help;
    CHECK_FALSE(parse_run_options({"--help"}, err, &help));
    CHECK(err.empty());
    CHECK(help.find("--mode") != std::string::npos);
    // Without a place for the help text (record's words after --), help is a mistake to name.
    CHECK_FALSE(parse_run_options({"-helpe"}, err)); // CLI11: -h clustered with other letters
    CHECK(err.find("--help is not taken here") == 0);
    const auto o = parse_run_options({"--mem", "4", "--mem", "8", "g.bin"}, err);
    REQUIRE(o);
    CHECK(o->mem_bytes == 8ull << 20);
    CHECK(parse_run_options({"--mem=4", "g.bin"}, err));
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"--", "-x"}, {"-5"}, {"-x"}}) {
        CHECK_FALSE(parse_run_options(bad, err));
        CHECK(err.rfind("unknown option", 0) == 0);
    }
    CHECK(parse_run_options({"-"}, err)); // "-" is a name like any other
    CHECK_FALSE(parse_run_options({"a", "b"}, err));
    CHECK(err == "only one IMAGE may be given (got a and b)");
    CHECK_FALSE(parse_run_options({"--mode"}, err));
    CHECK(err == "--mode needs a value");
}

TEST_CASE("module errors with a known cause are explained") {
    es_vcpu_state s{};
    s.size = sizeof s;
    s.mode = ES_MODE_REAL;
    s.entry = 0x100000;
    const auto why = explain_state_error(s, 2ull << 20);
    REQUIRE(why);
    CHECK(why->find("real mode reaches only the first MiB") != std::string::npos);
    CHECK(why->find("0x100000") != std::string::npos);
    s.entry = 0xff000;
    CHECK_FALSE(explain_state_error(s, 2ull << 20));
    s.mode = ES_MODE_PROTECTED;
    s.entry = 0x100000;
    CHECK_FALSE(explain_state_error(s, 2ull << 20));
    const auto cpu = explain_cpu_error(99, 2);
    REQUIRE(cpu);
    CHECK(*cpu == "no such CPU 99: this machine has 2 CPUs (cpu 0 to 1); exitscope info lists "
                  "them");
    CHECK(explain_cpu_error(1, 1)->find("1 CPU (cpu 0)") != std::string::npos);
    CHECK_FALSE(explain_cpu_error(1, 2));
}

TEST_CASE("text helpers: printf-compatible hex, the one escaper") {
    char buf[64];
    for (const std::uint64_t v : {0ull, 1ull, 0x1000ull, ~0ull}) {
        std::snprintf(buf, sizeof buf, "%#18llx", static_cast<unsigned long long>(v));
        CHECK(alt_hex(v, 18) == buf);
        std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
        CHECK(alt_hex(v, 0) == buf);
    }
    CHECK(hex(0) == "0x0");
    CHECK(escape_text("a\n\t\"\\\x01\xff") == "a\\n\\t\\\"\\\\\\x01\\xff");
}

TEST_CASE("info names the control bits from include/sdm") {
    es_info info{};
    const std::string t = format_info_text(info);
    for (const auto& n : sdm::control_names::proc2)
        CHECK(t.find(n.name) != std::string::npos);
    CHECK(t.find("Unrestricted guest") != std::string::npos);
    CHECK(std::size(sdm::control_names::proc) == 21);
}

TEST_CASE("reason names: one helper for keys, descriptions, labels") {
    CHECK(std::string(reason_key(10)) == "CPUID");
    CHECK(std::string(reason_key(35)) == "UNDEFINED");
    CHECK(std::string(reason_description(35)) == "not defined by the SDM");
    CHECK(reason_label(0x80000021) == std::string(reason_key(33)) + "(entry-fail)");
    CHECK(reason_text(9) == "task switch (9)");
    CHECK(reason_by_name("cpuid") == 10u);
    CHECK(reason_by_name("010") == 10u);
}
