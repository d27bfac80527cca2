// The bzImage loader: header checks with their messages, the layout, the zero page.
#include <catch2/catch.hpp>

#include "board/acpi_tables.hpp"
#include "cli/linux_loader.hpp"
#include "linux_boot/boot_params.hpp"
#include "tests/unit/boot_fields.hpp"
#include "tests/unit/mp_table_linux_rules.hpp"

#include <cstring>

using namespace es::cli;
using es::test::get;
using es::test::put;
namespace lb = linux_boot;

namespace {

constexpr std::uint64_t mib = 1ull << 20;
constexpr std::uint64_t host = 16 * 1024;

// A minimal bzImage: 2 setup sectors + boot sector, protocol 2.15, 64-bit, a 4 KiB body.
std::string fake_bzimage(std::uint32_t setup_sects = 2, std::uint32_t body = 4096) {
    std::string s((setup_sects + 1) * 512 + body, '\0');
    put(s, lb::hdr::setup_sects, setup_sects);
    put(s, lb::hdr::boot_flag, lb::boot_flag_value);
    put(s, lb::hdr::jump, 0x6aeb); // jmp over a header ending at 0x26c
    put(s, lb::hdr::header, lb::header_magic);
    put(s, lb::hdr::version, 0x020f);
    put(s, lb::hdr::loadflags, lb::loaded_high);
    put(s, lb::hdr::initrd_addr_max, 0x7fffffff);
    put(s, lb::hdr::kernel_alignment, 0x200000);
    put(s, lb::hdr::xloadflags, lb::xlf_kernel_64);
    put(s, lb::hdr::cmdline_size, 2047);
    put(s, lb::hdr::pref_address, 0x1000000);
    put(s, lb::hdr::init_size, 0x2000000);
    for (std::uint32_t i = 0; i < body; ++i)
        s[(setup_sects + 1) * 512 + i] = static_cast<char>(i * 7 + 1);
    return s;
}

} // namespace

TEST_CASE("bzImage header: accepted, and each refusal says what is wrong") {
    std::string error;
    const auto h = parse_bzimage(fake_bzimage(), error);
    REQUIRE(h);
    CHECK(h->setup_bytes == 3 * 512);
    CHECK(h->header_end == 0x26c);
    CHECK(h->cmdline_size == 2047);
    CHECK(h->init_size == 0x2000000);

    auto zero_sects = fake_bzimage(4);
    put(zero_sects, lb::hdr::setup_sects, 0); // "0 means 4"
    REQUIRE(parse_bzimage(zero_sects, error));
    CHECK(parse_bzimage(zero_sects, error)->setup_bytes == 5 * 512);

    CHECK_FALSE(parse_bzimage("tiny", error));
    CHECK_THAT(error, Catch::Contains("not a bzImage"));
    auto no_magic = fake_bzimage();
    put(no_magic, lb::hdr::header, 0);
    CHECK_FALSE(parse_bzimage(no_magic, error));
    CHECK_THAT(error, Catch::Contains("HdrS"));
    auto old = fake_bzimage();
    put(old, lb::hdr::version, 0x020b);
    CHECK_FALSE(parse_bzimage(old, error));
    CHECK_THAT(error, Catch::Contains("2.11 is older than 2.12"));
    auto bits32 = fake_bzimage();
    put(bits32, lb::hdr::xloadflags, 0);
    CHECK_FALSE(parse_bzimage(bits32, error));
    CHECK_THAT(error, Catch::Contains("XLF_KERNEL_64"));
    auto zimage = fake_bzimage();
    put(zimage, lb::hdr::loadflags, 0);
    CHECK_FALSE(parse_bzimage(zimage, error));
    CHECK_THAT(error, Catch::Contains("zImage"));
    auto truncated = fake_bzimage(60, 0); // setup sectors past the end of the file
    truncated.resize(2048);
    CHECK_FALSE(parse_bzimage(truncated, error));
    CHECK_THAT(error, Catch::Contains("setup sectors"));
}

