// `exitscope run --backend kvm`: KVM's binary statistics of the vCPU (KVM_GET_STATS_FD), its
// exit names, and the summary's tally.
#include <cstring>
#include <unistd.h>

#include "kvm_internal.hpp"

namespace es::cli {

namespace {

// struct kvm_stats_desc without its name: flags, exponent, size, offset, bucket_size.
constexpr std::size_t stats_desc_fixed = 16;
constexpr std::size_t desc_size_at = 6, desc_offset_at = 8;
// The statistics file is a few KiB; read no more than this.
constexpr std::size_t stats_read_cap = 1u << 20, stats_read_chunk = 4096;

template <typename T> T load_le(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

} // namespace

std::vector<kvm_stat> kvm::read_stats(int stats_fd) {
    std::vector<kvm_stat> out;
    if (stats_fd < 0)
        return out;
    std::vector<std::uint8_t> buf;
    while (buf.size() < stats_read_cap) {
        const std::size_t have = buf.size();
        buf.resize(have + stats_read_chunk);
        const ssize_t n =
            pread(stats_fd, buf.data() + have, stats_read_chunk, static_cast<off_t>(have));
        if (n <= 0) {
            buf.resize(have);
            break;
        }
        buf.resize(have + static_cast<std::size_t>(n));
    }
    if (!parse_kvm_stats(buf.data(), buf.size(), out))
        out.clear();
    return out;
}

std::vector<kvm_stat> kvm::read_all_stats(const machine& m) {
    std::vector<kvm_stat> sum;
    for (const auto& v : m.vcpus) {
        const std::vector<kvm_stat> one = read_stats(v->stats.get());
        if (sum.empty()) {
            sum = one;
            continue;
        }
        for (kvm_stat& s : sum)
            for (const kvm_stat& o : one)
                if (o.name == s.name) {
                    s.value += o.value;
                    break;
                }
    }
    return sum;
}

bool parse_kvm_stats(const std::uint8_t* data, std::size_t len, std::vector<kvm_stat>& out) {
    out.clear();
    if (!data || len < sizeof(kvm_stats_header))
        return false;
    const auto h = load_le<kvm_stats_header>(data);
    const std::uint64_t desc_size = stats_desc_fixed + std::uint64_t{h.name_size};
    if (h.name_size == 0 || h.desc_offset > len ||
        std::uint64_t{h.num_desc} * desc_size > len - h.desc_offset)
        return false;
    for (std::uint32_t i = 0; i < h.num_desc; ++i) {
        const std::uint8_t* d = data + h.desc_offset + i * desc_size;
        const auto size = load_le<std::uint16_t>(d + desc_size_at);
        const auto offset = load_le<std::uint32_t>(d + desc_offset_at);
        const char* name = reinterpret_cast<const char*>(d + stats_desc_fixed);
        const std::size_t name_len = strnlen(name, h.name_size);
        const std::uint64_t at = std::uint64_t{h.data_offset} + offset;
        if (at > len || std::uint64_t{size} * 8 > len - at)
            return false;
        if (size != 1)
            continue; // histograms
        out.push_back({std::string(name, name_len), load_le<std::uint64_t>(data + at)});
    }
    return true;
}

std::string format_kvm_stats(const std::vector<kvm_stat>& stats) {
    static const char* const wanted[] = {"exits",      "io_exits",  "halt_exits",
                                         "mmio_exits", "irq_exits", "signal_exits"};
    std::string s;
    for (const char* w : wanted)
        for (const auto& st : stats)
            if (st.name == w) {
                s += (s.empty() ? "" : ", ") + st.name + " " + std::to_string(st.value);
                break;
            }
    return s;
}

std::string format_nonzero_kvm_stats(const std::vector<kvm_stat>& stats) {
    std::string s;
    for (const auto& st : stats)
        if (st.value)
            s += (s.empty() ? "" : ", ") + st.name + " " + std::to_string(st.value);
    return s;
}

std::string kvm_exit_name(std::uint32_t reason) {
    switch (reason) {
    case KVM_EXIT_UNKNOWN:
        return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION:
        return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO:
        return "KVM_EXIT_IO";
    case KVM_EXIT_HYPERCALL:
        return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_DEBUG:
        return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT:
        return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO:
        return "KVM_EXIT_MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        return "KVM_EXIT_IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN:
        return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY:
        return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR:
        return "KVM_EXIT_INTR";
    case KVM_EXIT_INTERNAL_ERROR:
        return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT:
        return "KVM_EXIT_SYSTEM_EVENT";
    case KVM_EXIT_X86_RDMSR:
        return "KVM_EXIT_X86_RDMSR";
    case KVM_EXIT_X86_WRMSR:
        return "KVM_EXIT_X86_WRMSR";
    default:
        return "KVM exit " + std::to_string(reason);
    }
}

std::string kvm_counts(std::uint64_t user_exits, const std::vector<kvm_stat>& stats) {
    const std::string counted = format_kvm_stats(stats);
    return std::to_string(user_exits) + " exits seen by user space" +
           (counted.empty() ? "" : " (KVM counted: " + counted + ")");
}

} // namespace es::cli
