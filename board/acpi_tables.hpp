// The ACPI tables of a Linux guest with several vCPUs: an RSDP, an XSDT and a MADT that lists one
// local APIC per vCPU (APIC ID = vCPU index, vCPU 0 the BSP), with PCAT_COMPAT (the 8259A pair is
// there) and no I/O APIC. Debian's cloud kernels have no MP-table parser (CONFIG_X86_MPPARSE is
// off), so this is how they find their CPUs: booted with `acpi=ht` (ACPI tables parsed for the
// processors, no interpreter, no FADT needed) and `noapic`. Pure: unit-tested with Linux's own
// checks (checksums, the RSDP scan). include/acpi/acpi_tables.hpp has the spec's layout.
#pragma once

#include <cstddef>
#include <cstdint>

namespace es {

namespace acpi_tables {
inline constexpr std::uint32_t max_vcpus = 16;
// Inside the BIOS area Linux scans for the RSDP, below the MP table's 0xF0000.
inline constexpr std::uint64_t default_gpa = 0xe0000;
inline constexpr char oem_id[] = "EXITSC";
inline constexpr char oem_table_id[] = "EXITSCOP";
} // namespace acpi_tables

struct acpi_tables_result {
    int error;              // 0, or a negative errno (nothing written then)
    std::uint32_t bytes;    // bytes written from the buffer's start
    std::uint64_t xsdt_gpa; // where the XSDT starts
    std::uint64_t madt_gpa; // where the MADT starts
};

// Bytes the tables take for `vcpus` vCPUs.
std::uint32_t acpi_tables_bytes(std::uint32_t vcpus);

// Writes the RSDP at `gpa` (16-byte aligned, inside 0xE0000-0xFFFFF, the tables ending there
// too), the XSDT and MADT after it, into `buf` (which will be loaded at `gpa`). -EINVAL for a
// vCPU count outside 1..max_vcpus or a misplaced `gpa`, -ENOSPC when `buf` is too small.
acpi_tables_result acpi_tables_write(std::uint8_t* buf, std::size_t buf_bytes, std::uint64_t gpa,
                                     std::uint32_t vcpus);

} // namespace es
