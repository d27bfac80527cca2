// The observation helpers: statistics, snapshots, histograms, traces, rates, record CSV, plots.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "cli/format.hpp"
#include "cli/observe.hpp"

using namespace es::cli;

namespace {

// A reason that saw the given cycle values, the way the module accumulates them.
es_reason_stats timed(std::initializer_list<std::uint64_t> cycles) {
    es_reason_stats s{};
    unsigned __int128 sq = 0;
    for (std::uint64_t c : cycles) {
        s.count += 1;
        s.cycles += c;
        sq += static_cast<unsigned __int128>(c) * c;
        s.min_cycles = s.min_cycles && s.min_cycles < c ? s.min_cycles : c;
        s.max_cycles = s.max_cycles > c ? s.max_cycles : c;
        unsigned b = c > 1 ? 63 - static_cast<unsigned>(__builtin_clzll(c)) : 0;
        s.hist[b < ES_HIST_BUCKETS ? b : ES_HIST_BUCKETS - 1] += 1;
    }
    s.sumsq_lo = static_cast<std::uint64_t>(sq);
    s.sumsq_hi = static_cast<std::uint64_t>(sq >> 64);
    return s;
}

es_reasons all_defined() {
    es_reasons r{};
    for (int i = 0; i < ES_NR_REASONS; ++i)
        r.flags[i] = (i == 35 || i == 38 || i == 42) ? 0 : ES_REASON_DEFINED | ES_REASON_ENABLED;
    return r;
}

} // namespace

TEST_CASE("moments: mean and population standard deviation from the sum of squares") {
    const auto m = reason_moments(timed({2, 4, 4, 4, 5, 5, 7, 9}));
    CHECK(m.mean == Approx(5.0));
    CHECK(m.stddev == Approx(2.0));
    const auto one = reason_moments(timed({200}));
    CHECK(one.mean == Approx(200.0));
    CHECK(one.stddev == 0.0);
    const auto none = reason_moments(es_reason_stats{});
    CHECK(none.mean == 0.0);
    CHECK(none.stddev == 0.0);
    // Counts without sums of squares (instrument=1): the variance would be negative: clamped.
    es_reason_stats counted{};
    counted.count = 4;
    counted.cycles = 400;
    CHECK(reason_moments(counted).stddev == 0.0);
    CHECK(reason_moments(counted).mean == Approx(100.0));
}

TEST_CASE("moments: the sum of squares uses all 128 bits") {
    const std::uint64_t big = 1ull << 40; // squares to 2^80
    const auto s = timed({big, big, big + 2, big - 2});
    CHECK(s.sumsq_hi != 0);
    CHECK(sumsq_value(s) == Approx(4.0 * std::ldexp(1.0, 80)));
    CHECK(reason_moments(s).mean == Approx(static_cast<double>(big)));
}

TEST_CASE("reason names: numbers and keys, case-insensitive") {
    CHECK(reason_by_name("CPUID") == 10u);
    CHECK(reason_by_name("cpuid") == 10u);
    CHECK(reason_by_name("12") == 12u);
    CHECK(reason_by_name("0xa") == 10u);
    CHECK(reason_by_name("io_instruction") == 30u);
    CHECK_FALSE(reason_by_name("78"));
    CHECK_FALSE(reason_by_name("FROB"));
    CHECK(std::string(reason_key(12)) == "HLT");
    CHECK(std::string(reason_key(35)) == "UNDEFINED");
}

TEST_CASE("snapshot difference: counts, cycles, sums and histograms subtract") {
    es_stats before{}, now{};
    before.tsc = 1000;
    now.tsc = 5000;
    before.reasons[10] = timed({100, 300});
    now.reasons[10] = timed({100, 300, 130, 140, 5000});
    now.reasons[12] = timed({50});
    const stats_delta d = diff_stats(now, before);
    CHECK_FALSE(d.went_backwards);
    CHECK(d.stats.tsc == 4000);
    const es_reason_stats& c = d.stats.reasons[10];
    CHECK(c.count == 3);
    CHECK(c.cycles == 130 + 140 + 5000);
    const es_reason_stats expect = timed({130, 140, 5000});
    CHECK(c.sumsq_lo == expect.sumsq_lo);
    CHECK(c.sumsq_hi == expect.sumsq_hi);
    for (unsigned i = 0; i < ES_HIST_BUCKETS; ++i)
        CHECK(c.hist[i] == expect.hist[i]);
    // min and max cannot be differenced: the current ones.
    CHECK(c.min_cycles == 100);
    CHECK(c.max_cycles == 5000);
    CHECK(d.stats.reasons[12].count == 1);
    CHECK(d.stats.reasons[1].count == 0);
}

