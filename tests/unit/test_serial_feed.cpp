// The CLI's serial feed (cli/serial_feed.hpp): the Ctrl-A escape rule, and standard input from
// a pipe reaching the guest side in order although the guest side takes a few bytes at a time.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "cli/serial_feed.hpp"

using es::cli::escape_decoder;
using es::cli::serial_feed;

TEST_CASE("serial feed: Ctrl-A x ends the run, Ctrl-A Ctrl-A sends one Ctrl-A") {
    escape_decoder d;
    CHECK(d.feed("ls\r") == "ls\r");
    CHECK(d.feed("a\x01\x01"
                 "b") == "a\x01"
                         "b");
    CHECK_FALSE(d.quit);
    CHECK(d.feed("c\x01") == "c"); // the escape may end one read ...
    CHECK(d.feed("zd") == "d");    // ... and an unknown key after it is dropped with it
    CHECK(d.feed("e\x01xf") == "e");
    CHECK(d.quit);
    CHECK(d.feed("more") == ""); // nothing after the quit
}

TEST_CASE("serial feed: piped input arrives whole and in order, offered again as room allows") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    std::mutex m;
    std::string received;
    std::atomic<int> offers{0};
    {
        serial_feed feed(
            fds[0],
            [&](const std::uint8_t* bytes, std::size_t n) {
                // Every other offer is refused; the rest take at most 3 bytes, as a full FIFO
                // would.
                if (offers++ % 2)
                    return std::size_t{0};
                const std::size_t take = n < 3 ? n : 3;
                std::lock_guard<std::mutex> g(m);
                received.append(reinterpret_cast<const char*>(bytes), take);
                return take;
            },
            [] {});
        const std::string sent = "echo hello\n\x01x raw bytes stay as they are\n";
        REQUIRE(write(fds[1], sent.data(), sent.size()) == static_cast<ssize_t>(sent.size()));
        close(fds[1]); // end of input: the feed stops reading, nothing else
        for (int i = 0; i < 500; ++i) {
            {
                std::lock_guard<std::mutex> g(m);
                if (received.size() == sent.size())
                    break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::lock_guard<std::mutex> g(m);
        CHECK(received == sent); // not a terminal: Ctrl-A is a plain byte
    }
    close(fds[0]);
}
