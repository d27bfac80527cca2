// Linux errno values the C++ core returns (negated). The numbers are Linux's stable user-space
// ABI (include/uapi/asm-generic/errno-base.h, errno.h); C++ code must not include Linux headers.
#pragma once

namespace es::err {
inline constexpr int perm = 1;
inline constexpr int no_entry = 2;
inline constexpr int intr = 4;
inline constexpr int io = 5;
inline constexpr int too_big = 7;
inline constexpr int no_mem = 12;
inline constexpr int fault = 14;
inline constexpr int busy = 16;
inline constexpr int exists = 17;
inline constexpr int no_dev = 19;
inline constexpr int inval = 22;
inline constexpr int no_space = 28;
inline constexpr int range = 34;
inline constexpr int not_supported = 95;
inline constexpr int shutdown = 108;
} // namespace es::err
