// The ACPI tables of a several-vCPU Linux guest, read back the way Linux finds them: the RSDP by
// its scan of the BIOS area (signature on a 16-byte boundary, both checksums), the XSDT through
// the RSDP, the MADT through the XSDT, each table's checksum over its length.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "board/acpi_tables.hpp"
#include "exitscope/errno.hpp"

using namespace es;

namespace {

constexpr std::uint64_t base = acpi_tables::default_gpa;

std::uint64_t le(const std::uint8_t* p, unsigned n) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i)
        v |= std::uint64_t{p[i]} << (8 * i);
    return v;
}

bool sums_to_zero(const std::uint8_t* p, std::uint64_t n) {
    std::uint8_t s = 0;
    for (std::uint64_t i = 0; i < n; ++i)
        s = static_cast<std::uint8_t>(s + p[i]);
    return s == 0;
}

// The BIOS area 0xE0000-0xFFFFF with the tables at `base`, as the guest's memory holds it.
struct bios_area {
    std::vector<std::uint8_t> mem = std::vector<std::uint8_t>(0x20000, 0);
    acpi_tables_result r{};
    explicit bios_area(std::uint32_t vcpus) {
        r = acpi_tables_write(mem.data() + (base - 0xe0000), mem.size(), base, vcpus);
    }
    const std::uint8_t* at(std::uint64_t gpa) const { return mem.data() + (gpa - 0xe0000); }
    // Linux's acpi_find_root_pointer over the BIOS area: the first 16-byte-aligned signature
    // whose 20-byte checksum holds (and, revision 2, the extended one over 36 bytes).
    std::uint64_t find_rsdp() const {
        for (std::uint64_t gpa = 0xe0000; gpa < 0x100000; gpa += 16) {
            const std::uint8_t* p = at(gpa);
            if (std::memcmp(p, "RSD PTR ", 8) == 0 && sums_to_zero(p, 20) &&
                (p[15] < 2 || sums_to_zero(p, 36)))
                return gpa;
        }
        return 0;
    }
};

} // namespace

TEST_CASE("ACPI: the RSDP is found by Linux's scan, and leads to the MADT through the XSDT") {
    for (std::uint32_t vcpus : {1u, 2u, 4u, 8u, 16u}) {
        CAPTURE(vcpus);
        const bios_area b(vcpus);
        REQUIRE(b.r.error == 0);
        CHECK(b.r.bytes == acpi_tables_bytes(vcpus));
        const std::uint64_t rsdp = b.find_rsdp();
        REQUIRE(rsdp == base);
        const std::uint8_t* r = b.at(rsdp);
        CHECK(r[15] == 2);
        CHECK(le(r + 20, 4) == 36);
        CHECK(le(r + 16, 4) == 0); // no RSDT: the XSDT is the root
        const std::uint64_t xsdt_gpa = le(r + 24, 8);
        CHECK(xsdt_gpa == b.r.xsdt_gpa);
        const std::uint8_t* x = b.at(xsdt_gpa);
        REQUIRE(std::memcmp(x, "XSDT", 4) == 0);
        const std::uint64_t xsdt_len = le(x + 4, 4);
        CHECK(xsdt_len == 36 + 8);
        CHECK(sums_to_zero(x, xsdt_len));
        const std::uint64_t madt_gpa = le(x + 36, 8);
        CHECK(madt_gpa == b.r.madt_gpa);
        const std::uint8_t* m = b.at(madt_gpa);
        REQUIRE(std::memcmp(m, "APIC", 4) == 0);
        const std::uint64_t madt_len = le(m + 4, 4);
        CHECK(madt_len == 44 + 8 * vcpus);
        CHECK(sums_to_zero(m, madt_len));
        CHECK(le(m + 36, 4) == 0xfee00000);
        CHECK(le(m + 40, 4) == 1); // PCAT_COMPAT: the 8259A pair is there
        // One enabled Processor Local APIC per vCPU, APIC ID and UID its index, nothing else.
        for (std::uint32_t i = 0; i < vcpus; ++i) {
            const std::uint8_t* e = m + 44 + 8 * i;
            CHECK(e[0] == 0);
            CHECK(e[1] == 8);
            CHECK(e[2] == i);
            CHECK(e[3] == i);
            CHECK(le(e + 4, 4) == 1);
        }
        CHECK(madt_gpa + madt_len == base + b.r.bytes);
    }
}

TEST_CASE("ACPI: bad requests write nothing") {
    std::vector<std::uint8_t> buf(4096, 0xaa);
    CHECK(acpi_tables_write(buf.data(), buf.size(), base, 0).error == -err::inval);
    CHECK(acpi_tables_write(buf.data(), buf.size(), base, 17).error == -err::inval);
    CHECK(acpi_tables_write(buf.data(), buf.size(), base + 8, 2).error == -err::inval);
    CHECK(acpi_tables_write(buf.data(), buf.size(), 0xd0000, 2).error == -err::inval);
    CHECK(acpi_tables_write(buf.data(), buf.size(), 0xfff00, 16).error == -err::inval);
    CHECK(acpi_tables_write(buf.data(), 64, base, 2).error == -err::no_space);
    for (std::uint8_t byte : buf)
        REQUIRE(byte == 0xaa);
}
