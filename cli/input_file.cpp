// Bounded reads of regular files.
#include "input_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.hpp"

namespace es::cli {

namespace {

// Closes the descriptor on every return path.
struct closer {
    int fd;
    ~closer() {
        if (fd >= 0)
            close(fd);
    }
};

} // namespace

std::optional<std::string> read_input_file(const std::string& path, std::uint64_t max_bytes,
                                           const std::string& limit_text, input_error& error) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then rejects it.
    const closer f{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (f.fd < 0) {
        error = {true, std::strerror(errno)};
        return std::nullopt;
    }
    struct stat st {};
    if (fstat(f.fd, &st) != 0) {
        error = {false, std::strerror(errno)};
        return std::nullopt;
    }
    if (S_ISDIR(st.st_mode)) {
        error = {false, "it is a directory, not a file"};
        return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
        error = {false, "it is not a regular file (a device, FIFO or socket)"};
        return std::nullopt;
    }
    const auto too_big = [&](std::uint64_t size) {
        error = {false, "it is " + group_digits(size) + " bytes, more than " + limit_text};
    };
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        too_big(static_cast<std::uint64_t>(st.st_size));
        return std::nullopt;
    }
    // Read until end of file, but never past the bound (the file may grow meanwhile).
    std::string data(static_cast<std::size_t>(st.st_size) + 1, '\0');
    std::size_t have = 0;
    for (;;) {
        if (have == data.size()) {
            if (have > max_bytes) {
                too_big(have);
                return std::nullopt;
            }
            data.resize(std::min<std::uint64_t>(max_bytes + 1, have * 2 + 4096));
        }
        const ssize_t n = read(f.fd, data.data() + have, data.size() - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error = {false, std::strerror(errno)};
            return std::nullopt;
        }
        if (n == 0)
            break;
        have += static_cast<std::size_t>(n);
    }
    if (have > max_bytes) {
        too_big(have);
        return std::nullopt;
    }
    data.resize(have);
    return data;
}

} // namespace es::cli
