// Small text helpers every CLI output shares. Pure: unit-tested on the host.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace es::cli {

// "12,345" style grouping for big counters.
std::string group_digits(std::uint64_t v);

// "0x..." for addresses and qualifications in messages.
std::string hex(std::uint64_t v);

// printf's "%#llx" in a field of `width`: "0x1f", but a bare "0" for zero.
std::string alt_hex(std::uint64_t v, unsigned width);

// Bytes as printable text for one-line messages: \n, \t, \", \\ and \xNN for the rest of the
// control and non-ASCII bytes. The CLI's one escaper (JSON strings go through nlohmann-json).
std::string escape_text(const std::string& s);

// Guest console bytes made safe for a terminal, as `cat -v` shows them: printable ASCII,
// newline, carriage return, tab and backspace pass; other control bytes become ^X (ESC is
// "^["), DEL "^?", and bytes from 0x80 "M-" and the same rule for the low seven bits. No escape
// sequence of the guest's reaches the terminal (title, clipboard, key remapping). Byte by byte,
// so console chunks convert alone.
std::string terminal_safe(std::string_view bytes);

// Guest console line ends for a terminal that adds no CR itself (the serial feed's raw mode turns
// ONLCR off): an LF without a CR before it gets one, a CR LF passes unchanged, so neither a toy
// guest's "\n" nor Linux's "\r\n" shows as "\r\r\n". `after_cr` carries the last byte's state
// from one console chunk to the next.
std::string terminal_line_ends(std::string_view bytes, bool& after_cr);

} // namespace es::cli
