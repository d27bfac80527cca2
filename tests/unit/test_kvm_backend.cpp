// The KVM backend's pure parts (start state as KVM registers, binary statistics, summaries) and
// the comparison of two backends' outcomes. No /dev/kvm needed.
#include <catch2/catch.hpp>
#include <cstring>

#include "cli/compare.hpp"
#include "cli/kvm_backend.hpp"
#include "exitscope/abi.h"
#include "sdm/cpu_bits.hpp"
#include "vmx/pure/guest_modes.hpp"

using namespace es::cli;

namespace {

constexpr std::uint64_t mib = 1ull << 20;

es::guest_start_state start(es::guest_mode m) {
    // Fixed bits as VMX would force them, to check that KVM gets the shadows instead.
    return es::initial_guest_state(m, 0x1000, 0, 2 * mib, sdm::cr0::ne | sdm::cr0::pe,
                                   sdm::cr4::vmxe);
}

// A KVM binary statistics file: header, descriptors (16 fixed bytes + name), data.
struct stats_builder {
    std::uint32_t name_size = 48;
    std::vector<std::pair<std::string, std::vector<std::uint64_t>>> stats;

    std::vector<std::uint8_t> build() const {
        const std::uint32_t header = 24, id = 48;
        const std::uint32_t desc_offset = header + id;
        const std::uint32_t desc_size = 16 + name_size;
        const std::uint32_t data_offset =
            desc_offset + desc_size * static_cast<std::uint32_t>(stats.size());
        std::vector<std::uint8_t> buf(data_offset);
        auto put32 = [&](std::size_t at, std::uint32_t v) { std::memcpy(&buf[at], &v, 4); };
        auto put16 = [&](std::size_t at, std::uint16_t v) { std::memcpy(&buf[at], &v, 2); };
        put32(4, name_size);
        put32(8, static_cast<std::uint32_t>(stats.size()));
        put32(12, header);
        put32(16, desc_offset);
        put32(20, data_offset);
        std::uint32_t offset = 0;
        for (std::size_t i = 0; i < stats.size(); ++i) {
            const std::size_t d = desc_offset + i * desc_size;
            put16(d + 6, static_cast<std::uint16_t>(stats[i].second.size()));
            put32(d + 8, offset);
            std::memcpy(&buf[d + 16], stats[i].first.c_str(), stats[i].first.size());
            for (const std::uint64_t v : stats[i].second) {
                buf.resize(buf.size() + 8);
                std::memcpy(&buf[data_offset + offset], &v, 8);
                offset += 8;
            }
        }
        return buf;
    }
};

backend_outcome outcome(const char* backend, const char* console, const char* messages,
                        int status) {
    return {backend, console, messages, status};
}

} // namespace

TEST_CASE("kvm: access rights become KVM segment fields") {
    // 64-bit code: type 0xb, S, DPL 0, present, L, G.
    const es::segment_state cs{0x08, 0, 0xffffffff, 0xb | 1u << 4 | 1u << 7 | 1u << 13 | 1u << 15};
    const kvm_segment k = to_kvm_segment(cs);
    CHECK(k.selector == 0x08);
    CHECK(k.limit == 0xffffffff);
    CHECK(k.type == 0xb);
    CHECK(k.s == 1);
    CHECK(k.dpl == 0);
    CHECK(k.present == 1);
    CHECK(k.l == 1);
    CHECK(k.db == 0);
    CHECK(k.g == 1);
    CHECK(k.unusable == 0);

    const kvm_segment ldt = to_kvm_segment({0, 0, 0, 1u << 16});
    CHECK(ldt.unusable == 1);
    CHECK(ldt.present == 0);
    const kvm_segment dpl3 = to_kvm_segment({0x23, 0x1000, 0xffff, 3u << 5 | 1u << 7 | 1u << 12});
    CHECK(dpl3.dpl == 3);
    CHECK(dpl3.avl == 1);
    CHECK(dpl3.base == 0x1000);
}

TEST_CASE("kvm: real-mode start state, shadow control registers") {
    const auto g = start(es::guest_mode::real);
    kvm_sregs s{};
    s.apic_base = 0xfee00900;
    fill_kvm_sregs(g, s);
    CHECK(s.cr0 == (sdm::cr0::et | sdm::cr0::ne)); // no PE: the VMX fixed bits stay out
    CHECK(s.cr4 == 0);
    CHECK(s.efer == 0);
    CHECK(s.cs.base == 0);
    CHECK(s.cs.limit == 0xffff);
    CHECK(s.cs.db == 0);
    CHECK(s.ss.type == 3);
    CHECK(s.tr.type == 0xb);
    CHECK(s.tr.present == 1);
    CHECK(s.tr.s == 0);
    CHECK(s.ldt.unusable == 1);
    CHECK(s.gdt.limit == 0xffff);
    CHECK(s.idt.base == 0);
    CHECK(s.apic_base == 0xfee00900); // left alone
    kvm_regs r{};
    r.rax = 42;
    fill_kvm_regs(g, r);
    CHECK(r.rip == 0x1000);
    CHECK(r.rsp == 0xfff0);
    CHECK(r.rflags == 2);
    CHECK(r.rax == 0);
}

