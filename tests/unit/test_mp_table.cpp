// The MP table builder (board/mp_table.hpp): the tables it writes pass Linux's own parser rules
// (mp_table_linux_rules.hpp), list the vCPUs as the vCPUs' APIC IDs, and every bad request is a
// clear errno with nothing written.
#include <catch2/catch.hpp>

#include <vector>

#include "board/mp_table.hpp"
#include "exitscope/errno.hpp"
#include "mp_table_linux_rules.hpp"
#include "mpspec/mp_tables.hpp"

using namespace es;

namespace {
constexpr std::uint8_t apic_version = 0x14;

mp_config config(std::uint32_t vcpus, bool io_apic = false) {
    return {vcpus, io_apic, apic_version, 0x000306c3, 0x178bfbff};
}

// Guest memory below 1 MiB, with the tables written at `gpa`.
std::vector<std::uint8_t> low_memory_with(const mp_config& c, std::uint64_t gpa,
                                          mp_table_result* result = nullptr) {
    std::vector<std::uint8_t> mem(0x100000, 0);
    const mp_table_result r = mp_table_write(mem.data() + gpa, mem.size() - gpa, gpa, c);
    REQUIRE(r.error == 0);
    if (result)
        *result = r;
    return mem;
}
} // namespace

TEST_CASE("MP table: 1 to 16 vCPUs, as Linux's mpparse reads them") {
    for (std::uint32_t n : {1u, 2u, 4u, 8u, 16u}) {
        CAPTURE(n);
        mp_table_result r{};
        const auto mem = low_memory_with(config(n), mp_table::default_gpa, &r);
        CHECK(r.bytes == mp_table_bytes(config(n)));
        CHECK(r.bytes == 16 + 44 + 20 * n + 8 + 2 * 8);
        CHECK(r.config_gpa == mp_table::default_gpa + 16);
        // Both checksums: the floating pointer's 16 bytes and the base table sum to 0.
        CHECK(mp_rules::sum8(mem.data() + mp_table::default_gpa, 16) == 0);
        CHECK(mp_rules::sum8(mem.data() + r.config_gpa, r.bytes - 16) == 0);
        CHECK(mem[mp_table::default_gpa + 9] == mpspec::spec_rev_1_4);
        CHECK(mem[r.config_gpa + 6] == mpspec::spec_rev_1_4);
        // Nothing written past the tables.
        CHECK(mem[mp_table::default_gpa + r.bytes] == 0);

        const mp_rules::parsed p = mp_rules::read(mem);
        REQUIRE(p.error.empty());
        CHECK(p.floating_gpa == mp_table::default_gpa);
        CHECK(p.lapic_address == 0xfee00000);
        CHECK(p.oem == "EXITSCOP");
        CHECK(p.product == "LINUX GUEST ");
        REQUIRE(p.processors.size() == n);
        CHECK(p.disabled_processors == 0);
        for (std::uint32_t i = 0; i < n; ++i) {
            CHECK(p.processors[i].apic_id == i); // APIC ID = vCPU index
            CHECK(p.processors[i].bsp == (i == 0));
            CHECK(p.processors[i].apic_version == apic_version);
        }
        REQUIRE(p.buses.size() == 1);
        CHECK(p.buses[0] == "ISA   ");
        CHECK(p.io_apics == 0);
        CHECK(p.io_interrupts == 0);
        // LINT0 ExtINT and LINT1 NMI, to every local APIC.
        REQUIRE(p.local_interrupts.size() == 2);
        CHECK(p.local_interrupts[0].type == 3);
        CHECK(p.local_interrupts[0].lint == 0);
        CHECK(p.local_interrupts[0].destination_apic == 0xff);
        CHECK(p.local_interrupts[1].type == 1);
        CHECK(p.local_interrupts[1].lint == 1);
        CHECK(p.local_interrupts[1].destination_apic == 0xff);
    }
}

TEST_CASE("MP table: the processor entries carry the CPU signature and feature flags") {
    mp_table_result r{};
    const auto mem = low_memory_with(config(2), mp_table::default_gpa, &r);
    const std::uint8_t* cpu1 = mem.data() + r.config_gpa + 44 + 20;
    CHECK(cpu1[0] == 0);
    CHECK(cpu1[3] == mpspec::processor::flag_enabled); // enabled, not the BSP
    CHECK(mp_rules::le(cpu1 + 4, 4) == 0x000306c3);
    CHECK(mp_rules::le(cpu1 + 8, 4) == 0x178bfbff);
}