TEST_CASE("snapshot difference: 128-bit borrow and counters that went backwards") {
    es_stats before{}, now{};
    before.reasons[10].sumsq_lo = ~0ull;
    before.reasons[10].sumsq_hi = 1;
    now.reasons[10].sumsq_lo = 1;
    now.reasons[10].sumsq_hi = 3;
    auto d = diff_stats(now, before);
    CHECK_FALSE(d.went_backwards);
    CHECK(d.stats.reasons[10].sumsq_lo == 2);
    CHECK(d.stats.reasons[10].sumsq_hi == 1);
    // A reset between snapshot and now.
    before.reasons[30].count = 10;
    now.reasons[30].count = 3;
    d = diff_stats(now, before);
    CHECK(d.went_backwards);
    CHECK(d.stats.reasons[30].count == 0);
}

TEST_CASE("snapshot files: round trip, and every kind of damage is named") {
    es_stats s{};
    s.size = sizeof s;
    s.tsc = 123456789;
    s.reasons[10] = timed({1, 2, 3});
    const std::string bytes = encode_snapshot(s);
    CHECK(bytes.size() == 16 + sizeof(es_stats));
    CHECK(bytes.compare(0, 6, "ESSNAP") == 0);
    std::string err;
    const auto back = decode_snapshot(bytes, err);
    REQUIRE(back);
    CHECK(std::memcmp(&*back, &s, sizeof s) == 0);

    CHECK_FALSE(decode_snapshot("hello", err));
    CHECK(err.find("not an exitscope snapshot") != std::string::npos);
    CHECK_FALSE(decode_snapshot(bytes.substr(0, bytes.size() - 1), err));
    CHECK(err.find("truncated") != std::string::npos);
    std::string v2 = bytes;
    v2[8] = 2;
    CHECK_FALSE(decode_snapshot(v2, err));
    CHECK(err.find("version 2") != std::string::npos);
}

TEST_CASE("histogram: bucket ranges, bars scaled to the biggest bucket") {
    CHECK(bucket_range(0) == "0-1");
    CHECK(bucket_range(1) == "2-3");
    CHECK(bucket_range(7) == "128-255");
    CHECK(bucket_range(ES_HIST_BUCKETS - 1) == std::to_string(1ull << (ES_HIST_BUCKETS - 1)) + "+");
    es_reason_stats s{};
    s.count = 1001;
    s.hist[7] = 1000;
    s.hist[9] = 1;
    const std::string h = format_histogram(s, 10, 40);
    CHECK(h.find("CPUID (10): 1,001 exits") != std::string::npos);
    CHECK(h.find("128-255        1,000 |" + std::string(40, '#') + "\n") != std::string::npos);
    CHECK(h.find("256-511            0 |\n") != std::string::npos);   // empty bucket in between
    CHECK(h.find("512-1023            1 |#\n") != std::string::npos); // never rounded to nothing
    CHECK(h.find("64-127") == std::string::npos);                     // before the first
    CHECK(h.find("1024-2047") == std::string::npos);                  // after the last
    CHECK(format_histogram(es_reason_stats{}, 12).find("no timed exits") != std::string::npos);
}

