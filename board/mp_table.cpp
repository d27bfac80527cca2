// The MP table builder (mp_table.hpp). Section names are those of the Intel MultiProcessor
// Specification 1.4, chapter 4 "MP Configuration Table".
#include "mp_table.hpp"

#include "exitscope/errno.hpp"
#include "mpspec/mp_tables.hpp"
#include "sdm/apic.hpp"

namespace es {

namespace {

using mpspec::entry_bytes;
using mpspec::entry_type;

// The ISA IRQs an I/O APIC routes: 0 to 15 but 2, the 8259A cascade, which is never connected.
constexpr unsigned isa_irqs = 16;
constexpr unsigned isa_cascade_irq = 2;
constexpr unsigned routed_isa_irqs = isa_irqs - 1;
// ISA IRQ0 (the PIT) enters the I/O APIC at INTIN2; INTIN0 takes the 8259A's INTR (ExtINT).
constexpr unsigned timer_intin = 2;
constexpr std::uint8_t isa_bus_id = 0;

// Where Linux looks for the floating pointer (arch/x86/kernel/mpparse.c, default_find_smp_config;
// the EBDA it also scans moves with the BIOS, so it is not offered here).
struct region {
    std::uint64_t start, end;
};
constexpr region scanned_regions[] = {
    {0, 0x400},
    {639 * 0x400, 640 * 0x400},
    {mpspec::floating::bios_rom_start, mpspec::floating::bios_rom_end},
};

std::uint32_t entries_bytes(const mp_config& c) {
    std::uint32_t n = c.vcpus * entry_bytes(entry_type::processor) + entry_bytes(entry_type::bus) +
                      2 * entry_bytes(entry_type::local_interrupt);
    if (c.io_apic)
        n += entry_bytes(entry_type::io_apic) +
             (routed_isa_irqs + 1) * entry_bytes(entry_type::io_interrupt);
    return n;
}

std::uint32_t entry_count(const mp_config& c) {
    return c.vcpus + 1 + 2 + (c.io_apic ? 1 + routed_isa_irqs + 1 : 0);
}

// Appends fields to one structure at a time.
struct writer {
    std::uint8_t* at;
    void put(mpspec::field f, std::uint64_t v) const {
        for (std::uint32_t i = 0; i < f.bytes; ++i)
            at[f.offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    void put_text(mpspec::field f, const char* text) const {
        for (std::uint32_t i = 0; i < f.bytes; ++i)
            at[f.offset + i] = static_cast<std::uint8_t>(text[i]);
    }
    // Starts an entry of type `t` and moves past it.
    writer entry(entry_type t) {
        const writer e{at};
        e.put(mpspec::entry_type_field, static_cast<std::uint8_t>(t));
        at += entry_bytes(t);
        return e;
    }
};

// The byte that makes `bytes` bytes sum to 0 (mod 256), given that its own slot holds 0.
std::uint8_t checksum_byte(const std::uint8_t* p, std::uint32_t bytes) {
    std::uint8_t sum = 0;
    for (std::uint32_t i = 0; i < bytes; ++i)
        sum = static_cast<std::uint8_t>(sum + p[i]);
    return static_cast<std::uint8_t>(-sum);
}

void put_interrupt(writer& w, entry_type t, mpspec::interrupt_type type, std::uint8_t source_irq,
                   std::uint8_t destination, std::uint8_t input) {
    namespace in = mpspec::interrupt;
    const writer e = w.entry(t);
    e.put(in::interrupt_type, static_cast<std::uint8_t>(type));
    e.put(in::flags, 0); // conforms to the bus: ISA lines are edge-triggered, active high
    e.put(in::source_bus_id, isa_bus_id);
    e.put(in::source_bus_irq, source_irq);
    e.put(in::destination_apic_id, destination);
    e.put(in::destination_input, input);
}

void write_entries(writer& w, const mp_config& c) {
    // "Processor Entries".
    for (std::uint32_t i = 0; i < c.vcpus; ++i) {
        namespace p = mpspec::processor;
        const writer e = w.entry(entry_type::processor);
        e.put(p::local_apic_id, i);
        e.put(p::local_apic_version, c.local_apic_version);
        e.put(p::cpu_flags, p::flag_enabled | (i == 0 ? p::flag_bootstrap_processor : 0));
        e.put(p::cpu_signature, c.cpu_signature);
        e.put(p::feature_flags, c.cpu_features);
    }
    // "Bus Entries".
    const writer bus = w.entry(entry_type::bus);
    bus.put(mpspec::bus::bus_id, isa_bus_id);
    bus.put_text(mpspec::bus::bus_type, mpspec::bus::isa_type);
    const auto io_apic_id = static_cast<std::uint8_t>(c.vcpus);
    if (c.io_apic) {
        // "I/O APIC Entries", then "I/O Interrupt Assignment Entries".
        namespace io = mpspec::io_apic;
        const writer e = w.entry(entry_type::io_apic);
        e.put(io::id, io_apic_id);
        e.put(io::version, mp_table::io_apic_version);
        e.put(io::flags, io::flag_enabled);
        e.put(io::address, mp_table::io_apic_address);
        put_interrupt(w, entry_type::io_interrupt, mpspec::interrupt_type::ext_int, 0, io_apic_id,
                      0);
        for (unsigned irq = 0; irq < isa_irqs; ++irq) {
            if (irq == isa_cascade_irq)
                continue;
            put_interrupt(w, entry_type::io_interrupt, mpspec::interrupt_type::vectored,
                          static_cast<std::uint8_t>(irq), io_apic_id,
                          static_cast<std::uint8_t>(irq == 0 ? timer_intin : irq));
        }
    }
    // "Local Interrupt Assignment Entries": LINT0 ExtINT, LINT1 NMI, on every local APIC.
    put_interrupt(w, entry_type::local_interrupt, mpspec::interrupt_type::ext_int, 0,
                  mpspec::interrupt::all_local_apics, 0);
    put_interrupt(w, entry_type::local_interrupt, mpspec::interrupt_type::nmi, 0,
                  mpspec::interrupt::all_local_apics, 1);
}

bool valid(const mp_config& c) {
    return c.vcpus >= 1 && c.vcpus <= mp_table::max_vcpus;
}

} // namespace

std::uint32_t mp_table_bytes(const mp_config& c) {
    if (!valid(c))
        return 0;
    return mpspec::floating::bytes + mpspec::config::header_bytes + entries_bytes(c);
}

mp_table_result mp_table_write(std::uint8_t* buf, std::size_t buf_bytes, std::uint64_t gpa,
                               const mp_config& c) {
    const std::uint32_t bytes = mp_table_bytes(c);
    if (!bytes || gpa % mpspec::floating::alignment)
        return {-err::inval, 0, 0};
    bool placed = false;
    for (const region& r : scanned_regions)
        placed = placed || (gpa >= r.start && gpa < r.end && bytes <= r.end - gpa);
    if (!placed)
        return {-err::inval, 0, 0};
    if (!buf || buf_bytes < bytes)
        return {-err::no_space, 0, 0};
    for (std::uint32_t i = 0; i < bytes; ++i)
        buf[i] = 0;
    const std::uint64_t config_gpa = gpa + mpspec::floating::bytes;
    const std::uint32_t table_bytes = bytes - mpspec::floating::bytes;

    // "MP Configuration Table Header".
    namespace ct = mpspec::config;
    const writer header{buf + mpspec::floating::bytes};
    header.put_text(ct::signature, ct::signature_text);
    header.put(ct::base_table_length, table_bytes);
    header.put(ct::spec_rev, mpspec::spec_rev_1_4);
    header.put_text(ct::oem_id, mp_table::oem_id);
    header.put_text(ct::product_id, mp_table::product_id);
    header.put(ct::entry_count, entry_count(c));
    header.put(ct::local_apic_address, sdm::apic::default_base);
    writer entries{header.at + ct::header_bytes};
    write_entries(entries, c);
    header.put(ct::checksum, checksum_byte(header.at, table_bytes));

    // "MP Floating Pointer Structure": feature byte 1 zero (the table is present), IMCRP clear
    // (virtual wire mode: there is no IMCR to switch).
    namespace fp = mpspec::floating;
    const writer floating{buf};
    floating.put_text(fp::signature, fp::signature_text);
    floating.put(fp::physical_address_pointer, config_gpa);
    floating.put(fp::length, fp::length_paragraphs);
    floating.put(fp::spec_rev, mpspec::spec_rev_1_4);
    floating.put(fp::checksum, checksum_byte(buf, fp::bytes));
    return {0, bytes, config_gpa};
}

} // namespace es
