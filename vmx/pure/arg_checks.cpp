// Validation of every ioctl argument, before anything is allocated. Pure: unit-tested and fuzzed
// on the host. Each check returns 0 or a negative errno the README documents.
#include "arg_checks.hpp"

// Declares es_core_check_create (the C glue calls it), so its definition below matches it.
#include "exitscope/boundary.h"
#include "exitscope/errno.hpp"
#include "guest_modes.hpp"

namespace es {

int check_create(const es_vm_create& a) {
    if ((a.flags & ~ES_VM_CREATE_FLAGS) || !reserved_clear(a) || a.reserved0)
        return -err::inval;
    if (a.mem_bytes % ES_PAGE_SIZE)
        return -err::inval;
    if (a.mem_bytes < ES_GUEST_MEM_MIN || a.mem_bytes > ES_GUEST_MEM_MAX)
        return -err::range;
    if (a.vcpus > ES_MAX_VCPUS)
        return -err::range;
    return 0;
}

int check_vcpu_create(const es_vcpu_create& a, std::uint32_t nr_vcpus) {
    if (!reserved_clear(a))
        return -err::inval;
    if (a.index >= nr_vcpus)
        return -err::range;
    return 0;
}

int check_paging_mode(bool shadow_paging, std::uint32_t mode) {
    // The virtual TLB walks 4-level tables only: real and protected mode (paging off) would need
    // an identity shadow map. Long-mode images and Linux guests (64-bit boot protocol) run.
    if (shadow_paging && mode != ES_MODE_LONG && mode != ES_MODE_LINUX64)
        return -err::not_supported;
    return 0;
}

int check_load(const es_vm_load& a, std::uint64_t mem_bytes) {
    if (a.flags || !reserved_clear(a))
        return -err::inval;
    if (a.len == 0)
        return -err::inval;
    // Written so that no sum can overflow.
    if (a.gpa >= mem_bytes || a.len > mem_bytes - a.gpa)
        return -err::no_space;
    if (a.data == 0)
        return -err::fault;
    return 0;
}

int check_state(const es_vcpu_state& a, std::uint64_t mem_bytes) {
    if (!reserved_clear(a))
        return -err::inval;
    if (a.mode > ES_MODE_LINUX64)
        return -err::inval;
    const auto mode = static_cast<guest_mode>(a.mode);
    // The zero page is the Linux entry's only extra input: required there, zero everywhere else.
    if ((mode == guest_mode::linux64) != (a.boot_params != 0))
        return -err::inval;
    if (a.entry >= mem_bytes)
        return -err::no_space;
    if (mode == guest_mode::real && a.entry >= (1u << 20))
        return -err::inval; // real mode reaches the first MiB only
    if (mode == guest_mode::protected32 && (a.entry >> 32 || a.stack >> 32))
        return -err::inval;
    if (mode == guest_mode::long64) {
        // The page tables live in the top 12 KiB; the image must not start inside them.
        if (mem_bytes < long_mode_tables_bytes * 2 || a.entry >= page_tables_base(mem_bytes))
            return -err::no_space;
    }
    if (mode == guest_mode::linux64) {
        // Page tables and GDT take the top ES_LINUX64_HOST_BYTES; entry and zero page lie below.
        if (a.boot_params % ES_PAGE_SIZE)
            return -err::inval;
        if (mem_bytes < ES_LINUX64_HOST_BYTES * 2)
            return -err::no_space;
        const std::uint64_t usable = linux64_host_base(mem_bytes);
        if (a.entry >= usable || a.boot_params >= usable)
            return -err::no_space;
    }
    if (a.stack > mem_bytes)
        return -err::no_space;
    return 0;
}

int check_run(const es_run& a) {
    if (a.flags || !reserved_clear(a))
        return -err::inval;
    if (a.console_cap && !a.console)
        return -err::fault;
    return 0;
}

int check_input(const es_input& a) {
    if (a.flags || a.accepted || !reserved_clear(a) || a.len > ES_INPUT_RING_BYTES)
        return -err::inval;
    if (a.len && !a.data)
        return -err::fault;
    return 0;
}

} // namespace es

extern "C" int es_core_check_create(const es_vm_create* a) {
    return es::check_create(*a);
}
