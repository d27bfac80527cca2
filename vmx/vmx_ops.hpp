// Thin typed wrappers around the VMX and system instructions the core executes. Kernel only:
// these run in VMX root operation at CPL 0.
#pragma once

#include <cstdint>

#include "sdm/msrs.hpp"
#include "sdm/vmcs_fields.hpp"

namespace es::hw {

// VMX instructions report failure through CF (VMfailInvalid) or ZF (VMfailValid) ("Conventions"
// in the SDM's VMX instruction reference); `setna` captures either.
inline bool vmxon(std::uint64_t phys) {
    bool failed;
    asm volatile("vmxon %1; setna %0" : "=q"(failed) : "m"(phys) : "cc", "memory");
    return !failed;
}

inline void vmxoff() {
    asm volatile("vmxoff" ::: "cc", "memory");
}

inline bool vmclear(std::uint64_t phys) {
    bool failed;
    asm volatile("vmclear %1; setna %0" : "=q"(failed) : "m"(phys) : "cc", "memory");
    return !failed;
}

inline bool vmptrld(std::uint64_t phys) {
    bool failed;
    asm volatile("vmptrld %1; setna %0" : "=q"(failed) : "m"(phys) : "cc", "memory");
    return !failed;
}

inline std::uint64_t vmread(sdm::vmcs_field field) {
    std::uint64_t value;
    asm volatile("vmread %1, %0" : "=rm"(value) : "r"(std::uint64_t{sdm::to_number(field)}) : "cc");
    return value;
}

inline bool vmwrite(sdm::vmcs_field field, std::uint64_t value) {
    bool failed;
    asm volatile("vmwrite %2, %1; setna %0"
                 : "=q"(failed)
                 : "r"(std::uint64_t{sdm::to_number(field)}), "rm"(value)
                 : "cc");
    return !failed;
}

// For the exit path's writes of guest fields that exist on every VMX CPU while its VMCS is
// current: VMWRITE cannot fail there, so no status is taken.
inline void vmwrite_current(sdm::vmcs_field field, std::uint64_t value) {
    asm volatile("vmwrite %1, %0"
                 :
                 : "r"(std::uint64_t{sdm::to_number(field)}), "rm"(value)
                 : "cc");
}

struct invept_descriptor {
    std::uint64_t eptp;
    std::uint64_t reserved;
};

// INVEPT/INVVPID types ("INVEPT" and "INVVPID" instruction references).
inline constexpr std::uint64_t invept_single_context = 1;
inline constexpr std::uint64_t invept_all_context = 2;
inline constexpr std::uint64_t invvpid_single_context = 1;
inline constexpr std::uint64_t invvpid_all_context = 2;

inline void invept(std::uint64_t type, std::uint64_t eptp) {
    invept_descriptor d{eptp, 0};
    asm volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

struct invvpid_descriptor {
    std::uint64_t vpid;
    std::uint64_t address;
};

inline void invvpid(std::uint64_t type, std::uint16_t vpid) {
    invvpid_descriptor d{vpid, 0};
    asm volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

inline std::uint64_t rdmsr(sdm::msr m) {
    std::uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(sdm::to_number(m)));
    return (std::uint64_t{hi} << 32) | lo;
}

// Only for MSRs whose values the caller checked (a faulting WRMSR here would be a host #GP).
inline void wrmsr(sdm::msr m, std::uint64_t v) {
    asm volatile("wrmsr"
                 :
                 : "c"(sdm::to_number(m)), "a"(static_cast<std::uint32_t>(v)),
                   "d"(static_cast<std::uint32_t>(v >> 32))
                 : "memory");
}

inline std::uint64_t read_cr0() {
    std::uint64_t v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

inline std::uint64_t read_cr3() {
    std::uint64_t v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

inline std::uint64_t read_cr4() {
    std::uint64_t v;
    asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

struct descriptor_table {
    std::uint16_t limit;
    std::uint64_t base;
} __attribute__((packed));

inline descriptor_table sgdt() {
    descriptor_table t;
    asm volatile("sgdt %0" : "=m"(t));
    return t;
}

inline descriptor_table sidt() {
    descriptor_table t;
    asm volatile("sidt %0" : "=m"(t));
    return t;
}

inline std::uint16_t read_tr() {
    std::uint16_t v;
    asm volatile("str %0" : "=r"(v));
    return v;
}

#define ES_READ_SEGMENT(name)                                                                      \
    inline std::uint16_t read_##name() {                                                           \
        std::uint16_t v;                                                                           \
        asm volatile("mov %%" #name ", %0" : "=r"(v));                                             \
        return v;                                                                                  \
    }
ES_READ_SEGMENT(cs)
ES_READ_SEGMENT(ss)
#undef ES_READ_SEGMENT

inline std::uint64_t rdtsc() {
    // RDTSC clears the upper halves of RAX and RDX: no zero extension needed.
    std::uint64_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (hi << 32) | lo;
}

// XCR0 ("XSETBV"); valid only in a guest section, where XCR0 is the guest's (es_host_switch).
inline void xsetbv_xcr0(std::uint64_t value) {
    asm volatile("xsetbv"
                 :
                 : "a"(static_cast<std::uint32_t>(value)),
                   "d"(static_cast<std::uint32_t>(value >> 32)), "c"(0u));
}

struct cpuid_result {
    std::uint32_t eax, ebx, ecx, edx;
};

inline cpuid_result cpuid(std::uint32_t leaf, std::uint32_t subleaf) {
    cpuid_result r;
    asm volatile("cpuid"
                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

// The base address a GDT descriptor holds, including the upper half a 64-bit system descriptor
// (TSS) keeps in the next slot ("Segment Descriptors", "TSS Descriptor in 64-bit mode").
inline std::uint64_t gdt_tss_base(std::uint64_t gdt_base, std::uint16_t selector) {
    // The GDT is addressed by its linear base: an integer by nature.
    const auto* d = reinterpret_cast<const std::uint64_t*>( // NOLINT(performance-no-int-to-ptr)
        gdt_base + (selector & ~7u));
    const std::uint64_t lo = d[0];
    std::uint64_t base = ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000);
    base |= (d[1] & 0xffffffff) << 32;
    return base;
}

} // namespace es::hw
