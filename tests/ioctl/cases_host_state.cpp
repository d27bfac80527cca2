// The ioctl matrix: host state the guest's own instructions reach, read back in the VMM thread
// after the run. PKRU: a guest's WRPKRU does not exit, and XSAVE/XRSTOR of the guest's extended
// state under a full mask carries it, so the module must put the VMM's back before returning
// (README, "who owns each piece of CPU state"). Only a host whose kernel enabled protection keys
// (CPUID.(EAX=7,ECX=0):ECX.OSPKE) can run this case: elsewhere it is not added at all.
#include <cpuid.h>

#include "harness.hpp"

namespace ioctl_matrix {

namespace {

// SDM 325462-080US Vol. 1, "Protection Keys": CPUID.(EAX=07H,ECX=0H):ECX.OSPKE [bit 4].
constexpr u32 cpuid7_ecx_ospke = 1u << 4;

bool host_has_ospke() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & cpuid7_ecx_ospke);
}

u32 rdpkru() {
    u32 eax = 0, edx = 0;
    asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0)); // RDPKRU
    return eax;
}

// Long mode: CR4.PKE on (SDM Vol. 3A, "Protection Keys"), then WRPKRU 0x5555555c, cli; hlt.
//   mov rax, cr4; bts eax, 22; mov cr4, rax; xor ecx, ecx; xor edx, edx; mov eax, 0x5555555c;
//   wrpkru; cli; hlt
constexpr std::uint8_t wrpkru_image[] = {0x0F, 0x20, 0xE0, 0x0F, 0xBA, 0xE8, 0x16, 0x0F,
                                         0x22, 0xE0, 0x31, 0xC9, 0x31, 0xD2, 0xB8, 0x5C,
                                         0x55, 0x55, 0x55, 0x0F, 0x01, 0xEF, 0xFA, 0xF4};
constexpr u32 guest_pkru = 0x5555555c;

} // namespace

void matrix::host_state_cases() {
    if (!host_has_ospke())
        return;
    add("vm_run/vmm_pkru_kept", {0}, [this] {
        fd_guard g;
        if (int e = make_guest(dev, vm_mem, wrpkru_image, sizeof wrpkru_image, &g))
            return got{e, {}};
        if (int e = set_state(g.fd, ES_MODE_LONG, image_gpa))
            return got{e, {}};
        const u32 before = rdpkru();
        if (before == guest_pkru)
            return problem("the VMM's PKRU is the guest's marker already");
        es_run r;
        if (int e = run(g.fd, &r))
            return got{e, {}};
        const u32 after = rdpkru();
        if (r.stop != ES_STOP_HALTED)
            return problem("stop " + std::to_string(r.stop) + ", wanted halted (1) after WRPKRU");
        if (after != before)
            return problem("the VMM's PKRU changed from " + std::to_string(before) + " to " +
                           std::to_string(after) + " (the guest wrote " +
                           std::to_string(guest_pkru) + ")");
        return ok();
    });
}

} // namespace ioctl_matrix
