// Text helpers.
#include "text.hpp"

#include <fmt/format.h>

namespace es::cli {

std::string group_digits(std::uint64_t v) {
    const std::string digits = std::to_string(v);
    std::string out;
    const std::size_t n = digits.size();
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n)
            out += ',';
    }
    return out;
}

std::string hex(std::uint64_t v) {
    return fmt::format("{:#x}", v);
}

std::string alt_hex(std::uint64_t v, unsigned width) {
    return v ? fmt::format("{:#{}x}", v, width) : fmt::format("{:>{}}", "0", width);
}

std::string escape_text(const std::string& s) {
    std::string out;
    for (const unsigned char c : s) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '"' || c == '\\')
            out += {'\\', static_cast<char>(c)};
        else if (c < 0x20 || c >= 0x7f)
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string terminal_safe(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (const unsigned char byte : bytes) {
        unsigned char c = byte;
        if (c >= 0x80) {
            out += "M-";
            c &= 0x7f;
        }
        const bool layout = byte == '\n' || byte == '\r' || byte == '\t' || byte == '\b';
        if (c == 0x7f)
            out += "^?";
        else if (c < 0x20 && !layout)
            out += {'^', static_cast<char>(c + '@')};
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string terminal_line_ends(std::string_view bytes, bool& after_cr) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 16);
    for (const char c : bytes) {
        if (c == '\n' && !after_cr)
            out += '\r';
        out += c;
        after_cr = c == '\r';
    }
    return out;
}

} // namespace es::cli
