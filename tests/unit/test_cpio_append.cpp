// The --add appender (cli/cpio_append.hpp): newc entries with their names, modes, parent
// directories and trailer, 4-byte alignment from the initrd's start as Linux's unpacker needs it,
// GNU cpio reading the result, and the HOST_FILE[:GUEST_PATH] argument's errors.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "cli/cpio_append.hpp"
#include "tests/unit/scratch_dir.hpp"

using namespace es::cli;
using es::test::scratch;

namespace {

constexpr std::size_t header_bytes = 110;

struct entry {
    std::size_t offset; // of the header, from the initrd's start
    std::uint32_t ino, mode, nlink, size;
    std::string name, data;
};

std::uint32_t field(const std::string& s, std::size_t header, unsigned index) {
    return static_cast<std::uint32_t>(std::stoul(s.substr(header + 6 + 8 * index, 8), nullptr, 16));
}

std::size_t align4(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

// The entries from `offset` to the trailer, checking what every newc header must hold.
std::vector<entry> parse_newc(const std::string& s, std::size_t offset) {
    std::vector<entry> entries;
    for (;;) {
        REQUIRE(offset % 4 == 0);
        REQUIRE(s.size() >= offset + header_bytes);
        REQUIRE(s.compare(offset, 6, "070701") == 0);
        entry e{offset,
                field(s, offset, 0),
                field(s, offset, 1),
                field(s, offset, 4),
                field(s, offset, 6),
                "",
                ""};
        for (unsigned owner_time_devices : {2u, 3u, 5u, 7u, 8u, 9u, 10u, 12u})
            CHECK(field(s, offset, owner_time_devices) == 0);
        const std::uint32_t namesize = field(s, offset, 11);
        REQUIRE(namesize >= 1);
        e.name = s.substr(offset + header_bytes, namesize - 1);
        CHECK(s[offset + header_bytes + namesize - 1] == '\0');
        const std::size_t data = align4(offset + header_bytes + namesize);
        for (std::size_t i = offset + header_bytes + namesize; i < data; ++i)
            CHECK(s[i] == '\0');
        REQUIRE(s.size() >= data + e.size);
        e.data = s.substr(data, e.size);
        offset = align4(data + e.size);
        entries.push_back(e);
        if (e.name == "TRAILER!!!")
            return entries;
    }
}

std::vector<cpio_file> sample_files() {
    return {{"/bin/hello", 0755, "#!/bin/sh\necho hello\n"},
            {"/usr/local/bin/probe", 0700,
             std::string("\x7f"
                         "ELF\0\1",
                         6)},
            {"/usr/local/share/note.txt", 0644, "note"},
            {"/top", 04755, ""}};
}

// What a shell command prints; it must succeed.
std::string run(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
        out.append(buf, n);
    CHECK(pclose(p) == 0);
    return out;
}

} // namespace

TEST_CASE("cpio append: the existing initrd kept, NUL padding to 4, then the newc archive") {
    for (std::size_t existing : {0, 1, 2, 3, 4, 5}) {
        const std::string original(existing, '\x1f'); // stands for gzip data of any length
        std::string initrd = original;
        REQUIRE(append_newc(initrd, sample_files()).empty());
        CHECK(initrd.compare(0, existing, original) == 0);
        const std::size_t start = align4(existing);
        for (std::size_t i = existing; i < start; ++i)
            CHECK(initrd[i] == '\0');
        const auto entries = parse_newc(initrd, start);
        CHECK(align4(entries.back().offset + header_bytes + 11) == initrd.size());
    }
}

TEST_CASE("cpio append: names, modes, parent directories once each, trailer last") {
    std::string initrd = "xyz";
    REQUIRE(append_newc(initrd, sample_files()).empty());
    const auto e = parse_newc(initrd, 4);
    const std::vector<std::string> names = {"bin",
                                            "bin/hello",
                                            "usr",
                                            "usr/local",
                                            "usr/local/bin",
                                            "usr/local/bin/probe",
                                            "usr/local/share",
                                            "usr/local/share/note.txt",
                                            "top",
                                            "TRAILER!!!"};
    REQUIRE(e.size() == names.size());
    for (std::size_t i = 0; i < e.size(); ++i) {
        CHECK(e[i].name == names[i]);
        const bool dir = i == 0 || i == 2 || i == 3 || i == 4 || i == 6;
        if (dir) {
            CHECK(e[i].mode == 040755);
            CHECK(e[i].nlink == 2);
            CHECK(e[i].size == 0);
        }
    }
    CHECK(e[1].mode == 0100755);
    CHECK(e[1].data == "#!/bin/sh\necho hello\n");
    CHECK(e[5].mode == 0100700);
    CHECK(e[5].data == std::string("\x7f"
                                   "ELF\0\1",
                                   6));
    CHECK(e[7].mode == 0100644);
    CHECK(e[8].mode == 0104755); // setuid kept
    CHECK(e[8].size == 0);
    for (std::size_t i = 0; i + 1 < e.size(); ++i) {
        CHECK(e[i].nlink >= 1);
        CHECK(e[i].ino == i + 1); // distinct: no entry is taken for a hard link of another
    }
    CHECK(e.back().mode == 0);
    CHECK(e.back().size == 0);
    // File type bits given in the mode are ignored: every file is a regular file.
    std::string again;
    REQUIRE(append_newc(again, {{"/f", 0020644, "x"}}).empty());
    CHECK(parse_newc(again, 0)[0].mode == 0100644);
    // No files: the trailer alone, a valid empty archive.
    std::string none = "ab";
    REQUIRE(append_newc(none, {}).empty());
    CHECK(parse_newc(none, 4).size() == 1);
}

TEST_CASE("cpio append: GNU cpio lists and extracts the appended archive") {
    REQUIRE(std::system("command -v cpio >/dev/null") == 0); // tools/install-deps installs it
    const scratch s;
    std::string initrd = "\x1f\x8b\x08"; // 3 bytes: the archive starts at offset 4
    REQUIRE(append_newc(initrd, sample_files()).empty());
    const std::string archive = s.file("added.cpio", initrd.substr(4));
    CHECK(run("cpio -it --quiet < " + archive) ==
          "bin\nbin/hello\nusr\nusr/local\nusr/local/bin\nusr/local/bin/probe\n"
          "usr/local/share\nusr/local/share/note.txt\ntop\n");
    const std::string listing = run("cpio -itv --quiet < " + archive);
    for (const char* line : {"drwxr-xr-x   2 root     root            0 ",
                             "-rwxr-xr-x   1 root     root           21 ",
                             "-rwx------   1 root     root            6 ",
                             "-rw-r--r--   1 root     root            4 ",
                             "-rwsr-xr-x   1 root     root            0 "})
        CHECK(listing.find(line) != std::string::npos);
    CHECK(run("cpio -i --quiet --to-stdout bin/hello < " + archive) == "#!/bin/sh\necho hello\n");
    CHECK(run("cpio -i --quiet --to-stdout usr/local/share/note.txt < " + archive) == "note");
}

TEST_CASE("cpio append: refused, initrd unchanged: bad paths, a path twice, file over dir") {
    const std::vector<std::pair<std::vector<cpio_file>, std::string>> cases = {
        {{{"bin/x", 0755, ""}}, "not absolute"},
        {{{"/a/../x", 0755, ""}}, "contains \"..\""},
        {{{"/x", 0755, ""}, {"/x", 0644, ""}}, "two files go to /x"},
        {{{"/a", 0755, ""}, {"/a/b", 0644, ""}}, "/a is a file, so it cannot hold /a/b"},
        {{{"/a/b", 0644, ""}, {"/a", 0755, ""}}, "/a is a directory of another file"},
    };
    for (const auto& [files, why] : cases) {
        std::string initrd = "abc";
        const std::string e = append_newc(initrd, files);
        INFO(e);
        CHECK(e.find(why) != std::string::npos);
        CHECK(initrd == "abc");
    }
}

TEST_CASE("cpio append: guest paths: absolute, no . or .. or empty name, kernel limits") {
    CHECK(check_guest_path("/x").empty());
    CHECK(check_guest_path("/usr/local/bin/prog").empty());
    CHECK(check_guest_path("/a b:c").empty());
    CHECK(check_guest_path("x").find("not absolute") != std::string::npos);
    CHECK(check_guest_path("").find("not absolute") != std::string::npos);
    CHECK(check_guest_path("/").find("empty component") != std::string::npos);
    CHECK(check_guest_path("/a//b").find("empty component") != std::string::npos);
    CHECK(check_guest_path("/a/").find("empty component") != std::string::npos);
    CHECK(check_guest_path("/..").find("contains \"..\"") != std::string::npos);
    CHECK(check_guest_path("/a/../../etc").find("contains \"..\"") != std::string::npos);
    CHECK(check_guest_path("/a/./b").find("contains \".\"") != std::string::npos);
    CHECK(check_guest_path("/a..b/..c").empty()); // only whole components count
    CHECK(check_guest_path("/" + std::string(guest_name_max, 'n')).empty());
    CHECK(check_guest_path("/" + std::string(guest_name_max + 1, 'n')).find("more than 255") !=
          std::string::npos);
    std::string deep;
    while (deep.size() + 4 <= guest_path_max)
        deep += "/abc";
    CHECK(check_guest_path(deep).empty());
    CHECK(check_guest_path(deep + "/abc").find("more than 4095") != std::string::npos);
}

TEST_CASE("cpio append: the --add argument HOST_FILE[:GUEST_PATH] taken apart") {
    const scratch s;
    const std::string prog = s.file("prog", "p");
    // A host name with ':' is taken whole when it exists and no absolute path follows.
    const std::string odd = s.file("we:ird", "w");
    const struct {
        std::string arg, host, guest;
    } good[] = {
        {prog, prog, "/prog"},
        {prog + ":/usr/bin/tool", prog, "/usr/bin/tool"},
        {prog + ":/usr/bin/", prog, "/usr/bin/prog"}, // a directory: the host file's name added
        {"relative/dir/prog:/", "relative/dir/prog", "/prog"},
        {odd, odd, "/we:ird"},
        {odd + ":/x", odd, "/x"},
    };
    for (const auto& g : good) {
        add_spec a;
        const std::string e = parse_add_argument(g.arg, a);
        INFO(g.arg << ": " << e);
        CHECK(e.empty());
        CHECK(a.host_path == g.host);
        CHECK(a.guest_path == g.guest);
    }

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "empty argument"},
        {":/x", "no host file before ':'"},
        {prog + ":", "no guest path after ':'"},
        {prog + ":bin/prog", "guest path \"bin/prog\" is not absolute"},
        {prog + ":/a/../etc/passwd", "contains \"..\""},
        {prog + ":/a//b", "empty component"},
    };
    for (const auto& [arg, why] : bad) {
        add_spec untouched{"h", "/g"};
        const std::string e = parse_add_argument(arg, untouched);
        INFO(arg << ": " << e);
        CHECK(e.find(why) != std::string::npos);
        CHECK(untouched.host_path == "h");
    }
}

