// What an exit handler gets (the exit's context) and what it returns (what the run loop does next).
#pragma once

#include <cstdint>

#include "vm.hpp"

namespace es {

enum class exit_action : std::uint8_t {
    resume,     // re-enter at the same RIP (an event was injected, or nothing to do)
    skip,       // the instruction is emulated: advance RIP past it, then re-enter
    check_host, // let the host take interrupts, signals and rescheduling first, then re-enter
    stop,       // return to user space with ctx.stop filled in
    idle,       // HLT of a Linux guest: advance RIP, then sleep until es_vcpu::idle_until
};

struct exit_context {
    es_vcpu& vcpu;
    es_vm& vm;            // the vCPU's
    std::uint32_t reason; // basic exit reason
    std::uint32_t cpu;
    stop_report& stop; // a handler that returns exit_action::stop fills it in
};

} // namespace es
