// Random guest images (see guest_generator.hpp).
#include "guest_generator.hpp"

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

// Values that hit interesting places: MSR numbers, exit-leaf numbers, CR bits, ports.
constexpr std::uint32_t interesting[] = {
    0,          1,          0x10,       0x1b,       0x3a,       0x174,      0x277,
    0x4ffffffc, 0x4ffffffd, 0x4ffffffe, 0x4fffffff, 0x40000000, 0xc0000080, 0xc0000082,
    0xc0000102, 0x80000001, 0x2000,     0x20,       0x80000011, 0xffffffff, 0x7fffffff,
    0xe9,       0xf4,       0x80,       0xcf8,      0x3f8,      0x200000,   0x1ff000};

std::uint64_t pick_value(rng& r) {
    return r.below(3) ? interesting[r.below(sizeof interesting / sizeof interesting[0])] : r.next();
}

// One random instruction. Exit-causing instructions are most of the table on purpose.
void emit_instruction(bytes& out, cpu_mode m, rng& r) {
    const unsigned ob = operand_bytes(m);
    switch (r.below(30)) {
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
    default:
        out.push_back(static_cast<std::uint8_t>(0x50 + r.below(8)));
        break; // push reg
    }
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
        return out;
    }
    const std::uint32_t n = 8 + r.below(120);
    for (std::uint32_t i = 0; i < n; ++i)
        emit_instruction(out, mode, r);
    out.insert(out.end(), {0xfa, 0xf4}); // cli; hlt, if execution gets this far
    return out;
}

const char* mode_option(cpu_mode m) {
    return m == cpu_mode::real16 ? "real" : m == cpu_mode::protected32 ? "protected" : "long";
}

std::string image_name(guest_kind kind, cpu_mode mode, std::uint64_t seed) {
    return std::string(kind == guest_kind::bytes ? "bytes" : "mix") + "-" + mode_option(mode) +
           "-" + std::to_string(seed) + ".bin";
}

} // namespace es::fuzz
