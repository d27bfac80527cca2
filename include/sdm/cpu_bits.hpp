// Control-register and RFLAGS bits, and CPUID feature bits Exitscope tests or sets.
//
// Source: Intel SDM, Volume 3, "Control Registers" and "EFLAGS Register", and Volume 2, CPUID
// (order number 325462-080US, June 2023).
#pragma once

#include <cstdint>

namespace sdm {

namespace cr0 {
inline constexpr std::uint64_t pe = 1ull << 0;
inline constexpr std::uint64_t mp = 1ull << 1;
inline constexpr std::uint64_t et = 1ull << 4;
inline constexpr std::uint64_t ne = 1ull << 5;
inline constexpr std::uint64_t wp = 1ull << 16;
inline constexpr std::uint64_t nw = 1ull << 29;
inline constexpr std::uint64_t cd = 1ull << 30;
inline constexpr std::uint64_t pg = 1ull << 31;
} // namespace cr0

namespace cr4 {
inline constexpr std::uint64_t pse = 1ull << 4;
inline constexpr std::uint64_t pae = 1ull << 5;
inline constexpr std::uint64_t pge = 1ull << 7;
inline constexpr std::uint64_t osfxsr = 1ull << 9;
inline constexpr std::uint64_t osxmmexcpt = 1ull << 10;
inline constexpr std::uint64_t vmxe = 1ull << 13;
inline constexpr std::uint64_t la57 = 1ull << 12;
inline constexpr std::uint64_t smxe = 1ull << 14;
inline constexpr std::uint64_t pcide = 1ull << 17;
inline constexpr std::uint64_t osxsave = 1ull << 18;
inline constexpr std::uint64_t smep = 1ull << 20;
inline constexpr std::uint64_t smap = 1ull << 21;
inline constexpr std::uint64_t pke = 1ull << 22;
inline constexpr std::uint64_t cet = 1ull << 23;
} // namespace cr4

namespace rflags {
inline constexpr std::uint64_t fixed1 = 1ull << 1; // reserved, always 1
inline constexpr std::uint64_t tf = 1ull << 8;
inline constexpr std::uint64_t intf = 1ull << 9;
inline constexpr std::uint64_t ac = 1ull << 18;
inline constexpr std::uint64_t vm = 1ull << 17;
} // namespace rflags

// CPUID.1:ECX ("CPUID", Feature Information).
namespace cpuid1_ecx {
inline constexpr std::uint32_t dtes64 = 1u << 2;
inline constexpr std::uint32_t monitor = 1u << 3;
inline constexpr std::uint32_t ds_cpl = 1u << 4;
inline constexpr std::uint32_t vmx = 1u << 5;
inline constexpr std::uint32_t smx = 1u << 6;
inline constexpr std::uint32_t est = 1u << 7;
inline constexpr std::uint32_t tm2 = 1u << 8;
inline constexpr std::uint32_t xtpr = 1u << 14;
inline constexpr std::uint32_t pcid = 1u << 17;
inline constexpr std::uint32_t pdcm = 1u << 15; // IA32_PERF_CAPABILITIES
inline constexpr std::uint32_t x2apic = 1u << 21;
inline constexpr std::uint32_t tsc_deadline = 1u << 24;
inline constexpr std::uint32_t xsave = 1u << 26;
inline constexpr std::uint32_t osxsave = 1u << 27;
inline constexpr std::uint32_t hypervisor = 1u << 31;
} // namespace cpuid1_ecx

// CPUID.1:EDX.
namespace cpuid1_edx {
inline constexpr std::uint32_t fpu = 1u << 0;
inline constexpr std::uint32_t mce = 1u << 7;
inline constexpr std::uint32_t apic = 1u << 9;
inline constexpr std::uint32_t mtrr = 1u << 12;
inline constexpr std::uint32_t mca = 1u << 14;
inline constexpr std::uint32_t ds = 1u << 21;   // debug store
inline constexpr std::uint32_t acpi = 1u << 22; // thermal monitor and clock control MSRs
inline constexpr std::uint32_t htt = 1u << 28;
inline constexpr std::uint32_t tm = 1u << 29;
inline constexpr std::uint32_t pbe = 1u << 31;
} // namespace cpuid1_edx

// CPUID.(EAX=7,ECX=0):EBX.
namespace cpuid7_ebx {
inline constexpr std::uint32_t fsgsbase = 1u << 0;
inline constexpr std::uint32_t tsc_adjust = 1u << 1;
inline constexpr std::uint32_t sgx = 1u << 2;
inline constexpr std::uint32_t hle = 1u << 4;
inline constexpr std::uint32_t smep = 1u << 7;
inline constexpr std::uint32_t invpcid = 1u << 10;
inline constexpr std::uint32_t rtm = 1u << 11;
inline constexpr std::uint32_t rdt_monitoring = 1u << 12;
inline constexpr std::uint32_t mpx = 1u << 14;
inline constexpr std::uint32_t rdt_allocation = 1u << 15;
inline constexpr std::uint32_t smap = 1u << 20;
inline constexpr std::uint32_t intel_pt = 1u << 25;
} // namespace cpuid7_ebx

// CPUID.(EAX=7,ECX=0):ECX.
namespace cpuid7_ecx {
inline constexpr std::uint32_t pku = 1u << 3;
inline constexpr std::uint32_t ospke = 1u << 4;
inline constexpr std::uint32_t waitpkg = 1u << 5;
inline constexpr std::uint32_t cet_ss = 1u << 7; // CET shadow stacks
inline constexpr std::uint32_t la57 = 1u << 16;
inline constexpr std::uint32_t sgx_lc = 1u << 30;
} // namespace cpuid7_ecx

// CPUID.(EAX=7,ECX=0):EDX.
namespace cpuid7_edx {
inline constexpr std::uint32_t cet_ibt = 1u << 20; // CET indirect-branch tracking
} // namespace cpuid7_edx

// CPUID.(EAX=0DH,ECX=1):EAX.
namespace cpuid_d1_eax {
inline constexpr std::uint32_t xsaves = 1u << 3;
} // namespace cpuid_d1_eax

// CPUID.80000001H:EDX.
namespace cpuid_ext1_edx {
inline constexpr std::uint32_t page_1gb = 1u << 26; // 1 GiB pages (PS in a PDPTE)
inline constexpr std::uint32_t rdtscp = 1u << 27;
} // namespace cpuid_ext1_edx

// XCR0, the XSAVE feature mask XSETBV writes ("Extended Control Registers (Including XCR0)").
namespace xcr0 {
inline constexpr std::uint64_t x87 = 1u << 0;
inline constexpr std::uint64_t sse = 1u << 1;
inline constexpr std::uint64_t avx = 1u << 2;
} // namespace xcr0

// Exception vectors Exitscope injects or intercepts.
namespace vector {
inline constexpr std::uint8_t ud = 6;
inline constexpr std::uint8_t gp = 13;
inline constexpr std::uint8_t pf = 14;
inline constexpr std::uint8_t nmi = 2;
} // namespace vector

} // namespace sdm