TEST_CASE("kvm: protected and long mode start states") {
    kvm_sregs p{};
    fill_kvm_sregs(start(es::guest_mode::protected32), p);
    CHECK(p.cr0 == (sdm::cr0::et | sdm::cr0::ne | sdm::cr0::pe));
    CHECK(p.cs.selector == 0x08);
    CHECK(p.cs.db == 1);
    CHECK(p.cs.g == 1);
    CHECK(p.ds.selector == 0x10);

    const auto g = start(es::guest_mode::long64);
    kvm_sregs l{};
    fill_kvm_sregs(g, l);
    CHECK((l.cr0 & sdm::cr0::pg) != 0);
    CHECK(l.cr4 == sdm::cr4::pae); // no VMXE
    CHECK(l.cr3 == es::page_tables_base(2 * mib));
    CHECK(l.efer == g.efer);
    CHECK(l.cs.l == 1);
    CHECK(l.cs.db == 0);
    kvm_regs r{};
    fill_kvm_regs(g, r);
    CHECK(r.rsp == es::page_tables_base(2 * mib));
}

TEST_CASE("kvm: binary statistics are parsed, histograms skipped") {
    stats_builder b;
    b.stats = {{"halt_wait_hist", {1, 2, 3, 4}},
               {"exits", {1012}},
               {"io_exits", {3}},
               {"halt_exits", {1}}};
    const auto buf = b.build();
    std::vector<kvm_stat> out;
    REQUIRE(parse_kvm_stats(buf.data(), buf.size(), out));
    REQUIRE(out.size() == 3);
    CHECK(out[0].name == "exits");
    CHECK(out[0].value == 1012);
    CHECK(out[2].name == "halt_exits");
    CHECK(out[2].value == 1);
    CHECK(format_kvm_stats(out) == "exits 1012, io_exits 3, halt_exits 1");
}

TEST_CASE("kvm: malformed statistics are refused") {
    stats_builder b;
    b.stats = {{"exits", {7}}};
    auto buf = b.build();
    std::vector<kvm_stat> out;
    CHECK_FALSE(parse_kvm_stats(buf.data(), 10, out));             // no whole header
    CHECK_FALSE(parse_kvm_stats(buf.data(), buf.size() - 1, out)); // data cut short
    CHECK_FALSE(parse_kvm_stats(nullptr, 0, out));
    const std::uint32_t many = 1u << 30;
    std::memcpy(&buf[8], &many, 4); // descriptors beyond the end
    CHECK_FALSE(parse_kvm_stats(buf.data(), buf.size(), out));
    CHECK(out.empty());
    CHECK(format_kvm_stats({}).empty());
    CHECK(format_kvm_stats({{"pf_taken", 4}}).empty());
}

TEST_CASE("kvm: summaries and exit statuses match the Exitscope backend's") {
    const std::vector<kvm_stat> stats{{"exits", 30}, {"halt_exits", 1}};
    // The KVM backend's summary: its stop record and tally through the stop table.
    const auto summarize_kvm = [](stop_record s, std::uint64_t user_exits,
                                  const std::vector<kvm_stat>& st, bool interrupted) {
        s.interrupted = interrupted;
        return summarize_stop(s, "exitscope[kvm]", kvm_counts(user_exits, st));
    };
    stop_record s;
    s.stop = ES_STOP_HALTED;
    auto r = summarize_kvm(s, 23, stats, false);
    CHECK(r.status == 0);
    CHECK(r.line == "exitscope[kvm]: guest halted: 23 exits seen by user space (KVM counted: "
                    "exits 30, halt_exits 1)");
    CHECK(summarize_kvm(s, 1, {}, false).line ==
          "exitscope[kvm]: guest halted: 1 exits seen by user space");

    s.stop = ES_STOP_EXIT_REQUEST;
    s.exit_code = 0x1234;
    r = summarize_kvm(s, 5, {}, false);
    CHECK(r.status == 0x34);
    CHECK(r.line.find("guest exited with code 4660") != std::string::npos);

    s = stop_record{};
    s.stop = ES_STOP_EPT_VIOLATION;
    s.gpa = 0xfffff000;
    s.rip = 0x1234;
    s.detail = "KVM_EXIT_MMIO, read of 4 bytes";
    r = summarize_kvm(s, 5, {}, false);
    CHECK(r.status == status_ept_violation);
    CHECK(r.line.find("guest-physical 0xfffff000, outside its RAM (KVM_EXIT_MMIO, read of 4 "
                      "bytes) at rip 0x1234") != std::string::npos);

    s.stop = ES_STOP_TRIPLE_FAULT;
    CHECK(summarize_kvm(s, 0, {}, false).status == status_triple_fault);
    s.stop = ES_STOP_ENTRY_FAILED;
    CHECK(summarize_kvm(s, 0, {}, false).status == status_entry_failed);
    s.stop = ES_STOP_UNHANDLED;
    CHECK(summarize_kvm(s, 0, {}, false).status == status_unhandled);
    r = summarize_kvm(s, 0, {}, true);
    CHECK(r.status == status_interrupted);
    CHECK(r.line.find("interrupted by a signal at rip 0x1234") != std::string::npos);
    CHECK(kvm_exit_name(KVM_EXIT_IO) == "KVM_EXIT_IO");
    CHECK(kvm_exit_name(9999) == "KVM exit 9999");
}

