// CLI parsing and formatting.
#include <catch2/catch.hpp>

#include "cli/exitscope_backend.hpp"
#include "cli/format.hpp"
#include "cli/options.hpp"
#include "cli/stops.hpp"

using namespace es::cli;

TEST_CASE("numbers: decimal and 0x-hex, nothing else") {
    CHECK(parse_number("4096") == 4096u);
    CHECK(parse_number("0x1000") == 4096u);
    CHECK(parse_number("0XfF") == 255u);
    CHECK(parse_number("18446744073709551615") == ~0ull);
    CHECK_FALSE(parse_number("18446744073709551616"));
    CHECK_FALSE(parse_number(""));
    CHECK_FALSE(parse_number("0x"));
    CHECK_FALSE(parse_number("-1"));
    CHECK_FALSE(parse_number("12k"));
    CHECK_FALSE(parse_number("0x1g"));
}

TEST_CASE("run options: defaults and every option") {
    std::string err;
    auto o = parse_run_options({"guest.bin"}, err);
    REQUIRE(o);
    CHECK(o->mode == ES_MODE_REAL);
    CHECK(o->mem_bytes == 2ull << 20);
    CHECK(o->load == 0x1000);
    CHECK(*o->entry == 0x1000);
    o = parse_run_options(
        {"--mode", "long", "--mem", "4", "--load", "0x2000", "--entry", "8200", "g.bin"}, err);
    REQUIRE(o);
    CHECK(o->mode == ES_MODE_LONG);
    CHECK(o->mem_bytes == 4ull << 20);
    CHECK(o->load == 0x2000);
    CHECK(*o->entry == 8200);
}

TEST_CASE("run options: --paging ept (default) or shadow") {
    std::string err;
    auto o = parse_run_options({"g.bin"}, err);
    REQUIRE(o);
    CHECK_FALSE(o->shadow_paging);
    o = parse_run_options({"--paging", "ept", "g.bin"}, err);
    REQUIRE(o);
    CHECK_FALSE(o->shadow_paging);
    o = parse_run_options({"--mode", "long", "--paging", "shadow", "g.bin"}, err);
    REQUIRE(o);
    CHECK(o->shadow_paging);
    o = parse_run_options({"--paging", "shadow", "--kernel", "bz"}, err);
    REQUIRE(o);
    CHECK(o->shadow_paging);
    // With --backend kvm, --paging is checked against kvm_intel's ept by the backend.
    o = parse_run_options({"--paging", "shadow", "--backend", "kvm", "g.bin"}, err);
    REQUIRE(o);
    CHECK(o->shadow_paging);
    CHECK(o->paging_given);
    CHECK_FALSE(parse_run_options({"--backend", "kvm", "g.bin"}, err)->paging_given);
    err.clear();
    CHECK_FALSE(parse_run_options({"--paging", "nested", "g.bin"}, err));
    CHECK_FALSE(err.empty());
}

