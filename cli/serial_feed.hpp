// Standard input to a Linux guest's serial port, for both backends: a thread reads it and offers
// the bytes to the backend (ES_VM_INPUT, or the KVM backend's UART), offering again what was not
// taken. On a terminal, the terminal is in raw mode for the run (restored when the feed ends,
// whichever way the run ended but SIGKILL: then `stty sane`), and Ctrl-A x ends the run as in
// QEMU; Ctrl-A Ctrl-A sends one Ctrl-A. From a pipe or file the bytes go in as they come, and
// end of input changes nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace es::cli {

// The escape rule, byte by byte (pure): what to send, and whether Ctrl-A x came.
inline constexpr char escape_key = 0x01; // Ctrl-A
struct escape_decoder {
    bool after_escape = false;
    bool quit = false;
    std::string feed(std::string_view bytes);
};

// Whether a running feed turned ONLCR off on standard output's terminal: the console writer
// then adds the CR of each bare LF itself (terminal_line_ends).
bool console_adds_cr();

class serial_feed {
  public:
    // How many of `n` bytes the guest side took (the rest is offered again shortly).
    using offer_fn = std::function<std::size_t(const std::uint8_t* bytes, std::size_t n)>;
    // Starts reading `fd` (standard input); `on_quit` runs on the reader thread at Ctrl-A x.
    serial_feed(int fd, offer_fn offer, std::function<void()> on_quit);
    ~serial_feed(); // stops the reader and restores the terminal
    serial_feed(const serial_feed&) = delete;
    serial_feed& operator=(const serial_feed&) = delete;

  private:
    struct state;
    std::unique_ptr<state> s_;
};

} // namespace es::cli