TEST_CASE("compare: stop kinds from status and summary") {
    CHECK(stop_kind(outcome("kvm", "", "exitscope[kvm]: guest halted: 3 exits", 0)) == "halted");
    CHECK(stop_kind(outcome("exitscope", "", "exitscope: guest exited with code 0: 3 exits", 0)) ==
          "exit code 0");
    // A guest may choose 73 as its code: the summary tells it from an access outside RAM.
    CHECK(stop_kind(outcome("exitscope", "", "exitscope: guest exited with code 73: 1 exits",
                            73)) == "exit code 73");
    CHECK(stop_kind(outcome("kvm", "", "exitscope[kvm]: guest accessed ...", 73)) ==
          "access outside guest RAM");
    CHECK(stop_kind(outcome("kvm", "", "interrupted", 130)) == "interrupted");
    CHECK(stop_kind(outcome("kvm", "", "cannot open /dev/kvm", 1)) == "error");
    // The stop table's kinds, each status as before, and the RIP wrap's own.
    CHECK(stop_kind(outcome("exitscope", "", "", 70)) == "unhandled exit");
    CHECK(stop_kind(outcome("exitscope", "", "", 71)) == "VM entry failure");
    CHECK(stop_kind(outcome("exitscope", "", "", 72)) == "triple fault");
    CHECK(stop_kind(outcome("exitscope", "", "", 74)) == "exit limit");
    CHECK(stop_kind(outcome("exitscope", "", "", 75)) == "machine reset");
    CHECK(stop_kind(outcome("exitscope", "", "", 76)) == "RIP left its address space");
    CHECK(stop_kind(outcome("exitscope", "", "", 2)) == "usage error");
    CHECK(stop_kind(outcome("exitscope", "", "", 0)) == "status 0 without a summary");
    CHECK(stop_kind(outcome("exitscope", "", "", 99)) == "unknown stop");
}

TEST_CASE("compare: same stop and console is a match") {
    const auto a = outcome("exitscope", "Hello\n", "exitscope: guest halted: 7 exits", 0);
    const auto b = outcome("kvm", "Hello\n", "exitscope[kvm]: guest halted: 7 exits", 0);
    const comparison c = compare_outcomes(a, b);
    CHECK(c.same);
    CHECK(c.verdict == "compare: same: both halted (status 0), identical consoles (6 bytes)");
    CHECK(console_difference(a, b).empty());
}

TEST_CASE("compare: differences are named") {
    const auto a = outcome("exitscope", "zoo: one\nzoo: CPUID counted 3\n",
                           "exitscope: guest accessed guest-physical 0xfffff000", 73);
    const auto b = outcome("kvm", "zoo: one\nzoo: CPUID counted 0\n",
                           "exitscope[kvm]: guest accessed guest-physical 0xfffff000", 73);
    comparison c = compare_outcomes(a, b);
    CHECK_FALSE(c.same);
    CHECK(c.verdict == "compare: DIFFERENT: both access outside guest RAM; consoles differ at byte "
                       "28 (line 2): exitscope has \"zoo: CPUID counted 3\\n\" (30 bytes), kvm "
                       "has \"zoo: CPUID counted 0\\n\" (30 bytes)");

    const auto h = outcome("kvm", "zoo: one\n", "exitscope[kvm]: guest halted", 0);
    c = compare_outcomes(a, h);
    CHECK_FALSE(c.same);
    CHECK(c.verdict.find("stop: exitscope access outside guest RAM (status 73), kvm halted "
                         "(status 0);") != std::string::npos);
    CHECK(c.verdict.find("kvm has nothing more (9 bytes)") != std::string::npos);

    // Both failing the same way is no match.
    const auto e1 = outcome("exitscope", "", "not loaded", 1);
    const auto e2 = outcome("kvm", "", "no /dev/kvm", 1);
    c = compare_outcomes(e1, e2);
    CHECK_FALSE(c.same);
    CHECK(c.verdict == "compare: DIFFERENT: both failed to run (error); consoles identical");
}

TEST_CASE("compare: labelled blocks, unterminated console noted") {
    CHECK(format_outcome(outcome("kvm", "hi\n", "exitscope[kvm]: guest halted\n", 0)) ==
          "--- kvm: console (3 bytes) ---\nhi\n--- kvm: summary (exit status 0) ---\n"
          "exitscope[kvm]: guest halted\n");
    CHECK(format_outcome(outcome("exitscope", "a\x01", "x", 0)) ==
          "--- exitscope: console (2 bytes) ---\na\x01\n[no newline at the end of the console]\n"
          "--- exitscope: summary (exit status 0) ---\nx\n");
}
