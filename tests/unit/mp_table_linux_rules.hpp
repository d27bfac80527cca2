// A test helper: reads MP tables out of guest memory by the rules Linux applies
// (arch/x86/kernel/mpparse.c): default_find_smp_config and smp_scan_config find the floating
// pointer, smp_check_mpc accepts the configuration table, smp_read_mpc walks its entries and
// check_physptr looks for I/O interrupt entries. Written from those rules, not from the code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mp_rules {

struct processor {
    unsigned apic_id;
    unsigned apic_version;
    bool bsp;
};

struct local_interrupt {
    unsigned type, destination_apic, lint;
};

struct parsed {
    std::string error; // empty when Linux takes the table; else the message it would print
    std::uint64_t floating_gpa = 0;
    std::uint32_t lapic_address = 0;
    std::string oem, product;
    std::vector<processor> processors; // enabled ones, in table order
    unsigned disabled_processors = 0;
    std::vector<std::string> buses;
    unsigned io_apics = 0;
    unsigned io_interrupts = 0; // Linux's mp_irq_entries; 0 makes it log "BIOS bug, no explicit
                                // IRQ entries" and build ISA defaults
    std::vector<local_interrupt> local_interrupts;
};

inline unsigned sum8(const std::uint8_t* p, std::size_t n) {
    unsigned s = 0;
    for (std::size_t i = 0; i < n; ++i)
        s += p[i];
    return s & 0xff;
}

inline std::uint32_t le(const std::uint8_t* p, unsigned bytes) {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < bytes; ++i)
        v |= std::uint32_t{p[i]} << (8 * i);
    return v;
}

// `mem` is guest memory from guest-physical 0.
inline parsed read(const std::vector<std::uint8_t>& mem) {
    parsed out;
    // The first KiB, the last KiB below 640 KiB, the BIOS ROM; each 16 bytes at a time. A match:
    // "_MP_", length 1 (paragraph), the 16 bytes sum to 0, revision 1 or 4. (The EBDA comes
    // last, from the BDA's pointer at 0x40E; this board has none.)
    const std::pair<std::uint64_t, std::uint64_t> areas[] = {
        {0, 0x400}, {639 * 0x400, 0x400}, {0xf0000, 0x10000}};
    const std::uint8_t* mpf = nullptr;
    for (auto [base, length] : areas) {
        for (std::uint64_t at = base; !mpf && at + 16 <= base + length; at += 16) {
            if (at + 16 > mem.size())
                break;
            const std::uint8_t* p = mem.data() + at;
            if (std::string(reinterpret_cast<const char*>(p), 4) == "_MP_" && p[8] == 1 &&
                sum8(p, 16) == 0 && (p[9] == 1 || p[9] == 4)) {
                mpf = p;
                out.floating_gpa = at;
            }
        }
        if (mpf)
            break;
    }
    if (!mpf)
        return out.error = "no MP floating pointer found", out;
    if (mpf[11] != 0)
        return out.error = "default configuration requested", out;
    const std::uint32_t physptr = le(mpf + 4, 4);
    if (!physptr)
        return out.error = "no configuration table pointer (BUG())", out;
    if (physptr + 44ull > mem.size())
        return out.error = "configuration table outside memory", out;
    const std::uint8_t* mpc = mem.data() + physptr;
    const unsigned length = le(mpc + 4, 2);
    if (physptr + std::uint64_t{length} > mem.size())
        return out.error = "configuration table outside memory", out;
    // smp_check_mpc.
    if (std::string(reinterpret_cast<const char*>(mpc), 4) != "PCMP")
        return out.error = "MPTABLE: bad signature", out;
    if (sum8(mpc, length) != 0)
        return out.error = "MPTABLE: checksum error!", out;
    if (mpc[6] != 1 && mpc[6] != 4)
        return out.error = "MPTABLE: bad table version", out;
    out.lapic_address = le(mpc + 36, 4);
    if (!out.lapic_address)
        return out.error = "MPTABLE: null local APIC address!", out;
    out.oem.assign(reinterpret_cast<const char*>(mpc + 8), 8);
    out.product.assign(reinterpret_cast<const char*>(mpc + 16), 12);
    // smp_read_mpc: entries from the end of the header to `length`; an unknown type stops the
    // walk ("Your mptable is wrong"). Linux does not check the entry count; this helper does.
    unsigned count = 44, entries = 0;
    while (count < length) {
        const std::uint8_t* e = mpc + count;
        const unsigned size = e[0] == 0 ? 20 : 8;
        if (e[0] > 4)
            return out.error = "Your mptable is wrong, contact your HW vendor!", out;
        if (count + size > length)
            return out.error = "entry runs past the table's length", out;
        switch (e[0]) {
        case 0:
            if (e[3] & 1)
                out.processors.push_back({e[1], e[2], (e[3] & 2) != 0});
            else
                ++out.disabled_processors;
            break;
        case 1:
            out.buses.emplace_back(reinterpret_cast<const char*>(e + 2), 6);
            break;
        case 2:
            out.io_apics += e[3] & 1;
            break;
        case 3:
            ++out.io_interrupts;
            break;
        default:
            out.local_interrupts.push_back({e[1], e[6], e[7]});
            break;
        }
        count += size;
        ++entries;
    }
    if (entries != le(mpc + 34, 2))
        return out.error = "entry count does not match the entries", out;
    if (out.processors.empty())
        return out.error = "MPTABLE: no processors registered!", out;
    return out;
}

} // namespace mp_rules
