// The run flow (cli/run_flow.cpp) over a fake backend: the steps in order, a failing step ends
// the run with its status and no summary, a stop prints the stop table's summary. And the
// Exitscope backend's pure parts: its errno advice, and the one checked ioctl.
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "cli/device.hpp"
#include "cli/exitscope_backend.hpp"
#include "cli/run_flow.hpp"
#include "tests/unit/scratch_dir.hpp"
#include "tests/unit/stderr_capture.hpp"

using namespace es::cli;
using es::test::scratch;
using es::test::stderr_capture;

namespace {

// Records each call; the step named `fail` prints a message, as a real backend does, and fails.
class fake_backend final : public backend {
  public:
    std::vector<std::string> calls;
    std::string fail;
    stop_record outcome;

    const char* tag() const override { return "fake"; }
    bool accepts(const run_options&) override { return step("accepts"); }
    bool check(const guest_plan& p) override {
        return step("check " + std::to_string(p.segments.size()));
    }
    bool create(const guest_plan& p) override {
        return step("create " + std::to_string(p.mem_bytes >> 20) + " MiB");
    }
    bool load(const load_segment& s, const char* what) override {
        return step(std::string("load ") + what + " at " + hex(s.gpa) + ", " +
                    std::to_string(s.len) + " bytes");
    }
    bool set_state(const guest_plan& p) override {
        return step("set_state mode " + std::to_string(p.state.mode) + " entry " +
                    hex(p.state.entry));
    }
    bool run(const guest_plan& p, stop_record& stop) override {
        stop = outcome;
        return step("run max_exits " + std::to_string(p.max_exits));
    }
    std::size_t offer_input(const std::uint8_t*, std::size_t n) override { return n; }
    std::string counts() override { return "9 fake exits"; }
    void after_summary(const stop_record& stop) override {
        calls.push_back("after_summary stop " + std::to_string(stop.stop));
    }

  private:
    bool step(const std::string& call) {
        calls.push_back(call);
        const std::string name = call.substr(0, call.find(' '));
        if (name != fail)
            return true;
        std::fprintf(stderr, "fake: %s failed\n", name.c_str());
        return false;
    }
};

run_options image_options(const std::string& image) {
    run_options o;
    o.image = image;
    o.load = 0x2000;
    o.entry = 0x2010;
    o.mode = ES_MODE_PROTECTED;
    o.max_exits = 5;
    return o;
}

} // namespace

TEST_CASE("run flow: reads, checks, creates, loads, sets the state, runs, summarizes") {
    const scratch dir;
    const run_options o = image_options(dir.file("guest.bin", "\xf4\xf4\xf4"));
    fake_backend b;
    b.outcome.stop = ES_STOP_HALTED;
    stderr_capture err;
    CHECK(run_flow(o, b) == 0);
    CHECK(err.text() == "fake: guest halted: 9 fake exits\n");
    CHECK(b.calls == std::vector<std::string>{"accepts", "check 1", "create 2 MiB",
                                              "load loading the image at 0x2000, 3 bytes",
                                              "set_state mode 1 entry 0x2010", "run max_exits 5",
                                              "after_summary stop 1"});
}

TEST_CASE("run flow: a stop ends with the stop table's status and summary") {
    const scratch dir;
    const run_options o = image_options(dir.file("guest.bin", "x"));
    fake_backend b;
    b.outcome.stop = ES_STOP_EPT_VIOLATION;
    b.outcome.gpa = 0x400000;
    b.outcome.rip = 0x2010;
    b.outcome.detail = "fake detail";
    stderr_capture err;
    CHECK(run_flow(o, b) == status_ept_violation);
    CHECK(err.text() == "fake: guest accessed guest-physical 0x400000, outside its RAM (fake "
                        "detail) at rip 0x2010: 9 fake exits\n");

    fake_backend exit_request;
    exit_request.outcome.stop = ES_STOP_EXIT_REQUEST;
    exit_request.outcome.exit_code = 0x142;
    stderr_capture err2;
    CHECK(run_flow(o, exit_request) == 0x42);
    CHECK(err2.text() == "fake: guest exited with code 322: 9 fake exits\n");
}

