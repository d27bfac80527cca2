// The shadow pool, the guest-RAM view of the guest walk, and starting over.
#include "shadow_mmu.hpp"

#include "core.hpp"
#include "mmu/guest_walk.hpp"
#include "mmu/shadow_tables.hpp"
#include "sdm/cpu_bits.hpp"
#include "vmx_ops.hpp"

namespace es {

static_assert(mmu::guest_ram<vm_guest_ram>);
static_assert(mmu::shadow_pool<shadow_state>);

namespace {

constexpr std::uint32_t extended_leaf1 = 0x80000001;
constexpr std::uint32_t address_sizes_leaf = 0x80000008;
constexpr std::uint32_t page_1gb_bit = 1u << 26; // CPUID.80000001H:EDX.Page1GB
constexpr std::uint8_t default_maxphyaddr = 36;  // without leaf 0x80000008 ("CPUID")

} // namespace

bool alloc_shadow(es_vm& vm) {
    vm.shadow = static_cast<shadow_state*>(es_shim_zalloc(sizeof(shadow_state)));
    if (!vm.shadow)
        return false;
    shadow_state& s = *vm.shadow;
    for (auto& p : s.pages) {
        p.va = es_shim_alloc_page(&p.pa); // zeroed
        if (!p.va)
            return false;
    }
    s.used = 1;
    // Toy guests see the host's leaves 0x80000001 and 0x80000008 unchanged (host_leaves.hpp).
    const std::uint32_t max_ext = hw::cpuid(0x80000000, 0).eax;
    s.page_1gb = max_ext >= extended_leaf1 && (hw::cpuid(extended_leaf1, 0).edx & page_1gb_bit);
    const std::uint32_t reported = max_ext >= address_sizes_leaf
                                       ? hw::cpuid(address_sizes_leaf, 0).eax & 0xff
                                       : default_maxphyaddr;
    // The walk handles 36..52 (mmu/access.hpp); a hypervisor below may report anything.
    s.maxphyaddr = static_cast<std::uint8_t>(
        reported < default_maxphyaddr
            ? default_maxphyaddr
            : (reported > sdm::paging::max_phys_bits ? sdm::paging::max_phys_bits : reported));
    return true;
}

void free_shadow(es_vm& vm) {
    if (!vm.shadow)
        return;
    for (auto& p : vm.shadow->pages)
        if (p.va)
            es_shim_free_page(p.va);
    es_shim_free(vm.shadow);
    vm.shadow = nullptr;
}

namespace {

// The vCPU's TLB entries (INVVPID; without a VPID every VM entry and exit flushes them).
void flush_vcpu_tlb(const es_vcpu& vcpu) {
    if (vcpu.vpid && core.caps.invvpid_single)
        hw::invvpid(hw::invvpid_single_context, vcpu.vpid);
    else if (vcpu.vpid && core.caps.invvpid_all)
        hw::invvpid(hw::invvpid_all_context, 0);
}

} // namespace

void shadow_start_over(es_vcpu& vcpu) {
    mmu::start_over(*vcpu.vm->shadow);
    flush_vcpu_tlb(vcpu);
}

void shadow_new_address_space(es_vcpu& vcpu) {
    mmu::drop_local(*vcpu.vm->shadow);
    flush_vcpu_tlb(vcpu);
}

void shadow_drop_page(es_vcpu& vcpu, std::uint64_t linear) {
    if (!mmu::drop_page(*vcpu.vm->shadow, linear))
        mmu::start_over(*vcpu.vm->shadow);
    flush_vcpu_tlb(vcpu);
}

mmu::paging_context guest_paging_context(const es_vm& vm) {
    using f = sdm::vmcs_field;
    const shadow_state& s = *vm.shadow;
    return mmu::context_of(hw::vmread(f::cr0_read_shadow), hw::vmread(f::cr4_read_shadow),
                           s.guest_nxe ? sdm::efer::nxe : 0, s.maxphyaddr, s.page_1gb);
}

mmu::guest_word vm_guest_ram::read64(std::uint64_t gpa) const {
    if (gpa % 8 || gpa >= vm.mem.bytes)
        return {0, false};
    const auto* p = reinterpret_cast<const std::uint64_t*>(guest_ptr(vm, gpa));
    return {__atomic_load_n(p, __ATOMIC_RELAXED), true};
}

bool vm_guest_ram::cmpxchg64(std::uint64_t gpa, std::uint64_t expected,
                             std::uint64_t desired) const {
    if (gpa % 8 || gpa >= vm.mem.bytes)
        return false;
    auto* p = reinterpret_cast<std::uint64_t*>(guest_ptr(vm, gpa));
    return __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_RELAXED);
}

} // namespace es