TEST_CASE("boot plan: zero page, e820, command line, kernel at 1 MiB, initrd high") {
    const std::string kernel = fake_bzimage();
    const std::string initrd(100000, 'i');
    std::string error;
    const auto p = plan_linux_boot(kernel, initrd, "console=ttyS0", 128 * mib, host, error);
    REQUIRE(p);
    CHECK(p->entry == 0x100200);
    CHECK(p->boot_params == 0x7000); // README: the zero page at 0x7000
    const std::string& zp = p->zero_page;
    REQUIRE(zp.size() == 4096);
    // The header is the image's, with the loader's fields filled in.
    CHECK(get(zp, lb::hdr::header) == lb::header_magic);
    CHECK(get(zp, lb::hdr::version) == 0x020f);
    CHECK(get(zp, lb::hdr::init_size) == 0x2000000);
    CHECK(get(zp, lb::hdr::type_of_loader) == 0xff);
    CHECK(get(zp, lb::hdr::cmd_line_ptr) == 0x20000); // README: the command line at 0x20000
    CHECK(get(zp, lb::hdr::ramdisk_size) == initrd.size());
    CHECK(get(zp, lb::hdr::ramdisk_image) == p->initrd_gpa);
    CHECK(get(zp, lb::zp::ext_ramdisk_image) == 0);
    CHECK(get(zp, lb::zp::sentinel) == 0);
    CHECK(p->initrd_gpa % 4096 == 0);
    CHECK(p->initrd_gpa + initrd.size() <= 128 * mib - host);
    CHECK(p->initrd_gpa + initrd.size() > 128 * mib - host - 4096); // as high as it goes
    CHECK(p->initrd_gpa >= 0x1000000 + 0x2000000);                  // clear of init_size
    // e820: low RAM, RAM from 1 MiB to the host area, the host area reserved.
    REQUIRE(get(zp, lb::zp::e820_entries) == 3);
    auto entry = [&](std::uint32_t i, std::uint32_t f, std::uint32_t w) {
        return get(zp, lb::zp::e820_table + i * lb::e820::entry_bytes + f, w);
    };
    CHECK(entry(0, 0, 8) == 0);
    CHECK(entry(0, 8, 8) == 0xa0000);
    CHECK(entry(0, 16, 4) == lb::e820::ram);
    CHECK(entry(1, 0, 8) == 0x100000);
    CHECK(entry(1, 0, 8) + entry(1, 8, 8) == 128 * mib - host);
    CHECK(entry(1, 16, 4) == lb::e820::ram);
    CHECK(entry(2, 0, 8) == 128 * mib - host);
    CHECK(entry(2, 8, 8) == host);
    CHECK(entry(2, 16, 4) == lb::e820::reserved);

    const auto segs = boot_segments(*p, kernel, initrd);
    REQUIRE(segs.size() == 4);
    CHECK(segs[0].gpa == 0x7000);
    CHECK(segs[1].gpa == 0x20000);
    CHECK(std::string(segs[1].data, segs[1].len) == std::string("console=ttyS0\0", 14));
    CHECK(segs[2].gpa == 0x100000);
    CHECK(segs[2].data == kernel.data() + 3 * 512);
    CHECK(segs[2].len == 4096);
    CHECK(segs[3].gpa == p->initrd_gpa);
    const auto bare = plan_linux_boot(kernel, "", "", 128 * mib, host, error);
    REQUIRE(bare);
    CHECK(bare->initrd_gpa == 0);
    CHECK(get(bare->zero_page, lb::hdr::ramdisk_image) == 0);
    CHECK(get(bare->zero_page, lb::hdr::ramdisk_size) == 0);
    CHECK(boot_segments(*bare, kernel, "").size() == 3);
}

TEST_CASE("boot plan refusals: command line, RAM for the kernel, initrd") {
    const std::string kernel = fake_bzimage();
    std::string error;
    CHECK(plan_linux_boot(kernel, "", std::string(2047, 'x'), 128 * mib, host, error));
    CHECK_FALSE(plan_linux_boot(kernel, "", std::string(2048, 'x'), 128 * mib, host, error));
    CHECK_THAT(error, Catch::Contains("cmdline_size 2047"));
    // init_size from 16 MiB: 48 MiB plus the host area.
    CHECK_FALSE(plan_linux_boot(kernel, "", "", 48 * mib, host, error));
    CHECK_THAT(error, Catch::Contains("raise --mem"));
    CHECK(plan_linux_boot(kernel, "", "", 49 * mib, host, error));
    CHECK_FALSE(plan_linux_boot(kernel, std::string(2 * mib, 'i'), "", 49 * mib, host, error));
    CHECK_THAT(error, Catch::Contains("initrd"));
    CHECK_FALSE(plan_linux_boot(kernel, "", "", mib, host, error));
    CHECK_FALSE(plan_linux_boot("not a kernel", "", "", 128 * mib, host, error));
    CHECK_THAT(error, Catch::Contains("not a bzImage"));
}

