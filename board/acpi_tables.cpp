// The ACPI table builder (acpi_tables.hpp); section numbers are ACPI 6.5's.
#include "acpi_tables.hpp"

#include "acpi/acpi_tables.hpp"
#include "exitscope/errno.hpp"

namespace es {

namespace {

// The XSDT and the MADT start on 16-byte boundaries after the RSDP.
constexpr std::uint32_t align16(std::uint32_t n) {
    return (n + 15) & ~15u;
}
constexpr std::uint32_t xsdt_offset = align16(acpi::rsdp::bytes);
constexpr std::uint32_t xsdt_bytes = acpi::header::bytes + acpi::xsdt::entry_bytes; // the MADT
constexpr std::uint32_t madt_offset = align16(xsdt_offset + xsdt_bytes);

std::uint32_t madt_bytes(std::uint32_t vcpus) {
    return acpi::madt::entries_offset + vcpus * acpi::madt::local_apic::bytes;
}

struct writer {
    std::uint8_t* at;
    void put(acpi::field f, std::uint64_t v) const {
        for (std::uint32_t i = 0; i < f.bytes; ++i)
            at[f.offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    void put_text(acpi::field f, const char* text) const {
        for (std::uint32_t i = 0; i < f.bytes; ++i)
            at[f.offset + i] = static_cast<std::uint8_t>(text[i]);
    }
};

// The byte that makes `n` bytes at `p` sum to 0 (mod 256), the checksum byte itself being 0.
std::uint8_t checksum(const std::uint8_t* p, std::uint32_t n) {
    std::uint8_t sum = 0;
    for (std::uint32_t i = 0; i < n; ++i)
        sum = static_cast<std::uint8_t>(sum + p[i]);
    return static_cast<std::uint8_t>(-sum);
}

// 5.2.6: a table's header; its checksum is set once the body is written (seal).
void write_header(std::uint8_t* table, const char* signature, std::uint32_t length,
                  std::uint8_t revision) {
    const writer w{table};
    w.put_text(acpi::header::signature, signature);
    w.put(acpi::header::length, length);
    w.put(acpi::header::revision, revision);
    w.put_text(acpi::header::oem_id, acpi_tables::oem_id);
    w.put_text(acpi::header::oem_table_id, acpi_tables::oem_table_id);
    w.put(acpi::header::oem_revision, 1);
    w.put_text(acpi::header::creator_id, "ESCP");
    w.put(acpi::header::creator_revision, 1);
}

void seal(std::uint8_t* table, std::uint32_t length) {
    table[acpi::header::checksum.offset] = checksum(table, length);
}

} // namespace

std::uint32_t acpi_tables_bytes(std::uint32_t vcpus) {
    return madt_offset + madt_bytes(vcpus);
}

acpi_tables_result acpi_tables_write(std::uint8_t* buf, std::size_t buf_bytes, std::uint64_t gpa,
                                     std::uint32_t vcpus) {
    if (vcpus == 0 || vcpus > acpi_tables::max_vcpus || gpa % 16 ||
        gpa < acpi::rsdp::bios_area_start ||
        gpa + acpi_tables_bytes(vcpus) > acpi::rsdp::bios_area_end)
        return {-err::inval, 0, 0, 0};
    const std::uint32_t total = acpi_tables_bytes(vcpus);
    if (buf_bytes < total)
        return {-err::no_space, 0, 0, 0};
    for (std::uint32_t i = 0; i < total; ++i)
        buf[i] = 0;
    const std::uint64_t xsdt_gpa = gpa + xsdt_offset;
    const std::uint64_t madt_gpa = gpa + madt_offset;

    // 5.2.12: the MADT, one Processor Local APIC structure per vCPU (UID = APIC ID = index).
    std::uint8_t* madt = buf + madt_offset;
    const std::uint32_t madt_len = madt_bytes(vcpus);
    write_header(madt, acpi::madt::signature_text, madt_len, acpi::madt::revision);
    const writer m{madt};
    m.put(acpi::madt::local_apic_address, acpi::madt::default_local_apic_address);
    m.put(acpi::madt::flags, acpi::madt::pcat_compat);
    for (std::uint32_t i = 0; i < vcpus; ++i) {
        namespace la = acpi::madt::local_apic;
        const writer e{madt + acpi::madt::entries_offset + std::size_t{i} * la::bytes};
        e.put(la::entry_type, la::type);
        e.put(la::length, la::bytes);
        e.put(la::processor_uid, i);
        e.put(la::apic_id, i);
        e.put(la::flags, la::enabled);
    }
    seal(madt, madt_len);

    // 5.2.8: the XSDT points at the MADT.
    std::uint8_t* xsdt = buf + xsdt_offset;
    write_header(xsdt, acpi::xsdt::signature_text, xsdt_bytes, acpi::xsdt::revision);
    writer{xsdt}.put({acpi::header::bytes, acpi::xsdt::entry_bytes}, madt_gpa);
    seal(xsdt, xsdt_bytes);

    // 5.2.5.3: the RSDP, revision 2 (an XSDT, no RSDT).
    const writer r{buf};
    r.put_text(acpi::rsdp::signature, acpi::rsdp::signature_text);
    r.put_text(acpi::rsdp::oem_id, acpi_tables::oem_id);
    r.put(acpi::rsdp::revision, acpi::rsdp::revision_2);
    r.put(acpi::rsdp::length, acpi::rsdp::bytes);
    r.put(acpi::rsdp::xsdt_address, xsdt_gpa);
    buf[acpi::rsdp::checksum.offset] = checksum(buf, acpi::rsdp::v1_bytes);
    buf[acpi::rsdp::extended_checksum.offset] = checksum(buf, acpi::rsdp::bytes);
    return {0, total, xsdt_gpa, madt_gpa};
}

} // namespace es
