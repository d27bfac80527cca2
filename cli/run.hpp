// `exitscope run`: create a VM, load the image, run it to a stop, print console and summary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "device.hpp"
#include "exitscope/abi.h"
#include "linux_loader.hpp"
#include "options.hpp"

namespace es::cli {

// Returns the process exit status documented in the README.
int run_guest(const run_options& o);
// `run --kernel` (run_linux.cpp).
int run_linux(const run_options& o);

// The kernel and initrd of `o` read and laid out for the boot (both backends); nullopt after
// printing why (then the status is status_usage).
struct linux_boot {
    std::string kernel, initrd;
    linux_boot_plan plan;
};
std::optional<linux_boot> prepare_linux_boot(const run_options& o);

// Steps both share; each reports its failure on stderr. The device and a new VM with
// `mem_bytes` of RAM (both invalid on failure).
struct vm_handles {
    fd_handle dev, vm;
};
vm_handles open_vm(std::uint64_t mem_bytes, std::uint32_t flags = 0); // es_vm_create.flags
bool load_guest_bytes(int vm, std::uint64_t gpa, const void* data, std::uint64_t len,
                      const char* what);
// Runs the VM to its stop, console to stdout, summary (and, for a dying guest, its last exits)
// to stderr; returns the exit status.
int run_to_stop(int dev, int vm, std::uint64_t max_exits);

// The image of `o`, read from a regular file no bigger than the guest's RAM; nullopt after
// printing why not ("TAG: cannot read image ...").
std::optional<std::string> read_image(const run_options& o, const char* tag);

// Exit statuses for stops other than "halted" (0) and "exit request" (the guest's code).
inline constexpr int status_usage = 2;
inline constexpr int status_error = 1;
inline constexpr int status_unhandled = 70;
inline constexpr int status_entry_failed = 71;
inline constexpr int status_triple_fault = 72;
inline constexpr int status_ept_violation = 73;
inline constexpr int status_exit_limit = 74;
inline constexpr int status_reset = 75; // a Linux guest reset the machine (reboot, panic=N)
inline constexpr int status_interrupted = 130;

// The one-line summary `run` prints on standard error, and the exit status for it.
struct stop_summary {
    std::string line;
    int status;
};
stop_summary summarize_stop(const es_run& r, std::uint64_t exits, std::uint64_t cycles,
                            bool interrupted);

} // namespace es::cli