TEST_CASE("the boot protocol's field offsets and widths, as Linux's boot.rst lists them") {
    // The fake image above is written and read through these fields: were one misplaced, the
    // loader and this test would agree with each other and disagree with a real kernel.
    struct row {
        lb::field f;
        std::uint32_t offset, bytes;
    };
    const row rows[] = {
        {lb::hdr::setup_sects, 0x1f1, 1},
        {lb::hdr::boot_flag, 0x1fe, 2},
        {lb::hdr::jump, 0x200, 2},
        {lb::hdr::header, 0x202, 4},
        {lb::hdr::version, 0x206, 2},
        {lb::hdr::type_of_loader, 0x210, 1},
        {lb::hdr::loadflags, 0x211, 1},
        {lb::hdr::ramdisk_image, 0x218, 4},
        {lb::hdr::ramdisk_size, 0x21c, 4},
        {lb::hdr::cmd_line_ptr, 0x228, 4},
        {lb::hdr::initrd_addr_max, 0x22c, 4},
        {lb::hdr::kernel_alignment, 0x230, 4},
        {lb::hdr::relocatable_kernel, 0x234, 1},
        {lb::hdr::xloadflags, 0x236, 2},
        {lb::hdr::cmdline_size, 0x238, 4},
        {lb::hdr::pref_address, 0x258, 8},
        {lb::hdr::init_size, 0x260, 4},
        // zero-page.rst
        {lb::zp::ext_ramdisk_image, 0x0c0, 4},
        {lb::zp::ext_ramdisk_size, 0x0c4, 4},
        {lb::zp::ext_cmd_line_ptr, 0x0c8, 4},
        {lb::zp::e820_entries, 0x1e8, 1},
        {lb::zp::sentinel, 0x1ef, 1},
        // struct boot_e820_entry: u64 addr, u64 size, u32 type, packed
        {lb::e820::addr, 0, 8},
        {lb::e820::size, 8, 8},
        {lb::e820::type, 16, 4},
    };
    for (const auto& r : rows) {
        CAPTURE(r.offset);
        CHECK(r.f.offset == r.offset);
        CHECK(r.f.bytes == r.bytes);
    }
    CHECK(lb::zp::e820_table == 0x2d0);
    CHECK(lb::e820::entry_bytes == 20);
    CHECK(lb::boot_flag_value == 0xaa55);
    CHECK(lb::header_magic == ('H' | 'd' << 8 | 'r' << 16 | 'S' << 24));
}

TEST_CASE("bzImage and boot plan: header values that would wrap or overlap are refused") {
    // Each found by tests/fuzz/fuzz_linux_loader (corpus files of the same names).
    std::string error;
    // body-shorter-than-entry: the 64-bit entry at 0x200 must be inside the kernel.
    CHECK_FALSE(parse_bzimage(fake_bzimage(2, 0x200), error));
    CHECK_THAT(error, Catch::Contains("512 bytes after the setup sectors") &&
                          Catch::Contains("64-bit entry at 0x200"));
    CHECK_FALSE(plan_linux_boot(fake_bzimage(2, 0x100), "", "", 128 * mib, host, error));
    CHECK(parse_bzimage(fake_bzimage(2, 0x201), error));
    // pref-address-wraps: pref_address + init_size past 2^64 made a small working end that
    // passed the RAM check.
    auto wraps = fake_bzimage();
    put(wraps, lb::hdr::pref_address, ~0ull - 0x1000);
    put(wraps, lb::hdr::init_size, 0x2000);
    CHECK_FALSE(plan_linux_boot(wraps, "", "", 128 * mib, host, error));
    CHECK_THAT(error, Catch::Contains("past the end of the address space") &&
                          Catch::Contains("init_size"));
    put(wraps, lb::hdr::pref_address, ~0ull - 0x2000); // ends at 2^64 - 1: no wrap, no RAM
    CHECK_FALSE(plan_linux_boot(wraps, "", "", 128 * mib, host, error));
    CHECK_THAT(error, Catch::Contains("raise --mem"));
    // pref-address-below-1-mib: the window would cover the zero page and the command line.
    auto low = fake_bzimage();
    put(low, lb::hdr::pref_address, 0x1000);
    put(low, lb::hdr::init_size, 0x10000);
    CHECK_FALSE(plan_linux_boot(low, "", "", 128 * mib, host, error));
    CHECK_THAT(error, Catch::Contains("below 0x100000"));
    put(low, lb::hdr::pref_address, 0x100000);
    CHECK(plan_linux_boot(low, "", "", 128 * mib, host, error));
    // A host area as large as RAM, or larger, is refused without wrapping.
    CHECK_FALSE(plan_linux_boot(fake_bzimage(), "", "", 128 * mib, ~0ull - 0x10000, error));
    CHECK_THAT(error, Catch::Contains("too small"));
}

