// Helpers shared by the subcommands.
#include "command_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.hpp"
#include "observe.hpp"

namespace es::cli {

bool read_stats(int fd, es_stats& s, const stats_scope& scope, bool* vm_gone) {
    s = es_stats{};
    s.size = sizeof s;
    s.scope = scope.scope;
    s.cpu = scope.cpu;
    s.vm_id = scope.vm_id;
    s.vcpu = scope.vcpu;
    if (ioctl(fd, ES_IOC_STATS, &s) == 0)
        return true;
    const int e = errno;
    if (vm_gone && e == ENOENT && scope.vm_id) {
        *vm_gone = true;
        return false;
    }
    const auto why = explain_scope_error(scope, e);
    report_failure("exitscope", "reading statistics", e, why ? *why : errno_advice(e));
    errno = e;
    return false;
}

bool read_trace(int fd, std::uint32_t vm, bool outliers, std::uint32_t capacity,
                std::vector<es_trace_entry>& entries, std::uint64_t& threshold) {
    entries.assign(capacity, es_trace_entry{});
    es_trace t{};
    t.size = sizeof t;
    t.flags = outliers ? ES_TRACE_OUTLIER_RING : 0;
    t.vm = vm;
    t.entries = reinterpret_cast<std::uintptr_t>(entries.data());
    t.capacity = capacity;
    if (checked_ioctl(fd, ES_IOC_TRACE, &t, "reading the flight recorder") < 0)
        return false;
    entries.resize(std::min(t.count, capacity));
    threshold = t.outlier_cycles;
    return true;
}

void print_last_exits(int dev_fd, std::uint32_t vm_id, unsigned n) {
    std::vector<es_trace_entry> entries;
    std::uint64_t threshold = 0;
    if (!read_trace(dev_fd, vm_id, false, n, entries, threshold))
        return;
    std::fprintf(stderr, "\nLast %zu exits of VM %u (flight recorder, oldest first):\n",
                 entries.size(), vm_id);
    std::fputs(format_trace_table(entries).c_str(), stderr);
}

bool write_file(const std::string& path, const std::string& data) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f)
        return false;
    const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
    return std::fclose(f) == 0 && ok;
}

double monotonic_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void sleep_until(double deadline) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(deadline);
    ts.tv_nsec = static_cast<long>((deadline - static_cast<double>(ts.tv_sec)) * 1e9);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

std::string find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t s = 0;
    for (;;) {
        const std::size_t c = dirs.find(':', s);
        std::string dir = dirs.substr(s, c == std::string::npos ? std::string::npos : c - s);
        if (dir.empty())
            dir.push_back('.'); // not dir = ".": GCC 12 warns falsely (-Wrestrict)
        std::string f = dir;
        f += '/';
        f += name;
        struct stat st {};
        if (stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(f.c_str(), X_OK) == 0)
            return f;
        if (c == std::string::npos)
            return "";
        s = c + 1;
    }
}

} // namespace es::cli
