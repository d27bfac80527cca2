// The MP tables (Intel MultiProcessor Specification 1.4) that tell a Linux guest booted with
// `acpi=off` its vCPUs: a floating pointer, then the configuration table right after it. Written
// into a caller's buffer that holds guest memory from a guest-physical address on. Pure: used by
// the module and by the CLI's KVM backend, unit-tested on the host.
//
// What the table says (include/mpspec/mp_tables.hpp names the fields):
// - one processor entry per vCPU: APIC ID = vCPU index, enabled, vCPU 0 the bootstrap processor;
// - one ISA bus (bus 0);
// - LINT0 as ExtINT and LINT1 as NMI on every local APIC: the 8259A pair reaches vCPU 0 through
//   LINT0 (Linux enables ExtINT on CPU 0 only), as on a PC in virtual wire mode;
// - an I/O APIC only when asked for. Without one (`noapic`, the board as it is: no I/O APIC is
//   emulated) Linux logs "BIOS bug, no explicit IRQ entries, using default mptable" at boot and
//   goes on with the 8259A; with one, its ISA routing: IRQ n to INTIN n, IRQ0 to INTIN2, the
//   8259A's ExtINT to INTIN0 (what Linux builds itself for a table without routing).
#pragma once

#include <cstddef>
#include <cstdint>

namespace es {

namespace mp_table {
// The most vCPUs a table lists: a bound of the platform, not of the format (whose APIC IDs are
// 8 bits). 16 covers the "at least 8" twice over while a VM's per-vCPU state stays small.
inline constexpr std::uint32_t max_vcpus = 16;
// Where the floating pointer goes by default: the start of the BIOS ROM area, which Linux scans
// (smp_scan_config) and which is not RAM in the guest's e820 map, so nothing overwrites it.
inline constexpr std::uint64_t default_gpa = 0xf0000;
// The I/O APIC, when listed: the 82093AA's default address and version.
inline constexpr std::uint32_t io_apic_address = 0xfec00000;
inline constexpr std::uint8_t io_apic_version = 0x11;
// Identification strings, space padded to their fields' widths.
inline constexpr char oem_id[] = "EXITSCOP";
inline constexpr char product_id[] = "LINUX GUEST ";
} // namespace mp_table

struct mp_config {
    std::uint32_t vcpus;             // 1 .. mp_table::max_vcpus
    bool io_apic;                    // list an I/O APIC (ID = vcpus) and the ISA routing to it
    std::uint8_t local_apic_version; // what each local APIC's version register reports
    std::uint32_t cpu_signature;     // CPUID.1:EAX (family, model, stepping)
    std::uint32_t cpu_features;      // CPUID.1:EDX
};

struct mp_table_result {
    int error;                // 0, or a negative errno
    std::uint32_t bytes;      // bytes written from the buffer's start (floating pointer + table)
    std::uint64_t config_gpa; // where the configuration table starts
};

// Bytes the floating pointer and the table take for `c`; 0 when `c` is invalid.
std::uint32_t mp_table_bytes(const mp_config& c);

// Write both at `gpa` (buffer byte 0 is guest-physical `gpa`). Errors, nothing written:
// -EINVAL: vcpus is 0 or above mp_table::max_vcpus; `gpa` is not 16-byte aligned, or not where
//          Linux looks for the floating pointer (the first KiB of memory, the last KiB below
//          640 KiB, the BIOS ROM 0xF0000-0xFFFFF);
// -ENOSPC: `buf_bytes` is below mp_table_bytes(c).
mp_table_result mp_table_write(std::uint8_t* buf, std::size_t buf_bytes, std::uint64_t gpa,
                               const mp_config& c);

} // namespace es