TEST_CASE("boot layout with several vCPUs: the MP table at 0xF0000, outside e820's RAM") {
    const std::string kernel = fake_bzimage();
    const std::string initrd(100000, 'i');
    std::string error;
    auto p = plan_linux_boot(kernel, initrd, "acpi=off noapic", 128 * mib, host, error);
    REQUIRE(p);
    const auto one_vcpu = boot_segments(*p, kernel, initrd);

    // One vCPU: no table, the layout as it always was.
    CHECK(add_mp_table(*p, 1, 0x306c3, 0x178bfbff).empty());
    CHECK(p->mp_table.empty());
    CHECK(boot_segments(*p, kernel, initrd).size() == one_vcpu.size());
    CHECK(add_mp_table(*p, 17, 0x306c3, 0x178bfbff) == "17 vCPUs: the MP table lists 1 to 16");
    CHECK(p->mp_table.empty());

    for (const std::uint32_t n : {2u, 4u, 16u}) {
        CAPTURE(n);
        REQUIRE(add_mp_table(*p, n, 0x306c3, 0x178bfbff).empty());
        const auto segs = boot_segments(*p, kernel, initrd);
        REQUIRE(segs.size() == one_vcpu.size() + 2);
        for (std::size_t i = 0; i < one_vcpu.size(); ++i) {
            CHECK(segs[i].gpa == one_vcpu[i].gpa);
            CHECK(segs[i].len == one_vcpu[i].len);
        }
        // The ACPI tables (test_acpi_tables.cpp reads them), below the MP table, in the hole.
        const load_segment& acpi = segs.back();
        CHECK(acpi.gpa == 0xe0000);
        CHECK(acpi.len == es::acpi_tables_bytes(n));
        CHECK(std::memcmp(acpi.data, "RSD PTR ", 8) == 0);
        const load_segment& mp = segs[segs.size() - 2];
        CHECK(mp.gpa == 0xf0000);
        REQUIRE(mp.gpa + mp.len <= 0x100000);
        // Linux's own reading of the first MiB with the table in it: checksums, processors.
        std::vector<std::uint8_t> low(0x100000, 0);
        std::memcpy(low.data() + mp.gpa, mp.data, mp.len);
        const mp_rules::parsed t = mp_rules::read(low);
        CHECK(t.error.empty());
        CHECK(t.floating_gpa == 0xf0000);
        REQUIRE(t.processors.size() == n);
        for (std::uint32_t i = 0; i < n; ++i) {
            CHECK(t.processors[i].apic_id == i);
            CHECK(t.processors[i].bsp == (i == 0));
        }
        CHECK(t.io_apics == 0); // noapic: the 8259A through LINT0
    }
    // The e820 map is the same with or without the table, and no RAM entry covers it.
    const std::string& zp = p->zero_page;
    const auto entries = get(zp, lb::zp::e820_entries);
    for (std::uint32_t i = 0; i < entries; ++i) {
        const auto at = lb::zp::e820_table + i * lb::e820::entry_bytes;
        const auto addr = get(zp, at + lb::e820::addr.offset, lb::e820::addr.bytes);
        const auto size = get(zp, at + lb::e820::size.offset, lb::e820::size.bytes);
        const auto type = get(zp, at + lb::e820::type.offset, lb::e820::type.bytes);
        if (type == lb::e820::ram) {
            CHECK((addr + size <= 0xf0000 || addr >= 0xf0000 + p->mp_table.size()));
            CHECK((addr + size <= 0xe0000 || addr >= 0xe0000 + p->acpi_tables.size()));
        }
    }
}
