// Files the CLI reads (guest images, snapshots, record CSVs): checked before use. Only regular
// files are read, and only up to a bound the caller documents, so a directory, a device such as
// /dev/zero or a FIFO gets a clear error instead of an exception or an unbounded read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace es::cli {

struct input_error {
    bool cannot_open; // open() failed: `why` is strerror's text
    std::string why;  // e.g. "it is a directory, not a file"
};

// The whole file, or nullopt with `error` set. `limit_text` ends the too-big message: "is
// 3145728 bytes, more than " + limit_text.
std::optional<std::string> read_input_file(const std::string& path, std::uint64_t max_bytes,
                                           const std::string& limit_text, input_error& error);

// Bounds (README "The CLI"): an image must fit the guest's RAM; a snapshot file is a fixed-size
// header plus the statistics, far below this; a record CSV grows about 4 KB a second.
inline constexpr std::uint64_t snapshot_max_bytes = 1ull << 20;
inline constexpr std::uint64_t record_csv_max_bytes = 256ull << 20;

} // namespace es::cli
