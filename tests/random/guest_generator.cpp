// Random guest images (see guest_generator.hpp).
#include "guest_generator.hpp"

#include <algorithm>

#include "linux_boot/boot_params.hpp"

namespace es::fuzz {

namespace {

using bytes = std::vector<std::uint8_t>;

void put_imm(bytes& out, std::uint64_t v, unsigned size) {
    for (unsigned i = 0; i < size; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Width of an immediate/offset operand of the default operand and address size.
unsigned operand_bytes(cpu_mode m) {
    return m == cpu_mode::real16 ? 2 : 4;
}
unsigned address_bytes(cpu_mode m) {
    return m == cpu_mode::real16 ? 2 : m == cpu_mode::protected32 ? 4 : 8;
}
// An operand-size prefix selects the 16-bit form outside real mode and the 32-bit form in it.
constexpr std::uint8_t operand_size_prefix = 0x66;

// Values that hit interesting places: MSR numbers, exit-leaf numbers, CR bits, ports.
constexpr std::uint32_t interesting[] = {
    0,          1,          0x10,       0x1b,       0x3a,       0x174,      0x277,
    0x4ffffffc, 0x4ffffffd, 0x4ffffffe, 0x4fffffff, 0x40000000, 0xc0000080, 0xc0000082,
    0xc0000102, 0x80000001, 0x2000,     0x20,       0x80000011, 0xffffffff, 0x7fffffff,
    0xe9,       0xf4,       0x80,       0xcf8,      0x3f8,      0x200000,   0x1ff000};

// Ports: the toy conventions (0xE9 console, 0xF4 exit, 0x80), the Linux board's devices and the
// edges of their ranges (PIC pair, PIT, port 0x61, keyboard controller, CMOS, COM1, ELCR, the
// fast-A20/reset port 0x92 and the chipset's reset control 0xCF9), and unclaimed neighbours.
constexpr std::uint16_t ports[] = {0xe9,  0xf4,  0x80,  0x1f,  0x20,  0x21,  0x22,  0x40,  0x41,
                                   0x42,  0x43,  0x44,  0x61,  0x64,  0x70,  0x71,  0x72,  0x92,
                                   0xa0,  0xa1,  0x3f7, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd,
                                   0x3fe, 0x3ff, 0x400, 0x4d0, 0x4d1, 0xcf8, 0xcf9, 0xcfc, 0xffff};

std::uint64_t pick_value(rng& r) {
    return r.below(3) ? interesting[r.below(sizeof interesting / sizeof interesting[0])] : r.next();
}
std::uint16_t pick_port(rng& r) {
    return r.below(4) ? ports[r.below(sizeof ports / sizeof ports[0])]
                      : static_cast<std::uint16_t>(r.next());
}
void maybe_operand_size(bytes& out, rng& r) {
    if (r.below(2))
        out.push_back(operand_size_prefix);
}

// Port I/O in every form: IN/OUT with an immediate port or DX, 8/16/32 bits, and the string
// forms (INS/OUTS, sometimes with REP).
void emit_port_io(bytes& out, cpu_mode m, rng& r) {
    switch (r.below(6)) {
    case 0: // mov dx, port
        if (m != cpu_mode::real16)
            out.push_back(operand_size_prefix);
        out.push_back(0xba);
        put_imm(out, pick_port(r), 2);
        break;
    case 1: // out dx, al / ax / eax
        if (r.below(2)) {
            maybe_operand_size(out, r);
            out.push_back(0xef);
        } else
            out.push_back(0xee);
        break;
    case 2: // in al / ax / eax, dx
        if (r.below(2)) {
            maybe_operand_size(out, r);
            out.push_back(0xed);
        } else
            out.push_back(0xec);
        break;
    case 3: // out imm8, al / ax / eax
        maybe_operand_size(out, r);
        out.insert(out.end(), {static_cast<std::uint8_t>(0xe6 + r.below(2)),
                               static_cast<std::uint8_t>(pick_port(r))});
        break;
    case 4: // in al / ax / eax, imm8
        maybe_operand_size(out, r);
        out.insert(out.end(), {static_cast<std::uint8_t>(0xe4 + r.below(2)),
                               static_cast<std::uint8_t>(pick_port(r))});
        break;
    default: // [rep] insb / insd / outsb / outsd
        if (r.below(2))
            out.push_back(0xf3);
        out.push_back(static_cast<std::uint8_t>(0x6c + r.below(4)));
        break;
    }
}

// One random instruction. Exit-causing instructions are most of the table on purpose.
void emit_instruction(bytes& out, cpu_mode m, rng& r) {
    const unsigned ob = operand_bytes(m);
    switch (r.below(36)) {
    case 0:
        out.insert(out.end(), {0x0f, 0xa2});
        break; // cpuid
    case 1:
        out.push_back(0xf4);
        break; // hlt
    case 2:
        out.push_back(0xfa);
        break; // cli
    case 3:
        out.push_back(0xfb);
        break; // sti
    case 4:
        out.insert(out.end(), {0xf3, 0x90});
        break; // pause
    case 5:
        out.insert(out.end(), {0x0f, 0x31});
        break; // rdtsc
    case 6:
        out.insert(out.end(), {0x0f, 0x08});
        break; // invd
    case 7:
        out.insert(out.end(), {0x0f, 0x09});
        break; // wbinvd
    case 8:
        out.insert(out.end(), {0x0f, 0x32});
        break; // rdmsr
    case 9:
        out.insert(out.end(), {0x0f, 0x30});
        break; // wrmsr
    case 10:
        out.insert(out.end(), {0x0f, 0x01, 0xd1});
        break; // xsetbv
    case 11:
        out.insert(out.end(), {0x0f, 0x01, 0xc1});
        break; // vmcall
    case 12:
        out.insert(out.end(), {0x0f, 0x33});
        break; // rdpmc
    case 13:
        out.insert(out.end(), {0x0f, 0x20, 0xc0});
        break; // mov eax, cr0
    case 14:
        out.insert(out.end(), {0x0f, 0x22, 0xc0});
        break; // mov cr0, eax
    case 15:
        out.insert(out.end(), {0x0f, 0x22, 0xe0});
        break; // mov cr4, eax
    case 16:
        out.insert(out.end(), {0x0f, 0x21, 0xf8});
        break; // mov eax, dr7
    case 17:
        out.insert(out.end(), {0x0f, 0x23, 0xc0});
        break; // mov dr0, eax
    case 18:
        out.insert(out.end(), {0xe4, static_cast<std::uint8_t>(r.next())});
        break; // in
    case 19:
        out.insert(out.end(), {0xe6, static_cast<std::uint8_t>(r.next())});
        break; // out
    case 20:
        out.insert(out.end(), {0xec});
        break; // in al, dx
    case 21:   // mov eax, imm
        out.push_back(0xb8);
        put_imm(out, pick_value(r), ob);
        break;
    case 22: // mov ecx, imm
        out.push_back(0xb9);
        put_imm(out, pick_value(r), ob);
        break;
    case 23: // mov edx, imm
        out.push_back(0xba);
        put_imm(out, pick_value(r), ob);
        break;
    case 24: // mov [moffs], eax: a random address, sometimes outside RAM
        out.push_back(0xa3);
        put_imm(out, pick_value(r), address_bytes(m));
        break;
    case 25:
        out.insert(out.end(), {0xcd, static_cast<std::uint8_t>(r.next())});
        break; // int n
    case 26:
        out.insert(out.end(), {0x0f, 0x01, 0xc8});
        break; // monitor
    case 27:
        out.insert(out.end(), {0xeb, static_cast<std::uint8_t>(r.below(16))});
        break; // jmp
    case 28:
        out.insert(out.end(), {0x0f, 0x0b});
        break; // ud2
    case 29:
    case 30:
    case 31:
    case 32:
    case 33:
        emit_port_io(out, m, r);
        break;
    default:
        out.push_back(static_cast<std::uint8_t>(0x50 + r.below(8)));
        break; // push reg
    }
}

// A fake bzImage around 64-bit code: the setup header `exitscope run --kernel` reads ("The
// Real-Mode Kernel Header", Documentation/arch/x86/boot.rst), one setup sector, then the
// protected-mode part with `code` at its 64-bit entry (HLT before it).
bytes wrap_in_bzimage(const bytes& code) {
    namespace lb = ::linux_boot;
    constexpr std::uint32_t setup_sects = 1;
    constexpr std::uint32_t setup_bytes = (setup_sects + 1) * lb::sector_bytes;
    bytes out(setup_bytes + lb::entry_64_offset, 0xf4);
    std::fill(out.begin(), out.begin() + setup_bytes, 0);
    auto put = [&out](lb::field f, std::uint64_t v) {
        for (std::uint32_t i = 0; i < f.bytes; ++i)
            out[f.offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    put(lb::hdr::setup_sects, setup_sects);
    put(lb::hdr::boot_flag, lb::boot_flag_value);
    put(lb::hdr::jump, 0x62eb); // jmp short past the header, which ends at 0x264
    put(lb::hdr::header, lb::header_magic);
    put(lb::hdr::version, 0x020f);
    put(lb::hdr::loadflags, lb::loaded_high);
    put(lb::hdr::initrd_addr_max, 0x7fffffff);
    put(lb::hdr::xloadflags, lb::xlf_kernel_64);
    put(lb::hdr::cmdline_size, 255);
    put(lb::hdr::pref_address, lb::kernel_load_address);
    put(lb::hdr::init_size, 0x10000);
    out.insert(out.end(), code.begin(), code.end());
    return out;
}

} // namespace

std::vector<std::uint8_t> generate(guest_kind kind, cpu_mode mode, std::uint64_t seed) {
    rng r(seed ^ (static_cast<std::uint64_t>(kind) << 56) ^
          (static_cast<std::uint64_t>(mode) << 48));
    bytes out;
    if (kind == guest_kind::bytes) {
        const std::uint32_t n = 16 + r.below(496);
        for (std::uint32_t i = 0; i < n; ++i)
            out.push_back(static_cast<std::uint8_t>(r.next()));
    } else {
        const std::uint32_t n = 8 + r.below(120);
        for (std::uint32_t i = 0; i < n; ++i)
            emit_instruction(out, mode, r);
        out.insert(out.end(), {0xfa, 0xf4}); // cli; hlt, if execution gets this far
    }
    return mode == cpu_mode::linux64 ? wrap_in_bzimage(out) : out;
}

const char* mode_option(cpu_mode m) {
    switch (m) {
    case cpu_mode::real16:
        return "real";
    case cpu_mode::protected32:
        return "protected";
    case cpu_mode::long64:
        return "long";
    case cpu_mode::linux64:
        return "linux64";
    }
    return "?";
}

std::string image_name(guest_kind kind, cpu_mode mode, std::uint64_t seed) {
    return std::string(kind == guest_kind::bytes ? "bytes" : "mix") + "-" + mode_option(mode) +
           "-" + std::to_string(seed) + ".bin";
}

} // namespace es::fuzz
