// The layout module/vmenter.S relies on, checked against the C++ definitions: the offsets of
// es_guest_regs it addresses and the VMCS field number it VMWRITEs. Included once, by the run
// loop, the entry stub's caller.
#pragma once

#include <cstdint>

#include "exitscope/boundary.h"
#include "sdm/vmcs_fields.hpp"

namespace es {

// module/vmenter.S addresses es_guest_regs by these offsets, and VMWRITEs HOST_RSP by number.
#define ES_ASSERT_REGS_OFFSET(field, offset)                                                       \
    static_assert(__builtin_offsetof(es_guest_regs, field) == (offset), #offset)
ES_ASSERT_REGS_OFFSET(rax, ES_REGS_RAX);
ES_ASSERT_REGS_OFFSET(rcx, ES_REGS_RCX);
ES_ASSERT_REGS_OFFSET(rdx, ES_REGS_RDX);
ES_ASSERT_REGS_OFFSET(rbx, ES_REGS_RBX);
ES_ASSERT_REGS_OFFSET(rbp, ES_REGS_RBP);
ES_ASSERT_REGS_OFFSET(rsi, ES_REGS_RSI);
ES_ASSERT_REGS_OFFSET(rdi, ES_REGS_RDI);
ES_ASSERT_REGS_OFFSET(r8, ES_REGS_R8);
ES_ASSERT_REGS_OFFSET(r9, ES_REGS_R9);
ES_ASSERT_REGS_OFFSET(r10, ES_REGS_R10);
ES_ASSERT_REGS_OFFSET(r11, ES_REGS_R11);
ES_ASSERT_REGS_OFFSET(r12, ES_REGS_R12);
ES_ASSERT_REGS_OFFSET(r13, ES_REGS_R13);
ES_ASSERT_REGS_OFFSET(r14, ES_REGS_R14);
ES_ASSERT_REGS_OFFSET(r15, ES_REGS_R15);
ES_ASSERT_REGS_OFFSET(cr2, ES_REGS_CR2);
ES_ASSERT_REGS_OFFSET(host_rsp, ES_REGS_HOST_RSP);
#undef ES_ASSERT_REGS_OFFSET
static_assert(static_cast<std::uint32_t>(sdm::vmcs_field::host_rsp) == ES_VMCS_HOST_RSP);

} // namespace es
