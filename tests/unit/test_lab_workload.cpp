// tools/guests/lab-workload, the paging lab's workload in the Linux guest's initramfs, run on the
// host by busybox sh (the guest's shell) with small counts: its markers, in order, with times
// from /proc/uptime that tests/bench/paging can parse, and no file left behind.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch_dir.hpp"

namespace {

// The script beside this test in the source tree (CMake compiles with absolute source paths).
std::string workload_path() {
    std::string here = __FILE__;
    return here.substr(0, here.rfind("/tests/unit/")) + "/tools/guests/lab-workload";
}

struct outcome {
    std::string out;
    int status;
};

outcome run_workload(const std::string& args) {
    outcome r{"", -1};
    FILE* p = popen(("busybox sh " + workload_path() + " " + args + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
        r.out.append(buf, n);
    const int w = pclose(p);
    r.status = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
    return r;
}

double marker_time(const std::string& out, const std::string& pattern) {
    std::smatch m;
    const std::regex re("exitscope-guest: workload " + pattern + " at ([0-9]+\\.[0-9]+) s");
    REQUIRE(std::regex_search(out, m, re));
    return std::stod(m[1].str());
}

} // namespace

TEST_CASE("lab workload: start, forks, memory and end markers in order, with guest times") {
    REQUIRE(access(workload_path().c_str(), R_OK) == 0);
    REQUIRE(std::system("command -v busybox >/dev/null") == 0); // tools/install-deps installs it
    const es::test::scratch dir;
    const outcome r = run_workload("7 2 " + dir.dir);
    INFO(r.out);
    CHECK(r.status == 0);
    const double start = marker_time(r.out, "start");
    const double forks = marker_time(r.out, "forks 7 done");
    const double memory = marker_time(r.out, "memory 2 MiB done");
    const double end = marker_time(r.out, "end");
    CHECK(start <= forks);
    CHECK(forks <= memory);
    CHECK(memory == end);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex("\\(took ([0-9]+\\.[0-9]{2}) s\\)")));
    CHECK(std::stod(m[1].str()) == Approx(end - start).margin(0.005));
    CHECK(r.out.find("exitscope-guest: workload start") < r.out.find("forks 7 done"));
    CHECK(r.out.find("forks 7 done") < r.out.find("memory 2 MiB done"));
    CHECK(r.out.find("memory 2 MiB done") < r.out.find("workload end"));
    // The memory touch's file is gone.
    CHECK(std::system(("[ -z \"$(ls -A " + dir.dir + ")\" ]").c_str()) == 0);
}

TEST_CASE("lab workload: a memory touch that cannot write says so and fails") {
    const outcome r = run_workload("1 1 /nonexistent-es-dir");
    CHECK(r.status == 1);
    CHECK(r.out.find("exitscope-guest: workload memory failed (dd into /nonexistent-es-dir: ") !=
          std::string::npos);
    CHECK(r.out.find("workload end") == std::string::npos);
}
