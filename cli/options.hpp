// Command-line parsing for `exitscope run`. Pure: unit-tested and fuzzed on the host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace es::cli {

// Decimal or 0x-prefixed hexadecimal, no sign, no trailing characters, no overflow.
std::optional<std::uint64_t> parse_number(const std::string& s);

struct run_options {
    std::uint32_t mode = 0; // enum es_guest_mode
    std::uint64_t mem_bytes = 2ull << 20;
    std::uint64_t load = 0x1000;
    std::optional<std::uint64_t> entry; // defaults to `load`
    std::uint64_t max_exits = 0;        // 0: no limit
    std::string backend = "exitscope";
    bool shadow_paging = false; // --paging shadow (ES_VM_SHADOW_PAGING); default ept
    bool paging_given = false;  // --paging given: else shadow where the CPU has no EPT;
                                // --backend kvm checks kvm_intel's ept against it
    std::string image;
    // --kernel boots a bzImage instead of IMAGE (linux64 mode, RAM default linux_default_mem).
    std::string kernel, initrd, append;
    // --add HOST_FILE[:GUEST_PATH], with --kernel: files appended to the initrd (cpio_append.hpp).
    std::vector<std::string> add;
    // Guest console bytes as they are, also on a terminal (else control bytes show as ^X).
    bool raw = false;
    // --cpus N, with --kernel: vCPUs of the Linux guest (toy images keep one).
    std::uint32_t vcpus = 1;
};

// The most vCPUs --cpus takes: the MP table builder's limit (board/mp_table.hpp).
inline constexpr std::uint32_t max_cpus = 16;

inline constexpr std::uint64_t linux_default_mem = 128ull << 20;

// Parses the arguments after `run` (with CLI11); on failure returns nullopt and sets `error` to a
// message that says what to do. With --help (or -h) and `help` given, returns nullopt with
// `error` empty and `*help` set to the option list.
std::optional<run_options> parse_run_options(const std::vector<std::string>& args,
                                             std::string& error, std::string* help = nullptr);

} // namespace es::cli