TEST_CASE("stat table and JSON carry min, max, mean, stddev and the histogram") {
    es_stats s{};
    s.reasons[10] = timed({2, 4, 4, 4, 5, 5, 7, 9});
    s.reasons[12] = timed({1000});
    const auto rows = make_rows(s, all_defined());
    const std::string t = format_stat_table(rows, false, "global", "a footnote\n");
    INFO(t);
    CHECK(t.find("stddev") != std::string::npos);
    // nr, reason, count, share, cycles, min, max, mean, stddev
    CHECK(t.find("  10  CPUID                               8   88.9%               40          2 "
                 "           9          5          2\n") != std::string::npos);
    CHECK(t.find("a footnote\n") != std::string::npos);
    const std::string j = format_stat_json(rows, "global");
    CHECK(j.find("{\"reason\":10,\"name\":\"CPUID\",\"enabled\":true,\"count\":8,\"cycles\":40,"
                 "\"min\":2,\"max\":9,\"mean\":5.000,\"stddev\":2.000,\"hist\":[0,1,6,1,0,") !=
          std::string::npos);
    const std::string c = format_stat_csv(rows);
    CHECK(c.rfind("reason,name,enabled,count,cycles,min,max,mean,stddev\n", 0) == 0);
    CHECK(c.find("\n10,CPUID,1,8,40,2,9,5.000,2.000\n") != std::string::npos);
    CHECK(c.find("\n12,HLT,1,1,1000,1000,1000,1000.000,0.000\n") != std::string::npos);
}

TEST_CASE("trace: relative time from the first entry shown, names, hex, CSV and JSON") {
    std::vector<es_trace_entry> e(3);
    e[0] = {1000, 200, 0, 0x1005, 10, 7, 0, 0};
    e[1] = {1500, 0, 0, 0x1007, 30, 7, 1, 1};
    e[2] = {2600, 180, 0x12, 0x1010, 0x80000021, 7, 1, 0};
    const std::string t = format_trace_table(e);
    CHECK(t.find("time(+tsc)") != std::string::npos);
    CHECK(t.find("             0    0     7    0  CPUID") != std::string::npos);
    CHECK(t.find("           500    1     7    1  IO_INSTRUCTION") != std::string::npos);
    CHECK(t.find("          1600    1     7    0  INVALID_STATE(entry-fail)") != std::string::npos);
    CHECK(t.find("0x1005") != std::string::npos);
    CHECK(t.find("0x12 ") != std::string::npos);
    // Still being handled: no cycles yet.
    const auto io = t.substr(t.find("IO_INSTRUCTION"));
    CHECK(io.substr(0, io.find('\n')).back() == '-');
    CHECK(format_trace_table({}).find("no exits recorded") != std::string::npos);
    const std::string c = format_trace_csv(e);
    CHECK(c.rfind("tsc,rel_tsc,cpu,vm,vcpu,reason,name,qualification,rip,cycles\n", 0) == 0);
    CHECK(c.find("\n1000,0,0,7,0,10,CPUID,0,0x1005,200\n") != std::string::npos);
    CHECK(c.find("\n1500,500,1,7,1,30,") != std::string::npos);
    const std::string j = format_trace_json(e, true, 100000);
    CHECK(j.rfind("{\"ring\":\"outliers\",\"outlier_cycles\":100000,\"entries\":[{\"tsc\":1000,"
                  "\"rel\":0,\"cpu\":0,\"vm\":7,\"vcpu\":0,\"reason\":10,\"name\":\"CPUID\"",
                  0) == 0);
    CHECK(j.find("\"reason\":33,\"name\":\"INVALID_STATE\",\"entry_failure\":true") !=
          std::string::npos);
}

TEST_CASE("watch: rates per second, sorted by rate, filtered by name") {
    es_stats before{}, now{};
    before.reasons[10].count = 100;
    now.reasons[10].count = 150; // 25/s over 2 s
    now.reasons[10].cycles = 5000;
    before.reasons[30].count = 10;
    now.reasons[30].count = 110; // 50/s
    now.reasons[30].cycles = 20000;
    now.reasons[12].count = 1; // total but no rate
    before.reasons[12].count = 1;
    auto rows = compute_rates(now, before, 2.0, "");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].reason == 30);
    CHECK(rows[0].per_second == Approx(50.0));
    CHECK(rows[1].reason == 10);
    CHECK(rows[1].delta == 50);
    CHECK(rows[2].reason == 12);
    CHECK(rows[2].per_second == 0.0);
    rows = compute_rates(now, before, 2.0, "cpu");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].reason == 10);
    const std::string w = format_watch(compute_rates(now, before, 2.0, ""), 2.0, 3);
    CHECK(w.rfind("Exit rates over the last 2.00 s (refresh 3", 0) == 0);
    CHECK(w.find("IO_INSTRUCTION") < w.find("CPUID"));
    CHECK(w.find("50.0") != std::string::npos);
    CHECK(w.find("\033") == std::string::npos);
    CHECK(format_watch({}, 1.0, 1).find("none matches") != std::string::npos);
}

