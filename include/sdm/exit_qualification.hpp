// Layouts of the exit-qualification field for the exits Exitscope decodes, and the register
// values MOV DR reads see.
//
// Source: Intel SDM, Volume 3C, "Exit Qualification for I/O Instructions", "Exit Qualification
// for Control-Register Accesses", "Exit Qualification for MOV DR", and Volume 3B, "Debug
// Registers" (order number 325462-080US, June 2023).
#pragma once

#include <cstdint>

namespace sdm {

// I/O instructions: size (bits 2:0, bytes - 1), direction (bit 3, 1 = IN), string (bit 4),
// REP (bit 5), operand encoding (bit 6, 1 = immediate), port (bits 31:16).
struct io_qualification {
    unsigned size; // bytes: 1, 2 or 4
    bool in;
    bool string;
    bool rep;
    std::uint16_t port;
};

// The bits of RAX an access of `size` bytes reads or writes.
constexpr std::uint64_t io_size_mask(unsigned size) {
    return size >= 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
}

constexpr io_qualification decode_io(std::uint64_t q) {
    return {static_cast<unsigned>((q & 7) + 1), ((q >> 3) & 1) != 0, ((q >> 4) & 1) != 0,
            ((q >> 5) & 1) != 0, static_cast<std::uint16_t>(q >> 16)};
}

// Control-register accesses: control register (bits 3:0), access type (bits 5:4), general
// register (bits 11:8, 0 RAX ... 15 R15).
enum class cr_access_type : unsigned { to_cr = 0, from_cr = 1, clts = 2, lmsw = 3 };

struct cr_qualification {
    unsigned cr;
    cr_access_type type;
    unsigned gpr;
};

constexpr cr_qualification decode_cr_access(std::uint64_t q) {
    return {static_cast<unsigned>(q & 0xf), static_cast<cr_access_type>((q >> 4) & 3),
            static_cast<unsigned>((q >> 8) & 0xf)};
}

// MOV DR: debug register (bits 2:0), direction (bit 4, 1 = from DR), general register (11:8).
struct dr_qualification {
    unsigned dr;
    bool from_dr;
    unsigned gpr;
};

constexpr dr_qualification decode_mov_dr(std::uint64_t q) {
    return {static_cast<unsigned>(q & 7), ((q >> 4) & 1) != 0,
            static_cast<unsigned>((q >> 8) & 0xf)};
}

// Power-on values of DR6 and DR7.
inline constexpr std::uint64_t dr6_reset = 0xffff0ff0;
inline constexpr std::uint64_t dr7_reset = 0x400;

} // namespace sdm