TEST_CASE("run flow: a failing step ends the run with its status, without a summary") {
    const scratch dir;
    const run_options o = image_options(dir.file("guest.bin", "x"));
    const std::vector<std::string> all = {"accepts",
                                          "check 1",
                                          "create 2 MiB",
                                          "load loading the image at 0x2000, 1 bytes",
                                          "set_state mode 1 entry 0x2010",
                                          "run max_exits 5"};
    const struct {
        const char* step;
        int status;
        std::size_t calls; // how many steps ran, the failing one included
    } cases[] = {{"accepts", status_usage, 1},   {"check", status_error, 2},
                 {"create", status_error, 3},    {"load", status_error, 4},
                 {"set_state", status_error, 5}, {"run", status_error, 6}};
    for (const auto& c : cases) {
        INFO(c.step);
        fake_backend b;
        b.fail = c.step;
        b.outcome.stop = ES_STOP_HALTED;
        stderr_capture err;
        CHECK(run_flow(o, b) == c.status);
        CHECK(err.text() == "fake: " + std::string(c.step) + " failed\n");
        CHECK(b.calls == std::vector<std::string>(all.begin(), all.begin() + c.calls));
    }
}

TEST_CASE("run flow: an image that cannot be read is a usage error before any VM exists") {
    const scratch dir;
    fake_backend b;
    stderr_capture err;
    CHECK(run_flow(image_options(dir.dir + "/missing.bin"), b) == status_usage);
    CHECK(err.text() == "fake: cannot read image " + dir.dir + "/missing.bin\n");
    CHECK(b.calls == std::vector<std::string>{"accepts"});
}

TEST_CASE("run flow: a Linux boot is loaded segment by segment and starts in linux64") {
    linux_boot boot;
    boot.kernel = std::string(0x600, 'k') + "body";
    boot.plan.zero_page = std::string(4096, '\0');
    boot.plan.cmdline = std::string("console=ttyS0") + '\0';
    boot.plan.entry = 0x100200;
    boot.plan.boot_params = zero_page_gpa;
    boot.plan.setup_bytes = 0x600;
    run_options o;
    o.kernel = "vmlinuz";
    o.mem_bytes = 128ull << 20;
    const guest_plan p = linux_plan(o, boot);
    CHECK(p.state.mode == ES_MODE_LINUX64);
    CHECK(p.state.entry == 0x100200);
    CHECK(p.state.boot_params == zero_page_gpa);
    CHECK(std::string(p.load_what) == "loading the kernel");
    REQUIRE(p.segments.size() == 3); // zero page, command line, kernel: no initrd
    CHECK(p.segments[0].gpa == zero_page_gpa);
    CHECK(p.segments[1].gpa == cmdline_gpa);
    CHECK(std::string(p.segments[2].data, p.segments[2].len) == "body");
}

TEST_CASE("exitscope backend: EOPNOTSUPP says what the CPU lacks and what to do") {
    CHECK(create_vm_advice(EOPNOTSUPP).rfind(std::strerror(EOPNOTSUPP), 0) == 0);
    CHECK(create_vm_advice(EOPNOTSUPP).find("a usable EPT") != std::string::npos);
    CHECK(create_vm_advice(EOPNOTSUPP).find("exitscope info") != std::string::npos);
    CHECK(set_state_advice(EOPNOTSUPP).rfind(std::strerror(EOPNOTSUPP), 0) == 0);
    CHECK(set_state_advice(EOPNOTSUPP).find("no unrestricted guest") != std::string::npos);
    CHECK(set_state_advice(EOPNOTSUPP).find("--mode long") != std::string::npos);
    CHECK(create_vm_advice(ENOMEM) == errno_advice(ENOMEM));
    CHECK(set_state_advice(EINVAL) == errno_advice(EINVAL));
}

TEST_CASE("checked ioctl: TAG: WHAT failed: ADVICE (errno E)") {
    const auto advice = [](int e) { return "advice for " + std::to_string(e); };
    stderr_capture err;
    CHECK(checked_ioctl(-1, 0, nullptr, "poking", "tag", advice) < 0);
    CHECK(errno == EBADF);
    CHECK(checked_ioctl(-1, 0, nullptr, "prodding") < 0);
    CHECK(err.text() == "tag: poking failed: advice for 9 (errno 9)\nexitscope: prodding failed: " +
                            errno_advice(EBADF) + " (errno 9)\n");
}
