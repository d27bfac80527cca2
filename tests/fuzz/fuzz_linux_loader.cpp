// libFuzzer target: the bzImage parser and the Linux boot planner (cli/linux_loader.hpp) on
// images whose setup header is built from the input (so that most get past the magic checks:
// any version, flags, setup sectors, header length, command line size, initrd limit, preferred
// address and init_size, a body of any length, the magic numbers sometimes broken), with any
// initrd size, command line, RAM size and host area. Whenever a plan comes out:
// - every piece it loads (zero page, command line, kernel body, initrd) and the kernel's
//   decompression window [pref_address, + init_size) lies in RAM the e820 map gives the guest,
//   below the host's area, with no address that wraps;
// - none of them overlaps another, except the window over the kernel body (the kernel moves
//   itself out of the way before it decompresses);
// - the entry point is inside the kernel body;
// - the zero page's e820 map is sorted, its entries do not overlap and end inside RAM, and its
//   loader fields point at what was loaded.
// ASan and UBSan catch any access out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/linux_loader.hpp"
#include "exitscope/abi.h"
#include "linux_boot/boot_params.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tests/fuzz/fuzz_require.hpp"
#include "tests/unit/boot_fields.hpp"

namespace {
using es::test::get;
using es::test::put;
using fuzz::input;
using fuzz::require;
namespace lb = linux_boot;

// A value the planner's checks sit on the edges of: small, near a power of two, near 2^64.
std::uint64_t edgy(input& in, unsigned bytes) {
    const auto how = static_cast<std::uint8_t>(in.take(1));
    const std::uint64_t v = in.take(bytes);
    switch (how & 3) {
    case 0:
        return v;
    case 1:
        return ~0ull - v; // near 2^64
    case 2:
        return (1ull << (how >> 2 & 63)) + (v & 0xffff) - 0x8000; // near a power of two
    default:
        return v & 0xffffff;
    }
}

struct range {
    std::uint64_t begin, end;
};

bool overlap(range a, range b) {
    return a.begin < b.end && b.begin < a.end;
}

// [gpa, gpa + len), required not to wrap.
range span(std::uint64_t gpa, std::uint64_t len) {
    require(gpa + len >= gpa);
    return {gpa, gpa + len};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in{data, size};
    const auto flags = static_cast<std::uint8_t>(in.take(1));
    const auto sects = static_cast<std::uint32_t>(in.take(1) & 0x3f);
    const auto body =
        static_cast<std::uint32_t>(in.take(2) + (flags & 0x80 ? (in.take(1) & 0x0f) << 16 : 0));
    const std::uint32_t setup = ((sects ? sects : lb::default_setup_sects) + 1) * lb::sector_bytes;
    std::string kernel(setup + body, '\0');
    // The image's length is mostly what its header says, sometimes cut short.
    if (flags & 0x40)
        kernel.resize(in.take(2) % (kernel.size() + 1));
    if (kernel.size() >= lb::hdr::init_size.end()) {
        put(kernel, lb::hdr::setup_sects, sects);
        put(kernel, lb::hdr::boot_flag, flags & 1 ? in.take(2) : lb::boot_flag_value);
        put(kernel, lb::hdr::jump, 0xeb | (in.take(1) << 8)); // header length past 0x202
        put(kernel, lb::hdr::header, flags & 2 ? in.take(4) : lb::header_magic);
        put(kernel, lb::hdr::version, flags & 4 ? in.take(2) : 0x020f);
        put(kernel, lb::hdr::loadflags, flags & 8 ? in.take(1) : lb::loaded_high);
        put(kernel, lb::hdr::xloadflags, flags & 0x10 ? in.take(2) : lb::xlf_kernel_64);
        put(kernel, lb::hdr::initrd_addr_max, edgy(in, 4));
        put(kernel, lb::hdr::cmdline_size, edgy(in, 4));
        put(kernel, lb::hdr::pref_address, edgy(in, 8));
        put(kernel, lb::hdr::init_size, edgy(in, 4));
    }
    const std::string initrd(in.take(3) % (1u << 16), 'i');
    const std::uint64_t mem = edgy(in, 8);
    const std::uint64_t host = flags & 0x20 ? edgy(in, 8) : ES_LINUX64_HOST_BYTES;
    const std::size_t cmdline_len = in.take(2);
    const std::size_t rest = size - in.at;
    const std::string cmdline(reinterpret_cast<const char*>(data + in.at),
                              cmdline_len < rest ? cmdline_len : rest);

    std::string error;
    const auto h = es::cli::parse_bzimage(kernel, error);
    require(h || !error.empty());
    const auto p = es::cli::plan_linux_boot(kernel, initrd, cmdline, mem, host, error);
    if (!p) {
        require(!error.empty());
        return 0;
    }
    require(h.has_value());
    require(mem > host);
    const std::uint64_t usable_end = mem - host;

    // The e820 map: sorted, no overlaps, inside RAM; the RAM ranges below the host's area.
    const std::string& zp = p->zero_page;
    require(zp.size() == lb::zp::bytes);
    const std::uint64_t n = get(zp, lb::zp::e820_entries);
    require(n >= 1 && n <= lb::zp::e820_max_entries);
    std::vector<range> ram;
    std::uint64_t last_end = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint32_t at =
            lb::zp::e820_table + static_cast<std::uint32_t>(i) * lb::e820::entry_bytes;
        const std::uint64_t addr = get(zp, at + lb::e820::addr.offset, lb::e820::addr.bytes);
        const std::uint64_t len = get(zp, at + lb::e820::size.offset, lb::e820::size.bytes);
        const std::uint64_t type = get(zp, at + lb::e820::type.offset, lb::e820::type.bytes);
        const range r = span(addr, len);
        require(r.begin >= last_end && r.end <= mem);
        last_end = r.end;
        if (type == lb::e820::ram) {
            require(r.end <= usable_end);
            ram.push_back(r);
        }
    }
    auto in_ram = [&](range r) {
        for (const range& m : ram)
            if (r.begin >= m.begin && r.end <= m.end)
                return true;
        return false;
    };

