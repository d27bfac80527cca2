// The stop fields of es_run (stop_reporting.hpp).
#include "stop_reporting.hpp"

#include "pure/guest_modes.hpp"
#include "sdm/segments.hpp"
#include "sdm/vmx_controls.hpp"
#include "vmx_ops.hpp"

namespace es {

namespace {

using f = sdm::vmcs_field;

// The entry failed because the guest's RIP is one no instruction can run at: the last emulated
// instruction ended at the top of the guest's address space (the hardware itself would fault
// fetching the next one).
bool rip_left_address_space() {
    const bool code64 = (hw::vmread(f::entry_controls) & sdm::entry_ctl::ia32e_mode_guest) &&
                        (hw::vmread(f::guest_cs_access_rights) & sdm::segment_ar::long_mode);
    return !guest_rip_enterable(hw::vmread(f::guest_rip), code64);
}

} // namespace

void report_entry_failure(es_run& out, std::uint32_t raw) {
    out.stop = ES_STOP_ENTRY_FAILED;
    out.exit_reason = raw;
    out.vm_instruction_error = static_cast<std::uint32_t>(hw::vmread(f::vm_instruction_error));
    out.qualification = hw::vmread(f::exit_qualification);
    out.rip = hw::vmread(f::guest_rip);
}

// What user space learns of the exit that stopped the run.
void report_stop(es_run& out, const stop_report& stop, std::uint32_t raw) {
    if (stop.stop == ES_STOP_ENTRY_FAILED) {
        report_entry_failure(out, raw);
        if (rip_left_address_space())
            out.stop = ES_STOP_RIP_WRAP;
        return;
    }
    // A run that ends on HLT, an exit request or a full console continues after that
    // instruction next time.
    if (stop.stop == ES_STOP_HALTED || stop.stop == ES_STOP_EXIT_REQUEST ||
        stop.stop == ES_STOP_CONSOLE_FULL)
        hw::vmwrite(f::guest_rip,
                    hw::vmread(f::guest_rip) + hw::vmread(f::exit_instruction_length));
    out.stop = stop.stop;
    out.exit_reason = raw;
    out.exit_code = stop.exit_code;
    out.gpa = stop.gpa;
    out.qualification = hw::vmread(f::exit_qualification);
    out.rip = hw::vmread(f::guest_rip);
}

} // namespace es
