// Loading a bzImage by Linux's 64-bit boot protocol: check the setup header, lay out guest RAM
// (zero page, command line, kernel at 1 MiB, initrd high) and build the zero page with its e820
// map. Pure: unit-tested on the host; the run flow (run_flow.cpp) loads the result into the VM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace es::cli {

// Where the loader puts what below 1 MiB. The zero page and the command line only need to be
// in RAM the kernel can read before it copies them (copy_bootdata, its first C code).
inline constexpr std::uint64_t zero_page_gpa = 0x7000;
inline constexpr std::uint64_t cmdline_gpa = 0x20000;
inline constexpr std::uint64_t low_ram_end = 0xa0000; // conventional memory ends at 640 KiB

// What the setup header says, already checked.
struct bzimage_header {
    std::uint16_t version;
    std::uint32_t setup_bytes;     // boot sector + setup sectors: skipped when loading
    std::uint32_t header_end;      // one past the header's last byte
    std::uint32_t cmdline_size;    // longest command line, without its NUL
    std::uint32_t initrd_addr_max; // highest byte an initrd may occupy
    std::uint64_t pref_address;
    std::uint32_t init_size; // the kernel needs [pref_address, + init_size) free
};

// The header of `image`, or nullopt with `error` saying what is wrong and what to do.
std::optional<bzimage_header> parse_bzimage(const std::string& image, std::string& error);

// A piece of guest RAM to fill.
struct load_segment {
    std::uint64_t gpa;
    const char* data;
    std::uint64_t len;
};

struct linux_boot_plan {
    std::string zero_page;
    std::string cmdline;           // with its NUL
    std::uint64_t entry = 0;       // the 64-bit entry point, startup_64
    std::uint64_t boot_params = 0; // the zero page's GPA
    std::uint32_t setup_bytes = 0; // the part of the image that is not loaded
    std::uint64_t initrd_gpa = 0;  // 0 without an initrd
    std::string mp_table;          // with several vCPUs: at mp_table::default_gpa; else empty
    std::string acpi_tables;       // with several vCPUs: at acpi_tables::default_gpa; else empty
};

// Plans the boot of `kernel` with `initrd` (may be empty) and `cmdline` in `mem_bytes` of RAM
// whose top `host_bytes` belong to the hypervisor.
std::optional<linux_boot_plan> plan_linux_boot(const std::string& kernel, const std::string& initrd,
                                               const std::string& cmdline, std::uint64_t mem_bytes,
                                               std::uint64_t host_bytes, std::string& error);

// With `vcpus` > 1, puts the tables that list them in `plan`, both in the e820 map's hole below
// 1 MiB (so the kernel never takes them as RAM): the ACPI RSDP, XSDT and MADT
// (board/acpi_tables.hpp) at acpi_tables::default_gpa, which kernels booted with `acpi=ht` read
// (Debian's cloud kernels have no MP-table parser), and the MP floating pointer and
// configuration table (board/mp_table.hpp) at mp_table::default_gpa, for kernels booted with
// `acpi=off` that have one; `cpu_signature` and `cpu_features` are
// CPUID.1 EAX and EDX as the guest sees them. With one vCPU nothing changes. "" on success,
// else what is wrong.
std::string add_mp_table(linux_boot_plan& plan, std::uint32_t vcpus, std::uint32_t cpu_signature,
                         std::uint32_t cpu_features);

// What to copy where: zero page, command line, kernel, initrd (if any), MP table (if any). The
// segments point into `plan`, `kernel` and `initrd`, which must outlive them.
std::vector<load_segment> boot_segments(const linux_boot_plan& plan, const std::string& kernel,
                                        const std::string& initrd);

} // namespace es::cli
