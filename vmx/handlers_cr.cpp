// Control- and debug-register accesses the VMCS masks trap (SDM "Exit Qualification for
// Control-Register Accesses" and "... for MOV DR").
#include "core.hpp"
#include "efer_switch.hpp"
#include "exit_handlers.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/exit_qualification.hpp"
#include "sdm/msrs.hpp"
#include "sdm/segments.hpp"
#include "sdm/vmx_controls.hpp"
#include "shadow_mmu.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

namespace {

using f = sdm::vmcs_field;

// Guest writes CR0 with a bit we own (NE, or a fixed bit): keep what it wrote in the shadow and
// the hardware value legal. A change of CR0.PG in that same write switches IA-32e mode, which
// the processor would have done itself had the write not exited.
exit_action write_cr0(exit_context& ctx, std::uint64_t value) {
    if ((value >> 32) || ((value & sdm::cr0::pg) && !(value & sdm::cr0::pe)) ||
        ((value & sdm::cr0::nw) && !(value & sdm::cr0::cd)))
        return inject_gp(ctx);
    // Without unrestricted guest VMX cannot run a guest with paging or protection off: turning
    // either off is refused (#GP) as on a CPU that cannot, instead of silently kept on.
    // A shadow-paging VM runs its guest with paging on and CR0.WP = 1 whatever the guest's
    // values (mmu/shadow_entry.hpp); it has no unrestricted guest either.
    const bool shadow = ctx.vm.shadow_paging;
    if ((!runs_unpaged_modes(core.caps) || shadow) && (~value & (sdm::cr0::pe | sdm::cr0::pg)))
        return inject_gp(ctx);
    const std::uint64_t old = hw::vmread(f::guest_cr0);
    std::uint64_t efer = guest_efer(ctx.vcpu);
    std::uint64_t entry = hw::vmread(f::entry_controls);
    const bool paging_on = (value & sdm::cr0::pg) && !(old & sdm::cr0::pg);
    const bool paging_off = !(value & sdm::cr0::pg) && (old & sdm::cr0::pg);
    if (paging_on && (efer & sdm::efer::lme)) {
        if (!(hw::vmread(f::guest_cr4) & sdm::cr4::pae))
            return inject_gp(ctx);
        efer |= sdm::efer::lma;
        entry |= sdm::entry_ctl::ia32e_mode_guest;
    } else if (paging_off && (efer & sdm::efer::lma)) {
        // IA-32e mode is left from compatibility mode only: clearing PG in 64-bit code is #GP
        // (SDM 325462-080US Vol. 3A, "Switching Out of IA-32e Mode Operation").
        if (hw::vmread(f::guest_cs_access_rights) & sdm::segment_ar::long_mode)
            return inject_gp(ctx);
        efer &= ~sdm::efer::lma;
        entry &= ~sdm::entry_ctl::ia32e_mode_guest;
    }
    set_guest_efer(ctx.vcpu, efer);
    hw::vmwrite(f::entry_controls, entry);
    const std::uint64_t old_shadow = hw::vmread(f::cr0_read_shadow);
    hw::vmwrite(f::cr0_read_shadow, value);
    hw::vmwrite(f::guest_cr0,
                (value | cr0_guest_fixed1_bits(core.caps) | (shadow ? shadow_cr0_bits : 0)) &
                    cr0_guest_allowed_bits(core.caps));
    // WP decides the rights of supervisor writes, hence of the shadow entries.
    if (shadow && ((old_shadow ^ value) & sdm::cr0::wp))
        shadow_start_over(ctx.vcpu);
    return exit_action::skip;
}

// CR4: VMXE and SMXE belong to the host, and CET would share the host's CET state (the guest's
// CPUID shows none of them), so setting them is #GP; long mode cannot drop PAE.
//
// Shadow paging: what the virtual TLB does not model (PCIDs, protection keys, 5-level paging,
// SMEP, SMAP; CPUID hides them) is #GP too. The hardware runs without PGE (shadow entries are
// flushed on every CR3 write anyway), and any write starts the shadow tables over: PGE, PSE and
// PAE toggles flush the TLB on hardware.
exit_action write_cr4(exit_context& ctx, std::uint64_t value) {
    const bool lma = (guest_efer(ctx.vcpu) & sdm::efer::lma) != 0;
    const bool shadow = ctx.vm.shadow_paging;
    if ((value & (sdm::cr4::vmxe | sdm::cr4::smxe | sdm::cr4::cet)) ||
        (value & ~cr4_guest_allowed_bits(core.caps)) || (lma && !(value & sdm::cr4::pae)) ||
        (shadow && (value & shadow_unmodelled_cr4_bits)))
        return inject_gp(ctx);
    hw::vmwrite(f::cr4_read_shadow, value);
    hw::vmwrite(f::guest_cr4,
                (value | cr4_guest_fixed1_bits(core.caps)) & ~(shadow ? sdm::cr4::pge : 0));
    if (shadow)
        shadow_start_over(ctx.vcpu);
    return exit_action::skip;
}

} // namespace

exit_action cr_access(exit_context& ctx) {
    const auto q = sdm::decode_cr_access(hw::vmread(f::exit_qualification));
    if (q.type == sdm::cr_access_type::to_cr) {
        const std::uint64_t value = read_gpr(ctx.vcpu, q.gpr);
        switch (q.cr) {
        case 0:
            return write_cr0(ctx, value);
        case 3: // CR3-load exiting: shadow paging only
            if (ctx.vm.shadow_paging)
                return shadow_write_cr3(ctx, value);
            return unexpected(ctx);
        case 4:
            return write_cr4(ctx, value);
        case 8: // the host's TPR is not the guest's: writes are dropped
            return exit_action::skip;
        default:
            return unexpected(ctx);
        }
    }
    if (q.type == sdm::cr_access_type::from_cr && q.cr == 3 && ctx.vm.shadow_paging) {
        write_gpr(ctx.vcpu, q.gpr, shadow_read_cr3(ctx));
        return exit_action::skip;
    }
    if (q.type == sdm::cr_access_type::from_cr && q.cr == 8) {
        write_gpr(ctx.vcpu, q.gpr, 0);
        return exit_action::skip;
    }
    return unexpected(ctx);
}

// Debug registers are host state (VMX switches only DR7): reads see reset values, writes are
// dropped.
exit_action mov_dr(exit_context& ctx) {
    const auto q = sdm::decode_mov_dr(hw::vmread(f::exit_qualification));
    if (q.from_dr)
        write_gpr(ctx.vcpu, q.gpr, q.dr == 6 ? sdm::dr6_reset : q.dr == 7 ? sdm::dr7_reset : 0);
    return exit_action::skip;
}

} // namespace es::handlers
