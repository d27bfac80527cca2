// The --add files as a newc archive appended to the initrd (cpio_append.hpp).
#include "cpio_append.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <sys/stat.h>

#include "input_file.hpp"
#include "text.hpp"

namespace es::cli {

namespace {

constexpr std::uint32_t mode_dir = 0040000;  // S_IFDIR
constexpr std::uint32_t mode_file = 0100000; // S_IFREG
constexpr std::uint32_t permission_bits = 07777;
constexpr std::uint32_t parent_dir_mode = mode_dir | 0755;
constexpr const char* trailer_name = "TRAILER!!!";
constexpr std::size_t alignment = 4;

// The last component of a host path, trailing slashes ignored ("dir/" is "dir").
std::string base_name(std::string path) {
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The directories above a checked guest path, outermost first: "/a/b/c" has "/a" and "/a/b".
std::vector<std::string> parents(const std::string& path) {
    std::vector<std::string> dirs;
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1))
        dirs.push_back(path.substr(0, slash));
    return dirs;
}

void pad_to_alignment(std::string& out) {
    out.append((alignment - out.size() % alignment) % alignment, '\0');
}

// One entry: the 110-byte "070701" header (13 fields of 8 hex digits: ino, mode, uid, gid,
// nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check), the name
// with its NUL, the data, each of the last two padded to 4 bytes from the start of `out` (which
// is 4-aligned on entry).
void put_entry(std::string& out, std::uint32_t ino, std::uint32_t mode, std::uint32_t nlink,
               const std::string& name, const std::string& data) {
    const std::uint32_t fields[] = {ino,
                                    mode,
                                    0,
                                    0,
                                    nlink,
                                    0,
                                    static_cast<std::uint32_t>(data.size()),
                                    0,
                                    0,
                                    0,
                                    0,
                                    static_cast<std::uint32_t>(name.size() + 1),
                                    0};
    out += "070701";
    for (const std::uint32_t f : fields) {
        char hex[9];
        std::snprintf(hex, sizeof hex, "%08x", f);
        out.append(hex, 8);
    }
    out += name;
    out += '\0';
    pad_to_alignment(out);
    out += data;
    pad_to_alignment(out);
}

// Every error of one file's place in the archive, given the files before it.
std::string check_placement(const cpio_file& f, const std::set<std::string>& files,
                            const std::set<std::string>& dirs) {
    if (std::string e = check_guest_path(f.guest_path); !e.empty())
        return e;
    if (f.data.size() > UINT32_MAX)
        return f.guest_path + " is " + group_digits(f.data.size()) +
               " bytes, more than a newc archive can hold (4 GiB)";
    if (files.count(f.guest_path))
        return "two files go to " + f.guest_path;
    if (dirs.count(f.guest_path))
        return f.guest_path + " is a directory of another file";
    for (const std::string& dir : parents(f.guest_path))
        if (files.count(dir))
            return dir + " is a file, so it cannot hold " + f.guest_path;
    return "";
}

} // namespace

std::string check_guest_path(const std::string& path) {
    const auto bad = [&path](const std::string& why) {
        return "guest path \"" + path + "\" " + why;
    };
    if (path.empty() || path[0] != '/')
        return bad("is not absolute (HOST_FILE:/PATH/IN/GUEST)");
    if (path.size() > guest_path_max)
        return "guest path is " + std::to_string(path.size()) + " bytes, more than " +
               std::to_string(guest_path_max);
    std::size_t start = 1;
    for (;;) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string name = path.substr(start, end - start);
        if (name.empty())
            return bad("has an empty component (no file name)");
        if (name == "." || name == "..")
            return bad("contains \"" + name + "\"");
        if (name.size() > guest_name_max)
            return bad("has a name of " + std::to_string(name.size()) + " bytes, more than " +
                       std::to_string(guest_name_max));
        if (end == path.size())
            return "";
        start = end + 1;
    }
}

std::string parse_add_argument(const std::string& arg, add_spec& out) {
    if (arg.empty())
        return "empty argument (HOST_FILE[:GUEST_PATH])";
    const std::size_t colon = arg.rfind(':');
    std::string host = arg, guest;
    if (colon != std::string::npos) {
        const std::string after = arg.substr(colon + 1);
        struct stat st {};
        if (!after.empty() && after[0] == '/') {
            host = arg.substr(0, colon);
            guest = after;
        } else if (lstat(arg.c_str(), &st) != 0) {
            // Not a host file's whole name: what follows ':' was meant as the guest path.
            return after.empty() ? "no guest path after ':' (HOST_FILE:/PATH/IN/GUEST)"
                                 : check_guest_path(after);
        }
    }
    if (host.empty())
        return "no host file before ':'";
    const std::string name = base_name(host);
    if (guest.empty())
        guest = "/" + name;
    else if (guest.back() == '/')
        guest += name;
    if (std::string e = check_guest_path(guest); !e.empty())
        return e;
    out = {host, guest};
    return "";
}

std::string load_add_file(const add_spec& spec, cpio_file& out, std::uint64_t max_bytes) {
    input_error why{};
    auto data = read_input_file(spec.host_path, max_bytes,
                                "the --add limit (" + group_digits(max_bytes) + " bytes)", why);
    if (!data)
        return "cannot read " + spec.host_path + ": " + why.why;
    // The mode of what was read (a link is followed, as the read did).
    struct stat st {};
    if (stat(spec.host_path.c_str(), &st) != 0)
        return "cannot read " + spec.host_path + ": " + std::strerror(errno);
    out = {spec.guest_path, static_cast<std::uint32_t>(st.st_mode) & permission_bits,
           std::move(*data)};
    return "";
}

std::string read_add_argument(const std::string& arg, cpio_file& out) {
    add_spec spec;
    if (std::string e = parse_add_argument(arg, spec); !e.empty())
        return e;
    return load_add_file(spec, out);
}

std::string append_newc(std::string& initrd, const std::vector<cpio_file>& files) {
    std::set<std::string> file_paths, dirs;
    for (const cpio_file& f : files) {
        if (std::string e = check_placement(f, file_paths, dirs); !e.empty())
            return e;
        file_paths.insert(f.guest_path);
        for (const std::string& dir : parents(f.guest_path))
            dirs.insert(dir);
    }
    // Checked: from here on nothing fails. Names are relative ("usr/bin/x"), as cpio(1) and
    // mkinitramfs write them; the unpacker resolves them from the root. Parents come first,
    // each once, in the files' order.
    pad_to_alignment(initrd);
    std::set<std::string> written;
    std::uint32_t ino = 1;
    for (const cpio_file& f : files) {
        for (const std::string& dir : parents(f.guest_path))
            if (written.insert(dir).second)
                put_entry(initrd, ino++, parent_dir_mode, 2, dir.substr(1), "");
        put_entry(initrd, ino++, mode_file | (f.mode & permission_bits), 1, f.guest_path.substr(1),
                  f.data);
    }
    put_entry(initrd, 0, 0, 1, trailer_name, "");
    return "";
}

} // namespace es::cli
