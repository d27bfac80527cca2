// The exits of a shadow-paging VM's virtual TLB (shadow_mmu.hpp): #PF, MOV to and from CR3 and
// INVLPG. A #PF is the guest walk's decision (mmu/shadow_entry.hpp) carried out: a fill, the
// guest's own fault injected, or the run stopped when the guest's tables leave its RAM.
#include "core.hpp"
#include "exit_handlers.hpp"
#include "exitscope/abi.h"
#include "irq_delivery.hpp"
#include "mmu/shadow_entry.hpp"
#include "mmu/shadow_prefetch.hpp"
#include "mmu/shadow_tables.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/segments.hpp"
#include "shadow_mmu.hpp"
#include "vmx_ops.hpp"

namespace es::handlers {

namespace {

using f = sdm::vmcs_field;

constexpr std::uint8_t vector_df = 8;

// Exceptions whose delivery, if it faults, makes a #PF a double fault ("Conditions for
// Generating a Double Fault"): #PF itself and the contributory ones (#DE, #TS, #NP, #SS, #GP).
bool escalates_page_fault(std::uint32_t vectoring) {
    using namespace sdm::interruption;
    if (!(vectoring & valid) || ((vectoring >> type_shift) & type_mask) != type_hardware_exception)
        return false;
    const std::uint32_t v = vectoring & vector_mask;
    return v == sdm::vector::pf || v == 0 || (v >= 10 && v <= 13);
}

bool is_external_interrupt(std::uint32_t vectoring) {
    using namespace sdm::interruption;
    return (vectoring & valid) && ((vectoring >> type_shift) & type_mask) == type_external;
}

void inject_exception(std::uint8_t vector, std::uint32_t error_code) {
    using namespace sdm::interruption;
    hw::vmwrite(f::entry_exception_error_code, error_code);
    hw::vmwrite(f::entry_interruption_info,
                valid | (type_hardware_exception << type_shift) | deliver_error_code | vector);
}

// The guest's own #PF: CR2 (loaded by vmenter.S) and the error code, or #DF when the fault came
// while delivering a #PF or a contributory exception.
exit_action inject_guest_page_fault(exit_context& ctx, const mmu::shadow_fault_decision& d) {
    const auto vectoring = static_cast<std::uint32_t>(hw::vmread(f::idt_vectoring_info));
    if (escalates_page_fault(vectoring)) {
        inject_exception(vector_df, 0);
        return exit_action::resume;
    }
    // The #PF goes in first. An interrupted INT n or exception is raised again when the
    // guest's handler returns to its instruction; an external interrupt, already acknowledged at
    // the board, would be lost: it is requeued (as KVM keeps it in its interrupt queue) and
    // delivered once the guest can take it (irq_delivery.cpp).
    if (is_external_interrupt(vectoring)) {
        ctx.vcpu.irq_requeued = true;
        ctx.vcpu.requeued_vector =
            static_cast<std::uint8_t>(vectoring & sdm::interruption::vector_mask);
    }
    ctx.vcpu.regs.cr2 = d.cr2;
    inject_exception(sdm::vector::pf, d.error_code);
    return exit_action::resume;
}

// Map the guest frame of the walk, never a page outside the VM's RAM (the walk checked only its
// tables: a leaf may name any guest-physical address). A guest large page brings in the rest of
// its 2 MiB region, a guest 4 KiB page its prefetch window (core.shadow_prefetch).
exit_action fill(exit_context& ctx, const mmu::shadow_fault_decision& d, mmu::access a,
                 const mmu::paging_context& c, vm_guest_ram& ram) {
    const std::uint64_t frame = mmu::guest_frame(d.walk);
    if (frame >= ctx.vm.mem.bytes)
        return stop_with(ctx, ES_STOP_EPT_VIOLATION, 0, d.walk.address);
    const std::uint64_t pte =
        mmu::shadow_pte(d.walk, a, c, ctx.vm.mem.pages[frame / ES_PAGE_SIZE].pa);
    const std::uint64_t linear = hw::vmread(f::exit_qualification);
    shadow_state& s = *ctx.vm.shadow;
    std::uint32_t table = mmu::leaf_table(s, linear);
    if (table == mmu::no_table) {
        shadow_start_over(ctx.vcpu); // the pool is full: start over, then there is room
        table = mmu::leaf_table(s, linear);
    }
    mmu::set_leaf(s, table, sdm::paging::table_index(linear, sdm::paging::level::pt), pte);
    const guest_memory& mem = ctx.vm.mem;
    auto host_frame = [&mem](std::uint64_t gpa) {
        return gpa < mem.bytes ? mem.pages[gpa / ES_PAGE_SIZE].pa : mmu::no_frame;
    };
    if (d.walk.level != sdm::paging::level::pt)
        mmu::fill_pieces(s, table, d.walk, c, host_frame);
    else
        mmu::prefetch_neighbours(ram, s, table, linear, d.walk, c, core.shadow_prefetch,
                                 host_frame);
    reinject_interrupted_event();
    return exit_action::resume;
}

} // namespace

exit_action shadow_page_fault(exit_context& ctx) {
    const std::uint64_t linear = hw::vmread(f::exit_qualification);
    const auto error_code = static_cast<std::uint32_t>(hw::vmread(f::exit_interruption_error_code));
    // CPL is SS.DPL ("Guest Register State").
    const std::uint32_t cpl = (static_cast<std::uint32_t>(hw::vmread(f::guest_ss_access_rights)) >>
                               sdm::segment_ar::dpl_shift) &
                              sdm::segment_ar::dpl_mask;
    const bool supervisor_ac = cpl < 3 && (hw::vmread(f::guest_rflags) & sdm::rflags::ac);
    const mmu::paging_context c = guest_paging_context(ctx.vm);
    vm_guest_ram ram{ctx.vm};
    const mmu::shadow_fault_decision d =
        mmu::shadow_page_fault(ram, ctx.vm.shadow->guest_cr3, linear, error_code, supervisor_ac, c);
    switch (d.action) {
    case mmu::shadow_fault_action::fill:
        return fill(ctx, d, mmu::access_of_page_fault(error_code, supervisor_ac), c, ram);
    case mmu::shadow_fault_action::inject_page_fault:
        return inject_guest_page_fault(ctx, d);
    case mmu::shadow_fault_action::inject_general_protection:
        return inject_gp(ctx);
    case mmu::shadow_fault_action::stop_outside_ram:
        // As the EPT mode's EPT violation: the guest reached outside its RAM (here, with a
        // paging structure); `gpa` is the entry that could not be read.
        return stop_with(ctx, ES_STOP_EPT_VIOLATION, 0, d.walk.address);
    case mmu::shadow_fault_action::retry:
        break;
    }
    reinject_interrupted_event();
    return exit_action::resume;
}

// MOV to CR3 (CR4.PCIDE is 0: the guest sees no PCIDs): a new address space, so the non-global
// shadow translations go, as the TLB's would. Bits past MAXPHYADDR are #GP.
exit_action shadow_write_cr3(exit_context& ctx, std::uint64_t value) {
    shadow_state& s = *ctx.vm.shadow;
    if (value >> s.maxphyaddr)
        return inject_gp(ctx);
    s.guest_cr3 = value;
    shadow_new_address_space(ctx.vcpu);
    return exit_action::skip;
}

std::uint64_t shadow_read_cr3(exit_context& ctx) {
    return ctx.vm.shadow->guest_cr3;
}

// INVLPG: the shadow translations of the page holding the address go, global or not (a guest
// 2 MiB page's every 4 KiB piece). The exit qualification is the linear address; a
// non-canonical one makes INVLPG a no-op, and dropping what its bits index is harmless.
exit_action invlpg(exit_context& ctx) {
    if (!ctx.vm.shadow_paging)
        return unexpected(ctx);
    shadow_drop_page(ctx.vcpu, hw::vmread(f::exit_qualification));
    return exit_action::skip;
}

} // namespace es::handlers