TEST_CASE("MP table: with an I/O APIC, the ISA routing Linux would otherwise make up") {
    mp_table_result r{};
    const auto mem = low_memory_with(config(4, true), mp_table::default_gpa, &r);
    CHECK(r.bytes == 16 + 44 + 4 * 20 + 8 + 8 + 16 * 8 + 2 * 8);
    const mp_rules::parsed p = mp_rules::read(mem);
    REQUIRE(p.error.empty());
    CHECK(p.io_apics == 1);
    CHECK(p.io_interrupts == 16); // ExtINT on INTIN0, ISA IRQs 0-15 but 2
    const std::uint8_t* io_apic = mem.data() + r.config_gpa + 44 + 4 * 20 + 8;
    CHECK(io_apic[0] == 2);
    CHECK(io_apic[1] == 4); // the ID after the local APICs'
    CHECK(mp_rules::le(io_apic + 4, 4) == mp_table::io_apic_address);
    const std::uint8_t* extint = io_apic + 8;
    CHECK((extint[0] == 3 && extint[1] == 3 && extint[7] == 0));
    const std::uint8_t* irq0 = extint + 8;
    CHECK((irq0[0] == 3 && irq0[1] == 0 && irq0[5] == 0 && irq0[6] == 4 && irq0[7] == 2));
    const std::uint8_t* irq1 = irq0 + 8;
    CHECK((irq1[5] == 1 && irq1[7] == 1));
    const std::uint8_t* irq3 = irq1 + 8; // IRQ2, the cascade, is never connected
    CHECK((irq3[5] == 3 && irq3[7] == 3));
}

TEST_CASE("MP table: the other places Linux scans take it too") {
    for (std::uint64_t gpa : {0x9fc00ull, 0x9fd00ull, 0xffd00ull}) {
        CAPTURE(gpa);
        const auto mem = low_memory_with(config(16), gpa);
        const mp_rules::parsed p = mp_rules::read(mem);
        REQUIRE(p.error.empty());
        CHECK(p.floating_gpa == gpa);
        CHECK(p.processors.size() == 16);
    }
}

TEST_CASE("MP table: bad requests are errors and write nothing") {
    std::vector<std::uint8_t> buf(4096, 0xaa);
    const auto untouched = [&] {
        for (std::uint8_t b : buf)
            if (b != 0xaa)
                return false;
        return true;
    };
    auto write = [&](const mp_config& c, std::uint64_t gpa, std::size_t bytes) {
        return mp_table_write(buf.data(), bytes, gpa, c);
    };
    CHECK(write(config(0), mp_table::default_gpa, buf.size()).error == -err::inval);
    CHECK(write(config(mp_table::max_vcpus + 1), mp_table::default_gpa, buf.size()).error ==
          -err::inval);
    CHECK(mp_table_bytes(config(0)) == 0);
    CHECK(mp_table_bytes(config(mp_table::max_vcpus + 1)) == 0);
    CHECK(write(config(2), mp_table::default_gpa + 8, buf.size()).error == -err::inval);
    CHECK(write(config(2), 0x100000, buf.size()).error == -err::inval); // Linux does not look
    CHECK(write(config(2), 0x8000, buf.size()).error == -err::inval);
    CHECK(write(config(16), 0xfff00, buf.size()).error == -err::inval); // would run past 1 MiB
    const std::uint32_t need = mp_table_bytes(config(2));
    const mp_table_result small = write(config(2), mp_table::default_gpa, need - 1);
    CHECK(small.error == -err::no_space);
    CHECK(small.bytes == 0);
    CHECK(mp_table_write(nullptr, 0, mp_table::default_gpa, config(2)).error == -err::no_space);
    CHECK(untouched());
    const mp_table_result exact = write(config(2), mp_table::default_gpa, need);
    CHECK(exact.error == 0);
    CHECK(exact.bytes == need);
    CHECK(buf[need] == 0xaa);
}

TEST_CASE("MP table: the Linux-rules reader rejects what Linux rejects") {
    mp_table_result r{};
    auto mem = low_memory_with(config(2), mp_table::default_gpa, &r);
    SECTION("a floating pointer with a bad checksum is not found") {
        mem[mp_table::default_gpa + 15] ^= 1;
        CHECK(mp_rules::read(mem).error == "no MP floating pointer found");
    }
    SECTION("a configuration table with a bad checksum") {
        mem[r.config_gpa + 44 + 1] ^= 1;
        CHECK(mp_rules::read(mem).error == "MPTABLE: checksum error!");
    }
    SECTION("a configuration table with another revision") {
        mem[r.config_gpa + 6] = 2;
        mem[r.config_gpa + 7] = static_cast<std::uint8_t>(mem[r.config_gpa + 7] + 2);
        CHECK(mp_rules::read(mem).error == "MPTABLE: bad table version");
    }
}
