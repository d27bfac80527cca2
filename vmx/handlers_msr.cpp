// RDMSR, WRMSR and XSETBV. The MSR bitmap traps every MSR; the guest owns only EFER's LME and NXE,
// everything else is #GP, so no guest value ever reaches a host MSR.
#include "core.hpp"
#include "exit_handlers.hpp"
#include "sdm/msrs.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

namespace {

using f = sdm::vmcs_field;

constexpr std::uint64_t guest_writable_efer = sdm::efer::lme | sdm::efer::nxe;

} // namespace

exit_action rdmsr(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    if (static_cast<std::uint32_t>(vm.regs.rcx) != sdm::to_number(sdm::msr::efer))
        return inject_gp(ctx);
    const std::uint64_t v = hw::vmread(f::guest_efer);
    vm.regs.rax = static_cast<std::uint32_t>(v);
    vm.regs.rdx = v >> 32;
    return exit_action::skip;
}

exit_action wrmsr(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    if (static_cast<std::uint32_t>(vm.regs.rcx) != sdm::to_number(sdm::msr::efer))
        return inject_gp(ctx);
    const std::uint64_t v = (vm.regs.rdx << 32) | static_cast<std::uint32_t>(vm.regs.rax);
    const std::uint64_t cur = hw::vmread(f::guest_efer);
    // LMA is read-only; LME may not change while paging is on ("IA32_EFER MSR").
    const std::uint64_t wanted = v & ~sdm::efer::lma;
    if (wanted & ~guest_writable_efer)
        return inject_gp(ctx);
    if ((cur & sdm::efer::lma) != 0 && !(wanted & sdm::efer::lme))
        return inject_gp(ctx);
    hw::vmwrite(f::guest_efer, wanted | (cur & sdm::efer::lma));
    return exit_action::skip;
}

// XSETBV always exits. A valid XCR0 has x87 set, AVX only with SSE, and only features the host
// enabled ("XSETBV"); anything else is #GP. The hardware XCR0 stays the host's (a superset), so
// the guest's value is kept for its own reference only.
exit_action xsetbv(exit_context& ctx) {
    es_vm& vm = ctx.vm;
    const std::uint64_t value = (vm.regs.rdx << 32) | static_cast<std::uint32_t>(vm.regs.rax);
    constexpr std::uint64_t x87 = 1, sse = 2, avx = 4;
    if (static_cast<std::uint32_t>(vm.regs.rcx) != 0 || !(value & x87) ||
        ((value & avx) && !(value & sse)) || (value & ~core.host_xcr0))
        return inject_gp(ctx);
    vm.guest_xcr0 = value;
    return exit_action::skip;
}

} // namespace es::handlers
