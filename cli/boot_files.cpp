// Reading what a guest boots from: an image, or a bzImage and its initrd.
#include "boot_files.hpp"

#include <cstdio>

#include "cpio_append.hpp"
#include "exitscope/abi.h"
#include "input_file.hpp"
#include "text.hpp"

namespace es::cli {

namespace {

// What an input bigger than guest RAM is told.
std::string ram_limit_text(std::uint64_t mem_bytes) {
    return "the guest's RAM (" + group_digits(mem_bytes) + " bytes; raise --mem)";
}

// The whole of `path`, a regular file no bigger than guest RAM; nullopt after saying why not.
std::optional<std::string> read_boot_file(const std::string& path, const char* what,
                                          std::uint64_t mem_bytes) {
    input_error why{};
    auto bytes = read_input_file(path, mem_bytes, ram_limit_text(mem_bytes), why);
    if (!bytes)
        std::fprintf(stderr, "exitscope: cannot read %s %s: %s\n", what, path.c_str(),
                     why.why.c_str());
    return bytes;
}

} // namespace

std::optional<std::string> read_image(const run_options& o, const char* tag) {
    input_error why{};
    auto bytes = read_input_file(o.image, o.mem_bytes, ram_limit_text(o.mem_bytes), why);
    if (!bytes) {
        // A missing or unreadable file keeps the message it always had.
        if (why.cannot_open)
            std::fprintf(stderr, "%s: cannot read image %s\n", tag, o.image.c_str());
        else
            std::fprintf(stderr, "%s: cannot read image %s: %s\n", tag, o.image.c_str(),
                         why.why.c_str());
        return std::nullopt;
    }
    if (bytes->empty()) {
        std::fprintf(stderr, "%s: image %s is empty\n", tag, o.image.c_str());
        return std::nullopt;
    }
    return bytes;
}

std::optional<linux_boot> prepare_linux_boot(const run_options& o) {
    linux_boot b;
    auto kernel = read_boot_file(o.kernel, "kernel", o.mem_bytes);
    if (!kernel)
        return std::nullopt;
    b.kernel = std::move(*kernel);
    if (!o.initrd.empty()) {
        auto bytes = read_boot_file(o.initrd, "initrd", o.mem_bytes);
        if (!bytes)
            return std::nullopt;
        if (bytes->empty()) {
            std::fprintf(stderr, "exitscope: initrd %s is empty\n", o.initrd.c_str());
            return std::nullopt;
        }
        b.initrd = std::move(*bytes);
    }
    // --add: the files as one more cpio archive after the initrd (or as the whole initramfs).
    std::vector<cpio_file> files(o.add.size());
    for (std::size_t i = 0; i < o.add.size(); ++i)
        if (const std::string why = read_add_argument(o.add[i], files[i]); !why.empty()) {
            std::fprintf(stderr, "exitscope: --add %s: %s\n", o.add[i].c_str(), why.c_str());
            return std::nullopt;
        }
    if (!files.empty())
        if (const std::string why = append_newc(b.initrd, files); !why.empty()) {
            std::fprintf(stderr, "exitscope: --add: %s\n", why.c_str());
            return std::nullopt;
        }
    std::string error;
    auto plan =
        plan_linux_boot(b.kernel, b.initrd, o.append, o.mem_bytes, ES_LINUX64_HOST_BYTES, error);
    if (!plan) {
        std::fprintf(stderr, "exitscope: %s: %s\n", o.kernel.c_str(), error.c_str());
        return std::nullopt;
    }
    b.plan = std::move(*plan);
    return b;
}

} // namespace es::cli
