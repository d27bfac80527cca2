// `exitscope run --backend kvm`: the pieces of the backend's steps: the VM, its RAM, the vCPU,
// its CPUID and start state.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>

#include "kvm_internal.hpp"
#include "sdm/segments.hpp"

namespace es::cli {

namespace {

// Real-mode helpers KVM wants placed somewhere (used only without unrestricted guest): just below
// 4 GiB, outside any RAM a guest can have (at most 1 GiB), clear of the exit zoo's 0xFFFFF000.
constexpr std::uint64_t tss_addr = 0xfffbd000;
constexpr std::uint64_t identity_map_addr = 0xfffbc000;

// <linux/kvm.h> of Linux 6.1 declares flexible arrays with __DECLARE_FLEX_ARRAY, which in C++
// adds an empty struct (1 byte): sizeof(kvm_cpuid2) becomes 12, not 8, and so do the ioctl
// numbers built from it (KVM answers EINVAL). Hence these layouts of the fixed parts, as in C.
struct cpuid2_head {
    std::uint32_t nent;
    std::uint32_t padding;
};
static_assert(sizeof(cpuid2_head) == 8 && sizeof(kvm_cpuid_entry2) == 40);
constexpr unsigned long ioc_get_supported_cpuid = _IOWR(KVMIO, 0x05, cpuid2_head);
constexpr unsigned long ioc_set_cpuid2 = _IOW(KVMIO, 0x90, cpuid2_head);

std::uint8_t bit(std::uint32_t access, std::uint32_t mask) {
    return (access & mask) ? 1 : 0;
}

} // namespace

std::optional<std::vector<kvm_cpuid_entry2>> kvm::supported_cpuid(int kvm_fd) {
    for (std::uint32_t n = 64; n <= 4096; n *= 2) {
        std::vector<std::uint8_t> buf(sizeof(cpuid2_head) + n * sizeof(kvm_cpuid_entry2));
        auto* c = reinterpret_cast<cpuid2_head*>(buf.data());
        c->nent = n;
        if (ioctl(kvm_fd, ioc_get_supported_cpuid, c) < 0) {
            if (errno == E2BIG)
                continue;
            const int e = errno;
            report_failure(kvm::tag, "reading KVM's supported CPUID (KVM_GET_SUPPORTED_CPUID)", e,
                           kvm::errno_advice(e));
            return std::nullopt;
        }
        std::vector<kvm_cpuid_entry2> out(c->nent);
        std::memcpy(out.data(), buf.data() + sizeof(cpuid2_head), c->nent * sizeof out[0]);
        return out;
    }
    std::fprintf(stderr, "%s: KVM_GET_SUPPORTED_CPUID wants more than 4096 entries\n", kvm::tag);
    return std::nullopt;
}

bool kvm::set_cpuid(int vcpu, const std::vector<kvm_cpuid_entry2>& entries) {
    std::vector<std::uint8_t> buf(sizeof(cpuid2_head) + entries.size() * sizeof(kvm_cpuid_entry2));
    auto* c = reinterpret_cast<cpuid2_head*>(buf.data());
    c->nent = static_cast<std::uint32_t>(entries.size());
    std::memcpy(buf.data() + sizeof(cpuid2_head), entries.data(),
                entries.size() * sizeof(kvm_cpuid_entry2));
    return checked_ioctl(vcpu, ioc_set_cpuid2, c, "setting the guest's CPUID (KVM_SET_CPUID2)", tag,
                         errno_advice) == 0;
}

// /dev/kvm at the right API version, and an empty VM.
bool kvm::create_vm(kvm::machine& m) {
    m.kvm = open_device(kvm_node);
    if (!m.kvm.valid())
        return false;
    const int api = ioctl(m.kvm.get(), KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        std::fprintf(stderr, "%s: /dev/kvm speaks API version %d, this CLI needs %d\n", kvm::tag,
                     api, KVM_API_VERSION);
        return false;
    }
    m.vm = fd_handle(checked_ioctl(m.kvm.get(), KVM_CREATE_VM, nullptr, "creating the KVM VM", tag,
                                   errno_advice));
    if (!m.vm.valid())
        return false;
    // Ignored by KVM with unrestricted guest (EPT): then nothing is mapped there.
    ioctl(m.vm.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(tss_addr));
    std::uint64_t idmap = identity_map_addr;
    ioctl(m.vm.get(), KVM_SET_IDENTITY_MAP_ADDR, &idmap);
    return true;
}

bool kvm::map_ram(std::uint64_t mem_bytes, machine& m) {
    m.ram.reset(mmap(nullptr, mem_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
                mem_bytes);
    if (!m.ram.valid()) {
        std::fprintf(stderr, "%s: cannot map %llu bytes of guest RAM: %s (lower --mem)\n", kvm::tag,
                     static_cast<unsigned long long>(mem_bytes), std::strerror(errno));
        return false;
    }
    kvm_userspace_memory_region region{};
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = mem_bytes;
    region.userspace_addr = reinterpret_cast<std::uintptr_t>(m.ram.bytes());
    return checked_ioctl(m.vm.get(), KVM_SET_USER_MEMORY_REGION, &region, "mapping guest RAM", tag,
                         errno_advice) == 0;
}

bool kvm::create_vcpu(kvm::machine& m) {
    auto v = std::make_unique<vcpu>();
    v->index = static_cast<std::uint32_t>(m.vcpus.size());
    const std::string what = "creating vCPU " + std::to_string(v->index);
    v->fd = fd_handle(checked_ioctl(m.vm.get(), KVM_CREATE_VCPU,
                                    reinterpret_cast<void*>(static_cast<unsigned long>(v->index)),
                                    what.c_str(), tag, errno_advice));
    if (!v->fd.valid())
        return false;
    const int run_size = ioctl(m.kvm.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < static_cast<int>(sizeof(kvm_run))) {
        std::fprintf(stderr, "%s: KVM_GET_VCPU_MMAP_SIZE failed: %s\n", kvm::tag,
                     std::strerror(errno));
        return false;
    }
    const auto len = static_cast<std::size_t>(run_size);
    v->run_map.reset(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd.get(), 0), len);
    if (!v->run_map.valid()) {
        std::fprintf(stderr, "%s: cannot map vCPU %u's kvm_run: %s\n", kvm::tag, v->index,
                     std::strerror(errno));
        return false;
    }
    v->stats = fd_handle(ioctl(v->fd.get(), KVM_GET_STATS_FD, 0));
    m.vcpus.push_back(std::move(v));
    return true;
}

bool kvm::set_start_state(const es::guest_start_state& g, const vcpu& v) {
    kvm_sregs sregs{};
    if (checked_ioctl(v.fd.get(), KVM_GET_SREGS, &sregs, "reading the vCPU's special registers",
                      tag, errno_advice) < 0)
        return false;
    fill_kvm_sregs(g, sregs);
    if (checked_ioctl(v.fd.get(), KVM_SET_SREGS, &sregs, "setting the start state (sregs)", tag,
                      errno_advice) < 0)
        return false;
    kvm_regs regs{};
    fill_kvm_regs(g, regs);
    return checked_ioctl(v.fd.get(), KVM_SET_REGS, &regs, "setting the start state (regs)", tag,
                         errno_advice) == 0;
}

std::string kvm::errno_advice(int e) {
    switch (e) {
    case EBUSY:
        return "busy: another hypervisor holds VMX (an Exitscope VM, or exitscope.ko loaded by a "
               "version that keeps VMX on while loaded: close its VMs or rmmod exitscope)";
    case EOPNOTSUPP:
    case ENODEV:
        return "KVM cannot run VMs on this CPU (no VMX/SVM, or it is disabled)";
    default:
        return cli::errno_advice(e);
    }
}

kvm_segment to_kvm_segment(const es::segment_state& s) {
    namespace ar = sdm::segment_ar;
    kvm_segment k{};
    k.base = s.base;
    k.limit = s.limit;
    k.selector = s.selector;
    k.type = static_cast<std::uint8_t>(s.access & ar::type_mask);
    k.s = bit(s.access, ar::code_or_data);
    k.dpl = static_cast<std::uint8_t>((s.access >> ar::dpl_shift) & ar::dpl_mask);
    k.present = bit(s.access, ar::present);
    k.avl = bit(s.access, ar::available);
    k.l = bit(s.access, ar::long_mode);
    k.db = bit(s.access, ar::big);
    k.g = bit(s.access, ar::granular);
    k.unusable = bit(s.access, ar::unusable);
    return k;
}

void fill_kvm_sregs(const es::guest_start_state& g, kvm_sregs& s) {
    s.cs = to_kvm_segment(g.cs);
    s.ds = to_kvm_segment(g.ds);
    s.es = to_kvm_segment(g.es);
    s.fs = to_kvm_segment(g.fs);
    s.gs = to_kvm_segment(g.gs);
    s.ss = to_kvm_segment(g.ss);
    s.tr = to_kvm_segment(g.tr);
    s.ldt = to_kvm_segment(g.ldtr);
    s.gdt = kvm_dtable{g.gdtr_base, static_cast<std::uint16_t>(g.gdtr_limit), {0, 0, 0}};
    s.idt = kvm_dtable{g.idtr_base, static_cast<std::uint16_t>(g.idtr_limit), {0, 0, 0}};
    s.cr0 = g.cr0_shadow;
    s.cr2 = 0;
    s.cr3 = g.cr3;
    s.cr4 = g.cr4_shadow;
    s.cr8 = 0;
    s.efer = g.efer;
}

void fill_kvm_regs(const es::guest_start_state& g, kvm_regs& r) {
    r = kvm_regs{};
    r.rip = g.rip;
    r.rsp = g.rsp;
    r.rflags = g.rflags;
    r.rsi = g.rsi;
}

} // namespace es::cli