TEST_CASE("run options: each mistake gets a message") {
    const std::vector<std::vector<std::string>> bad = {
        {},        {"--mode", "virtual8086", "g"}, {"--mem", "0", "g"},   {"--mem", "4096", "g"},
        {"--mem"}, {"--load", "12zz", "g"},        {"--frobnicate", "g"}, {"a.bin", "b.bin"},
    };
    for (const auto& args : bad) {
        std::string err;
        CHECK_FALSE(parse_run_options(args, err));
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("run options: --kernel boots Linux with 128 MiB unless --mem says otherwise") {
    std::string err;
    auto o = parse_run_options(
        {"--kernel", "bz", "--initrd", "rd", "--append", "quiet x=1", "--max-exits", "100"}, err);
    REQUIRE(o);
    CHECK(o->kernel == "bz");
    CHECK(o->initrd == "rd");
    CHECK(o->append == "quiet x=1");
    CHECK(o->mode == ES_MODE_LINUX64);
    CHECK(o->mem_bytes == 128ull << 20);
    CHECK(o->max_exits == 100);
    o = parse_run_options({"--kernel", "bz", "--mem", "256"}, err);
    REQUIRE(o);
    CHECK(o->mem_bytes == 256ull << 20);
    const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
        {{"--kernel", "bz", "g.bin"}, "not both"},
        {{"--kernel", "bz", "--mode", "long"}, "does not apply"},
        {{"--kernel", "bz", "--load", "0x1000"}, "does not apply"},
        {{"--initrd", "rd", "g.bin"}, "needs --kernel"},
        {{"--append", "x", "g.bin"}, "needs --kernel"},
        {{"--kernel", ""}, "needs a file name"},
    };
    for (const auto& [args, why] : bad) {
        CHECK_FALSE(parse_run_options(args, err));
        CHECK_THAT(err, Catch::Contains(why));
    }
}

TEST_CASE("run options: --cpus N with --kernel, 1 to 16, no nolapic beside it") {
    std::string err;
    auto o = parse_run_options({"--kernel", "bz"}, err);
    REQUIRE(o);
    CHECK(o->vcpus == 1);
    o = parse_run_options({"--kernel", "bz", "--cpus", "2", "--append", "acpi=off noapic"}, err);
    REQUIRE(o);
    CHECK(o->vcpus == 2);
    CHECK(parse_run_options({"--kernel", "bz", "--cpus", "16"}, err)->vcpus == 16);
    CHECK(parse_run_options({"--kernel", "bz", "--cpus", "1", "--append", "nolapic"}, err));
    // "nolapic" only as a word of its own.
    CHECK(parse_run_options({"--kernel", "bz", "--cpus", "2", "--append", "x=nolapic"}, err));
    const char* const range = ": give 1 to 16 vCPUs (16 is the most the MP table lists)";
    for (const char* bad : {"0", "17", "-1", "two", "0x"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_run_options({"--kernel", "bz", "--cpus", bad}, err));
        CHECK(err == std::string("--cpus ") + bad + range);
    }
    CHECK_FALSE(parse_run_options({"--kernel", "bz", "--cpus", "2", "--append", "a nolapic"}, err));
    CHECK(err == "--cpus 2 needs the local APIC: drop nolapic from --append (several vCPUs boot "
                 "with acpi=ht noapic)");
    CHECK_FALSE(parse_run_options({"--cpus", "2", "g.bin"}, err));
    CHECK(err == "--cpus needs --kernel BZIMAGE: toy images run on one vCPU (drop --cpus)");
    CHECK_FALSE(parse_run_options({"--cpus", "1", "g.bin"}, err));
}

TEST_CASE("digit grouping") {
    CHECK(group_digits(0) == "0");
    CHECK(group_digits(999) == "999");
    CHECK(group_digits(1000) == "1,000");
    CHECK(group_digits(1234567) == "1,234,567");
}

namespace {
std::vector<reason_row> sample_rows() {
    static es_stats s;
    s = es_stats{};
    es_reasons r{};
    for (int i = 0; i < ES_NR_REASONS; ++i)
        r.flags[i] = (i == 35 || i == 38 || i == 42) ? 0 : ES_REASON_DEFINED;
    r.flags[10] |= ES_REASON_ENABLED;
    r.flags[30] |= ES_REASON_ENABLED;
    r.flags[12] |= ES_REASON_ENABLED;
    s.reasons[10].count = 5;
    s.reasons[10].cycles = 1000;
    s.reasons[30].count = 20;
    s.reasons[30].cycles = 4000;
    return make_rows(s, r);
}
} // namespace

TEST_CASE("stat table: sorted by count, zero rows hidden unless --all") {
    const std::string t = format_stat_table(sample_rows(), false, "global");
    const auto io = t.find("IO_INSTRUCTION");
    const auto cpuid = t.find("CPUID");
    REQUIRE(io != std::string::npos);
    REQUIRE(cpuid != std::string::npos);
    CHECK(io < cpuid);
    CHECK(t.find("HLT") == std::string::npos);
    CHECK(t.find("80.0%") != std::string::npos); // 20 of 25
    CHECK(t.find("200") != std::string::npos);   // average cycles of both
    const std::string all = format_stat_table(sample_rows(), true, "global");
    CHECK(all.find("HLT") != std::string::npos);
}

TEST_CASE("stat JSON: every defined reason once, totals, scope") {
    const std::string j = format_stat_json(sample_rows(), "global");
    CHECK(j.rfind("{\"scope\":\"global\",\"reasons\":[", 0) == 0);
    // The key order prefix stays as it was (scripts grep it); min/max/mean/stddev/hist follow.
    CHECK(j.find("{\"reason\":10,\"name\":\"CPUID\",\"enabled\":true,\"count\":5,\"cycles\":1000,"
                 "\"min\":") != std::string::npos);
    CHECK(j.find("\"reason\":35,") == std::string::npos);
    CHECK(j.find("\"total\":{\"count\":25,\"cycles\":5000},\"paging\":null}") != std::string::npos);
    std::size_t n = 0;
    for (std::size_t p = j.find("\"reason\":"); p != std::string::npos;
         p = j.find("\"reason\":", p + 1))
        ++n;
    CHECK(n == 75);
}

TEST_CASE("run summaries name the stop and choose the exit status") {
    // The Exitscope backend's summary: its stop record through the stop table.
    const auto summarize = [](const es_run& r, std::uint64_t exits, std::uint64_t cycles,
                              bool interrupted) {
        stop_record s = exitscope_stop_record(r);
        s.interrupted = interrupted;
        return summarize_stop(s, "exitscope", exitscope_counts(exits, cycles));
    };
    es_run r{};
    r.stop = ES_STOP_HALTED;
    CHECK(summarize(r, 3, 30, false).status == 0);
    CHECK(summarize(r, 3, 30, false).line ==
          "exitscope: guest halted: 3 exits, 30 cycles in the hypervisor");
    r.stop = ES_STOP_EXIT_REQUEST;
    r.exit_code = 0x1ff;
    CHECK(summarize(r, 3, 30, false).status == 0xff);
    r.stop = ES_STOP_EPT_VIOLATION;
    r.gpa = 0xfffff000;
    const auto s = summarize(r, 3, 30, false);
    CHECK(s.status == status_ept_violation);
    CHECK(s.line.find("0xfffff000") != std::string::npos);
    CHECK(s.line == "exitscope: guest accessed guest-physical 0xfffff000, outside its RAM (EPT "
                    "violation, qualification 0x0) at rip 0x0: 3 exits, 30 cycles in the "
                    "hypervisor");
    r.stop = ES_STOP_UNHANDLED;
    r.exit_reason = 9;
    CHECK(summarize(r, 1, 1, false).line.find("task switch (9)") != std::string::npos);
    r.stop = ES_STOP_ENTRY_FAILED;
    r.exit_reason = 0x80000021;
    CHECK(summarize(r, 1, 1, false).line.find("invalid guest state") != std::string::npos);
    CHECK(summarize(r, 1, 1, true).status == status_interrupted);
    r.exit_reason = 0;
    r.vm_instruction_error = 7;
    CHECK(
        summarize(r, 1, 1, false).line ==
        "exitscope: VM entry failed: VM-instruction error 7: 1 exits, 1 cycles in the hypervisor");
    r.stop = ES_STOP_RIP_WRAP;
    r.rip = 0x7ffffffffffe;
    const auto wrap = summarize(r, 1, 1, false);
    CHECK(wrap.status == status_rip_wrap);
    CHECK(wrap.line == "exitscope: guest RIP left its address space (an instruction ended at its "
                       "top) at rip 0x7ffffffffffe: 1 exits, 1 cycles in the hypervisor");
}

TEST_CASE("info names the buffer clearing done before VM entry") {
    es_info info{};
    CHECK(es::cli::entry_mitigations_text(info) == "nothing (not affected, or mitigations off)");
    info.entry_mitigations = ES_MITIGATE_VERW;
    CHECK(es::cli::entry_mitigations_text(info) == "VERW");
    info.entry_mitigations = ES_MITIGATE_L1D_FLUSH | ES_MITIGATE_L1D_FLUSH_SOFTWARE;
    CHECK(es::cli::entry_mitigations_text(info) == "L1D flush (after host code ran, in software)");
    info.entry_mitigations =
        ES_MITIGATE_VERW | ES_MITIGATE_L1D_FLUSH | ES_MITIGATE_L1D_FLUSH_ALWAYS;
    CHECK(es::cli::entry_mitigations_text(info) == "VERW, L1D flush (every entry)");
}

TEST_CASE("guest console bytes reach a terminal as cat -v shows them") {
    using es::cli::terminal_safe;
    CHECK(terminal_safe("Hello\r\n\tworld\b!") == "Hello\r\n\tworld\b!");
    CHECK(terminal_safe("\x1b]0;owned\x07") == "^[]0;owned^G");
    CHECK(terminal_safe(std::string_view("\0\x7f", 2)) == "^@^?");
    CHECK(terminal_safe("\x9b"
                        "31m") == "M-^[31m");
    CHECK(terminal_safe("\xc3\xa9\x8a") == "M-CM-)M-^J");
    CHECK(terminal_safe("") == "");
}

TEST_CASE("console line ends on a terminal without ONLCR: one CR before each LF") {
    using es::cli::terminal_line_ends;
    bool after_cr = false;
    CHECK(terminal_line_ends("ready\n", after_cr) == "ready\r\n");       // a toy guest's
    CHECK(terminal_line_ends("login\r\n# ", after_cr) == "login\r\n# "); // Linux's tty
    CHECK(terminal_line_ends("\n\n", after_cr) == "\r\n\r\n");
    // A CR LF split across two console chunks stays one CR LF.
    CHECK(terminal_line_ends("top\r", after_cr) == "top\r");
    CHECK(after_cr);
    CHECK(terminal_line_ends("\nnext", after_cr) == "\nnext");
    CHECK_FALSE(after_cr);
    CHECK(terminal_line_ends("", after_cr) == "");
    CHECK(terminal_line_ends("\r\r\n", after_cr) == "\r\r\n"); // passed as the guest sent it
}
