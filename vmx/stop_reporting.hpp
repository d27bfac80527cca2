// What user space learns of the exit that ended a run (es_run's stop fields), filled in by the
// run loop (run_loop.cpp) while the VMCS is still current.
#pragma once

#include <cstdint>

#include "exitscope/abi.h"
#include "vcpu.hpp"

namespace es {

// A VM entry that failed (VMLAUNCH/VMRESUME fell through, or the exit reason's bit 31): the
// VM-instruction error and the guest's RIP. `raw` is the exit-reason field (0 when the entry
// instruction itself failed).
void report_entry_failure(es_run& out, std::uint32_t raw);

// The stop a handler asked for (`stop`), at the exit with reason field `raw`: its status, code,
// gpa, qualification and RIP. An entry failure at a RIP no instruction can run at becomes
// ES_STOP_RIP_WRAP; a run that ends on HLT, an exit request or a full console continues after
// that instruction next time.
void report_stop(es_run& out, const stop_report& stop, std::uint32_t raw);

} // namespace es
