// The bzImage loader (linux_loader.hpp). Facts about the protocol live in
// include/linux_boot/boot_params.hpp; this file decides the layout.
#include "linux_loader.hpp"

#include <algorithm>

#include "board/acpi_tables.hpp"
#include "board/local_apic.hpp"
#include "board/mp_table.hpp"
#include "linux_boot/boot_params.hpp"
#include "text.hpp"

namespace es::cli {

namespace lb = linux_boot;

namespace {

std::uint64_t get(const std::string& bytes, lb::field f) {
    std::uint64_t v = 0;
    for (std::uint32_t i = 0; i < f.bytes; ++i)
        v |= std::uint64_t{static_cast<std::uint8_t>(bytes[f.offset + i])} << (8 * i);
    return v;
}

void put(std::string& bytes, std::uint32_t offset, std::uint32_t width, std::uint64_t v) {
    for (std::uint32_t i = 0; i < width; ++i)
        bytes[offset + i] = static_cast<char>(v >> (8 * i));
}

void put(std::string& bytes, lb::field f, std::uint64_t v) {
    put(bytes, f.offset, f.bytes, v);
}

std::string version_text(std::uint16_t v) {
    return std::to_string(v >> 8) + "." + std::to_string(v & 0xff);
}

std::string mib_text(std::uint64_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

constexpr std::uint64_t page = 4096;

std::uint64_t align_down(std::uint64_t v, std::uint64_t a) {
    return v - v % a;
}

struct e820_range {
    std::uint64_t addr, size;
    std::uint32_t type;
};

} // namespace

std::optional<bzimage_header> parse_bzimage(const std::string& image, std::string& error) {
    const std::string not_bz = "is not a bzImage (";
    const std::string what = "; give --kernel a Linux bzImage such as /boot/vmlinuz-*";
    if (image.size() < lb::hdr::init_size.end()) {
        error = not_bz + "only " + std::to_string(image.size()) + " bytes)" + what;
        return std::nullopt;
    }
    if (get(image, lb::hdr::boot_flag) != lb::boot_flag_value ||
        get(image, lb::hdr::header) != lb::header_magic) {
        error = not_bz + "no \"HdrS\" setup header at " + hex(lb::hdr::header.offset) + ")" + what;
        return std::nullopt;
    }
    bzimage_header h{};
    h.version = static_cast<std::uint16_t>(get(image, lb::hdr::version));
    if (h.version < lb::min_version) {
        error = "boot protocol " + version_text(h.version) +
                " is older than 2.12, which says whether the kernel has a 64-bit entry "
                "(xloadflags); use a kernel from Linux 3.8 or later";
        return std::nullopt;
    }
    if (!(get(image, lb::hdr::loadflags) & lb::loaded_high)) {
        error = not_bz + "a zImage: it loads below 1 MiB)" + what;
        return std::nullopt;
    }
    if (!(get(image, lb::hdr::xloadflags) & lb::xlf_kernel_64)) {
        error = "the kernel has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64): use an "
                "x86-64 kernel";
        return std::nullopt;
    }
    std::uint32_t sects = static_cast<std::uint32_t>(get(image, lb::hdr::setup_sects));
    if (sects == 0)
        sects = lb::default_setup_sects;
    h.setup_bytes = (sects + 1) * lb::sector_bytes;
    h.header_end = lb::header_length_base + static_cast<std::uint8_t>(image[lb::jump_length_byte]);
    if (h.setup_bytes >= image.size() || h.header_end > h.setup_bytes ||
        h.header_end < lb::hdr::init_size.end()) {
        error = not_bz + "its setup header claims " + std::to_string(sects) +
                " setup sectors in a file of " + std::to_string(image.size()) + " bytes)" + what;
        return std::nullopt;
    }
    // The 64-bit entry is 0x200 bytes into the protected-mode code ("64-bit Boot Protocol").
    const std::uint64_t body = image.size() - h.setup_bytes;
    if (body <= lb::entry_64_offset) {
        error = not_bz + "its kernel is " + std::to_string(body) +
                " bytes after the setup sectors, too short to hold the 64-bit entry at " +
                hex(lb::entry_64_offset) + ")" + what;
        return std::nullopt;
    }
    h.cmdline_size = static_cast<std::uint32_t>(get(image, lb::hdr::cmdline_size));
    h.initrd_addr_max = static_cast<std::uint32_t>(get(image, lb::hdr::initrd_addr_max));
    h.pref_address = get(image, lb::hdr::pref_address);
    h.init_size = static_cast<std::uint32_t>(get(image, lb::hdr::init_size));
    return h;
}

std::optional<linux_boot_plan> plan_linux_boot(const std::string& kernel, const std::string& initrd,
                                               const std::string& cmdline, std::uint64_t mem_bytes,
                                               std::uint64_t host_bytes, std::string& error) {
    const auto h = parse_bzimage(kernel, error);
    if (!h)
        return std::nullopt;
    if (cmdline.size() > h->cmdline_size ||
        cmdline.size() + 1 > lb::kernel_load_address - low_ram_end) {
        error = "the command line (--append) is " + std::to_string(cmdline.size()) +
                " bytes, more than this kernel takes (cmdline_size " +
                std::to_string(h->cmdline_size) + "): shorten it";
        return std::nullopt;
    }
    const std::string raise = ": raise --mem";
    if (mem_bytes <= host_bytes || mem_bytes - host_bytes <= lb::kernel_load_address) {
        error = "guest RAM of " + mib_text(mem_bytes) + " is too small for a kernel" + raise;
        return std::nullopt;
    }
    const std::uint64_t usable_end = mem_bytes - host_bytes;
    const std::uint64_t body = kernel.size() - h->setup_bytes;
    const std::uint64_t kernel_end = lb::kernel_load_address + body;
    // Below 1 MiB the window would cover the zero page, the command line and the PC's hole.
    if (h->pref_address < lb::kernel_load_address) {
        error = "the kernel's setup header asks to decompress at " + hex(h->pref_address) +
                " (pref_address), below " + hex(lb::kernel_load_address) +
                " where the loader keeps the zero page and the command line: use a kernel "
                "built with a PHYSICAL_START of 1 MiB or more";
        return std::nullopt;
    }
    if (h->pref_address > ~0ull - h->init_size) {
        error = "the kernel's setup header asks for RAM from " + hex(h->pref_address) +
                " (pref_address) for " + std::to_string(h->init_size) +
                " bytes (init_size), past the end of the address space: the bzImage is corrupt";
        return std::nullopt;
    }
    // The kernel decompresses itself in [pref_address, + init_size) ("Details of Header Fields":
    // init_size), which may lie above where it was loaded.
    const std::uint64_t working_end =
        std::max(kernel_end, h->pref_address + std::uint64_t{h->init_size});
    if (working_end > usable_end) {
        error = "the kernel needs guest RAM up to " + hex(working_end) + " (" +
                mib_text(working_end + host_bytes) + "), more than the " + mib_text(mem_bytes) +
                " given" + raise;
        return std::nullopt;
    }

    linux_boot_plan p;
    p.entry = lb::kernel_load_address + lb::entry_64_offset;
    p.boot_params = zero_page_gpa;
    if (!initrd.empty()) {
        // As high as RAM and initrd_addr_max allow, page aligned, clear of the kernel.
        const std::uint64_t top = std::min(usable_end, std::uint64_t{h->initrd_addr_max} + 1);
        if (initrd.size() > top || align_down(top - initrd.size(), page) < working_end) {
            error = "the initrd (" + std::to_string(initrd.size()) + " bytes) does not fit in " +
                    mib_text(mem_bytes) + " of guest RAM beside the kernel" + raise;
            return std::nullopt;
        }
        p.initrd_gpa = align_down(top - initrd.size(), page);
    }

    p.zero_page.assign(lb::zp::bytes, '\0');
    // The header goes over unchanged ("64-bit Boot Protocol": the loader fills in the header
    // fields as it would for the 16-bit protocol), then the loader's own fields.
    p.zero_page.replace(lb::header_start, h->header_end - lb::header_start, kernel,
                        lb::header_start, h->header_end - lb::header_start);
    put(p.zero_page, lb::hdr::type_of_loader, lb::loader_undefined);
    put(p.zero_page, lb::hdr::cmd_line_ptr, cmdline_gpa);
    put(p.zero_page, lb::zp::ext_cmd_line_ptr, cmdline_gpa >> 32);
    put(p.zero_page, lb::hdr::ramdisk_image, p.initrd_gpa & 0xffffffff);
    put(p.zero_page, lb::zp::ext_ramdisk_image, p.initrd_gpa >> 32);
    put(p.zero_page, lb::hdr::ramdisk_size, initrd.size() & 0xffffffff);
    put(p.zero_page, lb::zp::ext_ramdisk_size, std::uint64_t{initrd.size()} >> 32);

    // RAM below 640 KiB and from 1 MiB to the hypervisor's pages; those reserved. The hole
    // between is where a PC has VGA memory and ROMs.
    const e820_range map[] = {
        {0, low_ram_end, lb::e820::ram},
        {lb::kernel_load_address, usable_end - lb::kernel_load_address, lb::e820::ram},
        {usable_end, host_bytes, lb::e820::reserved},
    };
    std::uint32_t n = 0;
    for (const auto& r : map) {
        const std::uint32_t at = lb::zp::e820_table + n * lb::e820::entry_bytes;
        put(p.zero_page, at + lb::e820::addr.offset, lb::e820::addr.bytes, r.addr);
        put(p.zero_page, at + lb::e820::size.offset, lb::e820::size.bytes, r.size);
        put(p.zero_page, at + lb::e820::type.offset, lb::e820::type.bytes, r.type);
        ++n;
    }
    put(p.zero_page, lb::zp::e820_entries, n);

    p.cmdline = cmdline;
    p.cmdline.push_back('\0');
    p.setup_bytes = h->setup_bytes;
    return p;
}

std::string add_mp_table(linux_boot_plan& plan, std::uint32_t vcpus, std::uint32_t cpu_signature,
                         std::uint32_t cpu_features) {
    plan.mp_table.clear();
    plan.acpi_tables.clear();
    if (vcpus <= 1)
        return "";
    const mp_config c{vcpus, false, lapic::version_id, cpu_signature, cpu_features};
    const std::uint32_t bytes = mp_table_bytes(c);
    if (bytes == 0)
        return std::to_string(vcpus) + " vCPUs: the MP table lists 1 to " +
               std::to_string(mp_table::max_vcpus);
    std::string table(bytes, '\0');
    const mp_table_result r = mp_table_write(reinterpret_cast<std::uint8_t*>(table.data()),
                                             table.size(), mp_table::default_gpa, c);
    if (r.error)
        return "building the MP table failed (error " + std::to_string(-r.error) + ")";
    table.resize(r.bytes);
    std::string acpi(acpi_tables_bytes(vcpus), '\0');
    const acpi_tables_result a = acpi_tables_write(reinterpret_cast<std::uint8_t*>(acpi.data()),
                                                   acpi.size(), acpi_tables::default_gpa, vcpus);
    if (a.error)
        return "building the ACPI tables failed (error " + std::to_string(-a.error) + ")";
    plan.mp_table = std::move(table);
    plan.acpi_tables = std::move(acpi);
    return "";
}

std::vector<load_segment> boot_segments(const linux_boot_plan& plan, const std::string& kernel,
                                        const std::string& initrd) {
    std::vector<load_segment> s{
        {plan.boot_params, plan.zero_page.data(), plan.zero_page.size()},
        {cmdline_gpa, plan.cmdline.data(), plan.cmdline.size()},
        {lb::kernel_load_address, kernel.data() + plan.setup_bytes,
         kernel.size() - plan.setup_bytes},
    };
    if (!initrd.empty())
        s.push_back({plan.initrd_gpa, initrd.data(), initrd.size()});
    if (!plan.mp_table.empty())
        s.push_back({mp_table::default_gpa, plan.mp_table.data(), plan.mp_table.size()});
    if (!plan.acpi_tables.empty())
        s.push_back({acpi_tables::default_gpa, plan.acpi_tables.data(), plan.acpi_tables.size()});
    return s;
}

} // namespace es::cli