TEST_CASE("record CSV: rows per non-zero reason, parsed back into series") {
    es_stats s{};
    s.reasons[10].count = 5;
    s.reasons[10].cycles = 1000;
    s.reasons[12].count = 1;
    s.reasons[12].cycles = 30;
    CHECK(format_record_rows(40, s) == "40,10,CPUID,5,1000\n40,12,HLT,1,30\n");

    std::string err;
    const std::string csv = std::string(record_csv_header) +
                            "0,30,IO_INSTRUCTION,2,100\n"
                            "20,10,CPUID,300,1\n20,30,IO_INSTRUCTION,4,100\n"
                            "40,10,CPUID,1001,1\n40,30,IO_INSTRUCTION,55,100\n40,12,HLT,1,1\r\n";
    const auto d = parse_record_csv(csv, err);
    REQUIRE(d);
    CHECK(d->times_ms == std::vector<std::uint64_t>{0, 20, 40});
    REQUIRE(d->reasons.size() == 3);
    CHECK(d->reasons[0].name == "CPUID"); // biggest first
    CHECK(d->reasons[0].counts == std::vector<std::uint64_t>{0, 300, 1001});
    CHECK(d->reasons[1].reason == 30);
    CHECK(d->reasons[1].counts == std::vector<std::uint64_t>{2, 4, 55});
    CHECK(d->reasons[2].counts == std::vector<std::uint64_t>{0, 0, 1});

    CHECK_FALSE(parse_record_csv("", err));
    CHECK_FALSE(parse_record_csv("a,b\n1,2\n", err));
    CHECK(err.find("header") != std::string::npos);
    CHECK_FALSE(parse_record_csv(std::string(record_csv_header), err));
    CHECK(err.find("no samples") != std::string::npos);
    CHECK_FALSE(parse_record_csv(std::string(record_csv_header) + "1,2,X,3\n", err));
    CHECK(err.find("line 2") != std::string::npos);
    CHECK_FALSE(parse_record_csv(std::string(record_csv_header) + "9,2,X,3,4\n5,2,X,3,4\n", err));
    CHECK(err.find("backwards") != std::string::npos);
}

TEST_CASE("gnuplot script: two panels, inline data, rates per interval") {
    std::string err;
    const auto d = parse_record_csv(std::string(record_csv_header) +
                                        "0,10,CPUID,0,0\n500,10,CPUID,100,1\n1500,10,CPUID,300,1\n"
                                        "1500,12,HLT,1,1\n",
                                    err);
    REQUIRE(d);
    const std::string s = make_gnuplot_script(*d, "/tmp/it's.png", "title");
    CHECK(s.find("set terminal pngcairo") != std::string::npos);
    CHECK(s.find("set output '/tmp/it''s.png'\n") != std::string::npos);
    CHECK(s.find("set multiplot layout 2,1") != std::string::npos);
    CHECK(s.find("$cum0 << EOD\n0.000 0\n0.500 100\n1.500 300\nEOD\n") != std::string::npos);
    // 100 exits in 0.5 s, then 200 in 1 s: 200/s both; the first point starts the step line.
    CHECK(s.find("$rate0 << EOD\n0.000 200.000\n0.500 200.000\n1.500 200.000\nEOD\n") !=
          std::string::npos);
    CHECK(s.find("$rate1 << EOD\n0.000 0.000\n0.500 0.000\n1.500 1.000\nEOD\n") !=
          std::string::npos);
    CHECK(s.find("'CPUID (10)'") != std::string::npos);
    CHECK(s.find("Cumulative exits per reason") != std::string::npos);
    CHECK(s.find("Exit rate per interval") != std::string::npos);
    CHECK(s.find("unset multiplot") != std::string::npos);
    // One sample: no rates, the second panel says so.
    const auto one = parse_record_csv(std::string(record_csv_header) + "0,10,CPUID,5,1\n", err);
    REQUIRE(one);
    const std::string s1 = make_gnuplot_script(*one, "x.png", "t");
    CHECK(s1.find("$rate0") == std::string::npos);
    CHECK(s1.find("one sample only") != std::string::npos);
}