TEST_CASE("cpio append: the --add host file: a readable regular file within the limit") {
    const scratch s;
    cpio_file f;
    const std::string prog = s.file("prog", "\x7f"
                                            "ELF");
    REQUIRE(chmod(prog.c_str(), 0750) == 0);
    REQUIRE(read_add_argument(prog + ":/opt/prog", f).empty());
    CHECK(f.guest_path == "/opt/prog");
    CHECK(f.mode == 0750);
    CHECK(f.data == "\x7f"
                    "ELF");
    // Through a link: the target's contents and mode.
    REQUIRE(symlink(prog.c_str(), (s.dir + "/link").c_str()) == 0);
    REQUIRE(read_add_argument(s.dir + "/link", f).empty());
    CHECK(f.guest_path == "/link");
    CHECK(f.mode == 0750);
    CHECK(f.data == "\x7f"
                    "ELF");

    REQUIRE(mkfifo((s.dir + "/fifo").c_str(), 0600) == 0);
    // The largest file taken, as a sparse file: its size is checked before anything is read.
    const std::string big = s.file("big", "");
    REQUIRE(truncate(big.c_str(), static_cast<off_t>(add_file_max_bytes + 1)) == 0);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {s.dir + "/missing", "cannot read " + s.dir + "/missing: No such file or directory"},
        {s.dir, "it is a directory, not a file"},
        {s.dir + "/:/d", "it is a directory, not a file"},
        {"/dev/null", "not a regular file"},
        {s.dir + "/fifo", "not a regular file"}, // and it must not block
        {big, "is 67,108,865 bytes, more than the --add limit (67,108,864 bytes)"},
    };
    for (const auto& [arg, why] : bad) {
        const std::string e = read_add_argument(arg, f);
        INFO(arg << ": " << e);
        CHECK(e.find(why) != std::string::npos);
    }
    // The limit is a parameter of the load alone.
    add_spec spec{prog, "/p"};
    CHECK(load_add_file(spec, f, 3).find("is 4 bytes, more than the --add limit (3 bytes)") !=
          std::string::npos);
    CHECK(load_add_file(spec, f, 4).empty());
}

TEST_CASE("cpio append: --add arguments end to end, into an initrd") {
    const scratch s;
    std::vector<cpio_file> files(2);
    REQUIRE(read_add_argument(s.file("hello", "hi\n") + ":/root/", files[0]).empty());
    REQUIRE(
        read_add_argument(s.file("data.bin", std::string(5, '\0')) + ":/root/d", files[1]).empty());
    std::string initrd(1021, 'g');
    REQUIRE(append_newc(initrd, files).empty());
    const auto e = parse_newc(initrd, 1024);
    REQUIRE(e.size() == 4);
    CHECK(e[0].name == "root");
    CHECK(e[1].name == "root/hello");
    CHECK(e[1].data == "hi\n");
    CHECK(e[2].name == "root/d");
    CHECK(e[2].data == std::string(5, '\0'));
}