    // Every segment, and the window, in one RAM range; no two overlap (but the window over the
    // kernel body).
    const auto segs = es::cli::boot_segments(*p, kernel, initrd);
    require(segs.size() == (initrd.empty() ? 3u : 4u));
    std::vector<range> placed;
    for (const auto& s : segs) {
        const range r = span(s.gpa, s.len);
        require(s.len == 0 || in_ram(r));
        for (const range& o : placed)
            require(!overlap(r, o));
        placed.push_back(r);
    }
    const range window = span(h->pref_address, h->init_size);
    require(in_ram(window));
    require(!overlap(window, placed[0]) && !overlap(window, placed[1]));
    if (!initrd.empty())
        require(!overlap(window, placed[3]));

    // The entry point is in the body; the zero page points at what was loaded.
    const range kernel_body = placed[2];
    require(p->entry >= kernel_body.begin && p->entry < kernel_body.end);
    require(get(zp, lb::hdr::cmd_line_ptr) == segs[1].gpa);
    require(p->cmdline.size() == cmdline.size() + 1 && p->cmdline.back() == '\0');
    require(cmdline.size() <= h->cmdline_size);
    if (!initrd.empty()) {
        require(p->initrd_gpa == segs[3].gpa);
        require(segs[3].gpa + segs[3].len - 1 <= h->initrd_addr_max);
        require((get(zp, lb::hdr::ramdisk_image) | get(zp, lb::zp::ext_ramdisk_image) << 32) ==
                p->initrd_gpa);
        require((get(zp, lb::hdr::ramdisk_size) | get(zp, lb::zp::ext_ramdisk_size) << 32) ==
                initrd.size());
    }
    return 0;
}
