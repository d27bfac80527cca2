// The files a run boots from, read and checked before a VM exists: a flat image, or a Linux
// kernel with its initrd laid out by the 64-bit boot protocol (linux_loader.hpp). Both backends
// read them here.
#pragma once

#include <optional>
#include <string>

#include "linux_loader.hpp"
#include "options.hpp"

namespace es::cli {

// The image of `o`, read from a regular file no bigger than the guest's RAM; nullopt after
// printing why not ("TAG: cannot read image ...").
std::optional<std::string> read_image(const run_options& o, const char* tag);

// The kernel and initrd of `o` read and laid out for the boot; nullopt after printing why (then
// the status is status_usage).
struct linux_boot {
    std::string kernel, initrd;
    linux_boot_plan plan;
};
std::optional<linux_boot> prepare_linux_boot(const run_options& o);

} // namespace es::cli
