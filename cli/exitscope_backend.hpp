// The Exitscope backend's pure parts (exitscope_backend.cpp): how /dev/exitscope's answers read
// for the run flow. Unit-tested on the host.
#pragma once

#include <cstdint>
#include <string>

#include "exitscope/abi.h"
#include "stops.hpp"

namespace es::cli {

// How ES_VM_RUN stopped, as a stop record: the exit reason, qualification and VM-instruction
// error go into `detail` where the summary names them.
stop_record exitscope_stop_record(const es_run& r);

// The summary's tally: "5 exits, 1234 cycles in the hypervisor".
std::string exitscope_counts(std::uint64_t exits, std::uint64_t cycles);

// The advice for a failed ES_IOC_CREATE_VM and ES_VM_SET_STATE: errno_advice, but for what
// these ioctls mean by EOPNOTSUPP (the CPU lacks a usable EPT or the EFER controls; the CPU
// lacks unrestricted guest; a shadow-paging VM runs long-mode and Linux guests only).
std::string create_vm_advice(int e);
std::string set_state_advice(int e);
std::string shadow_set_state_advice(int e);

} // namespace es::cli
