// Host files for a Linux guest: `exitscope run --kernel ... --add HOST_FILE[:GUEST_PATH]` (like
// tools/emu-run's --add) appends a newc cpio archive of them to the initrd in memory, so the
// guest's initramfs holds them (a static program built on the host, a script).
//
// Why appending works: Linux's initramfs unpacker (init/initramfs.c, unpack_to_rootfs) reads
// archives one after another until the initrd ends, each compressed or not. Between archives it
// skips NUL bytes, counting them, and takes "070701" as the start of an uncompressed archive only
// at an offset from the initrd's start that is a multiple of 4; after a compressed one it carries
// on from the member's end (the gzip trailer included). So the existing initrd (gzip-compressed
// or not) is padded with NULs to a multiple of 4 and the archive follows uncompressed, its headers
// and data 4-byte aligned from there (Documentation/driver-api/early-userspace/
// buffer-format.rst). Each archive ends with its own "TRAILER!!!" entry, where the unpacker
// forgets the previous archive's hard links. An old-style initrd (a filesystem image, not cpio)
// cannot be appended to: the kernel would no longer recognise it.
//
// What the guest then sees: a file replaces one of the same path in the initrd (the unpacker
// truncates it); every parent directory is an entry of its own (mode 0755, root's), since the
// unpacker creates no missing parents, and applies that mode to a directory the initrd already
// has. Owner 0:0, mtime 0, as tools/guests/mkinitramfs writes the shipped initramfs (a Python
// writer: that one also makes the /dev/console device node, which needs no --add).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace es::cli {

// One regular file for the guest.
struct cpio_file {
    std::string guest_path; // absolute, as check_guest_path accepts
    std::uint32_t mode;     // permission bits (07777); the entry's type is a regular file
    std::string data;
};

// A --add argument taken apart.
struct add_spec {
    std::string host_path;
    std::string guest_path;
};

// The largest file --add takes: the initrd and the unpacked copy both sit in the guest's RAM
// while it boots (128 MiB by default), and plan_linux_boot still checks that the whole initrd
// fits. A path and a name in it are bounded as the guest's kernel bounds them (PATH_MAX with the
// NUL, NAME_MAX).
inline constexpr std::uint64_t add_file_max_bytes = 64ull << 20;
inline constexpr std::size_t guest_path_max = 4095;
inline constexpr std::size_t guest_name_max = 255;

// Every function below returns "" on success, else an error message for the user (no newline,
// not repeating the argument: the caller prints "exitscope: --add ARG: " before it).

// A guest path: absolute, no empty, "." or ".." component (so it cannot climb out of the
// initramfs or name a directory), within guest_path_max and guest_name_max.
std::string check_guest_path(const std::string& path);

// HOST_FILE[:GUEST_PATH]. The guest path is what follows the last ':' when that starts with '/';
// it may end in '/' to name a directory, the host file's name then added. Without one the file
// goes to the root: "/NAME". A host name with ':' in it is taken whole when no guest path
// follows and a file of that whole name exists; otherwise the text after ':' must be absolute.
std::string parse_add_argument(const std::string& arg, add_spec& out);

// Reads the host file (a regular file, or a link to one, up to max_bytes) with its permission
// bits. Errors: missing or unreadable, a directory, a device, FIFO or socket, too big.
std::string load_add_file(const add_spec& spec, cpio_file& out,
                          std::uint64_t max_bytes = add_file_max_bytes);

// parse_add_argument, then load_add_file: what `run` does for each --add.
std::string read_add_argument(const std::string& arg, cpio_file& out);

// Appends the newc archive of `files` (with their parent directories, then the trailer) to
// `initrd`, after NUL padding to a multiple of 4. Refused (initrd unchanged): a bad guest path,
// two files at one path, a file where another needs a directory, a file over 4 GiB (newc's
// 32-bit size field).
std::string append_newc(std::string& initrd, const std::vector<cpio_file>& files);

} // namespace es::cli
