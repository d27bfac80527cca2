// The Exitscope backend: the run flow's steps as ioctls on /dev/exitscope and its VM.
#include "exitscope_backend.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <sys/ioctl.h>
#include <unistd.h>

#include "backend.hpp"
#include "command_util.hpp"
#include "device.hpp"
#include "format.hpp"
#include "reason_names.hpp"
#include "sdm/exit_reasons.hpp"
#include "signals.hpp"
#include "vcpu_threads.hpp"
#include "vmx/pure/capabilities.hpp"

namespace es::cli {

namespace {

// The CPU the module runs on has EPT (the module's capability MSRs); true when it cannot tell,
// so the module's own refusal explains.
bool cpu_has_ept(int dev) {
    es_info info{};
    info.size = sizeof info;
    if (ioctl(dev, ES_IOC_INFO, &info) != 0)
        return true;
    vmx_msrs m{};
    for (int i = 0; i < ES_MSR_COUNT; ++i)
        m.value[i] = info.msr[i];
    return runs_ept_guests(parse_capabilities(m));
}

// The last exits a dying guest's summary is followed by.
constexpr unsigned last_exits_shown = 16;
constexpr std::size_t console_chunk = 4096;

class exitscope_backend final : public backend {
  public:
    const char* tag() const override { return "exitscope"; }
    // The module counts every exit: --max-exits and every mode work.
    bool accepts(const run_options&) override { return true; }
    // The module checks every value itself (and the CLI explains its refusals).
    bool check(const guest_plan&) override { return true; }

    bool create(const guest_plan& p) override {
        dev_ = open_device();
        if (!dev_.valid())
            return false;
        es_vm_create create{};
        create.size = sizeof create;
        create.mem_bytes = p.mem_bytes;
        // Without --paging: EPT where the CPU has it, shadow paging where it does not (Core 2).
        const bool shadow = p.shadow_paging || (!p.paging_given && !cpu_has_ept(dev_.get()));
        create.flags = shadow ? ES_VM_SHADOW_PAGING : 0;
        create.vcpus = p.vcpus;
        shadow_ = shadow;
        vm_ = fd_handle(checked_ioctl(dev_.get(), ES_IOC_CREATE_VM, &create, "creating the VM",
                                      tag(), create_vm_advice));
        if (!vm_.valid())
            return false;
        // Several vCPUs: a descriptor each (a VM of one runs through its own).
        for (std::uint32_t i = 0; p.vcpus > 1 && i < p.vcpus; ++i) {
            es_vcpu_create c{};
            c.size = sizeof c;
            c.index = i;
            vcpus_.emplace_back(
                checked_ioctl(vm_.get(), ES_VM_CREATE_VCPU, &c, "creating a vCPU", tag()));
            if (!vcpus_.back().valid())
                return false;
        }
        return true;
    }

    bool load(const load_segment& s, const char* what) override {
        es_vm_load load{};
        load.size = sizeof load;
        load.gpa = s.gpa;
        load.data = reinterpret_cast<std::uintptr_t>(s.data);
        load.len = s.len;
        return checked_ioctl(vm_.get(), ES_VM_LOAD, &load, what) >= 0;
    }

    bool set_state(const guest_plan& p) override {
        es_vcpu_state state = p.state;
        if (const auto why = explain_state_error(state, p.mem_bytes)) {
            report_failure(tag(), "setting the start state", EINVAL, *why);
            return false;
        }
        // vCPU 0's: the others of a Linux guest start by INIT/SIPI.
        const int fd = vcpus_.empty() ? vm_.get() : vcpus_.front().get();
        const unsigned long request = vcpus_.empty() ? ES_VM_SET_STATE : ES_VCPU_SET_STATE;
        return checked_ioctl(fd, request, &state, "setting the start state", tag(),
                             shadow_ ? shadow_set_state_advice : set_state_advice) >= 0;
    }

    bool run(const guest_plan& p, stop_record& stop) override;

    // ES_VM_INPUT takes what its ring has room for; an error (the VM is gone) takes nothing.
    std::size_t offer_input(const std::uint8_t* bytes, std::size_t n) override {
        es_input a{};
        a.size = sizeof a;
        a.data = reinterpret_cast<std::uintptr_t>(bytes);
        a.len = static_cast<std::uint32_t>(n < ES_INPUT_RING_BYTES ? n : ES_INPUT_RING_BYTES);
        return ioctl(vm_.get(), ES_VM_INPUT, &a) == 0 ? a.accepted : 0;
    }

    std::string counts() override {
        std::string per_vcpu;
        for (std::uint64_t n : vcpu_exits_)
            per_vcpu += (per_vcpu.empty() ? "; vCPU exits " : "+") + std::to_string(n);
        return exitscope_counts(exits_, cycles_) + per_vcpu + "; paging: " + paging_name(shadow_);
    }

    void after_summary(const stop_record& stop) override {
        // The guest died: show how it got there.
        if (!stop.interrupted && find_stop(stop.stop).guest_died)
            print_last_exits(dev_.get(), vm_id_, last_exits_shown);
    }

  private:
    bool run_threads(const guest_plan& p, stop_record& stop);

    fd_handle dev_, vm_;
    std::vector<fd_handle> vcpus_; // with several vCPUs, a descriptor each
    bool shadow_ = false;          // the VM runs under shadow paging
    std::uint64_t exits_ = 0, cycles_ = 0;
    std::vector<std::uint64_t> vcpu_exits_; // with several vCPUs, each one's
    std::uint32_t vm_id_ = 0;
};

// SIGINT/SIGTERM interrupt the run ioctl (the run flow installed the handler, without
// SA_RESTART): the module stops the guest and returns EINTR, and the summary still prints.
bool exitscope_backend::run(const guest_plan& p, stop_record& stop) {
    if (!vcpus_.empty())
        return run_threads(p, stop);
    std::vector<char> console(console_chunk);
    es_run r{};
    for (;;) {
        r = es_run{};
        r.size = sizeof r;
        r.console = reinterpret_cast<std::uintptr_t>(console.data());
        r.console_cap = static_cast<std::uint32_t>(console.size());
        if (p.max_exits)
            r.max_exits = p.max_exits > exits_ ? p.max_exits - exits_ : 1;
        const int rc = checked_ioctl(vm_.get(), ES_VM_RUN, &r, "running the guest");
        const bool eintr = rc < 0 && errno == EINTR;
        if (rc < 0 && !eintr)
            return false;
        if (r.console_len)
            write_console(console.data(), r.console_len, p.console_raw);
        std::fflush(stdout);
        exits_ += r.exits;
        cycles_ += r.cycles;
        vm_id_ = r.vm_id;
        if (eintr || stop_requested) {
            stop = stop_record{};
            stop.interrupted = true;
            stop.rip = r.rip;
            return true;
        }
        if (r.stop != ES_STOP_CONSOLE_FULL)
            break;
    }
    stop = exitscope_stop_record(r);
    return true;
}

// Several vCPUs: a thread each (vcpu_threads.hpp); the summary counts every vCPU's exits.
bool exitscope_backend::run_threads(const guest_plan& p, stop_record& stop) {
    std::vector<int> fds;
    for (const fd_handle& v : vcpus_)
        fds.push_back(v.get());
    const vcpu_runs runs = run_vcpu_threads(fds, p.max_exits, p.console_raw);
    exits_ = runs.exits;
    cycles_ = runs.cycles;
    vcpu_exits_ = runs.vcpu_exits;
    vm_id_ = runs.last.front().vm_id;
    if (!runs.ok)
        return false;
    if (runs.interrupted) {
        stop = stop_record{};
        stop.interrupted = true;
        stop.rip = runs.last.front().rip;
        return true;
    }
    stop = exitscope_stop_record(runs.deciding());
    return true;
}

} // namespace

stop_record exitscope_stop_record(const es_run& r) {
    stop_record s;
    s.stop = r.stop;
    s.exit_code = r.exit_code;
    s.gpa = r.gpa;
    s.rip = r.rip;
    const std::string qualification = ", qualification " + hex(r.qualification);
    switch (r.stop) {
    case ES_STOP_HALTED:
    case ES_STOP_EXIT_REQUEST:
    case ES_STOP_TRIPLE_FAULT:
    case ES_STOP_CONSOLE_FULL:
    case ES_STOP_EXIT_LIMIT:
    case ES_STOP_RESET:
    case ES_STOP_RIP_WRAP:
        break;
    case ES_STOP_EPT_VIOLATION:
        s.detail = "EPT violation" + qualification;
        break;
    case ES_STOP_ENTRY_FAILED:
        // An entry-failure exit has a reason; a failed VMLAUNCH/VMRESUME an instruction error.
        if (r.exit_reason & sdm::exit_reason_entry_failure_bit)
            s.detail = reason_text(r.exit_reason) + qualification;
        else
            s.detail = "VM-instruction error " + std::to_string(r.vm_instruction_error);
        break;
    case ES_STOP_UNHANDLED:
    default:
        s.detail =
            reason_text(r.exit_reason) + qualification + (r.gpa ? ", gpa " + hex(r.gpa) : "");
        break;
    }
    return s;
}

std::string exitscope_counts(std::uint64_t exits, std::uint64_t cycles) {
    return std::to_string(exits) + " exits, " + std::to_string(cycles) +
           " cycles in the hypervisor";
}

namespace {

// strerror's text, as errno_advice's default, then what EOPNOTSUPP means for this ioctl.
std::string unsupported_advice(int e, const char* meaning) {
    if (e == EOPNOTSUPP)
        return std::string(std::strerror(e)) + ": " + meaning;
    return errno_advice(e);
}

} // namespace

std::string create_vm_advice(int e) {
    return unsupported_advice(
        e, "this CPU's VMX lacks what this VM needs (a usable EPT, 4-level and write-back, for "
           "--paging ept: use --paging shadow, the default on such a CPU; the INVLPG and CR3 "
           "exits for --paging shadow): dmesg names what is missing; exitscope info shows what "
           "the CPU has");
}

std::string set_state_advice(int e) {
    return unsupported_advice(e, "this CPU has no unrestricted guest, so real-mode and "
                                 "protected-mode (paging off) guests cannot run on it; use "
                                 "--mode long (or a Linux guest)");
}

std::string shadow_set_state_advice(int e) {
    return unsupported_advice(e, "shadow paging runs long-mode and Linux guests only; real-mode "
                                 "and protected-mode (paging off) guests need EPT with "
                                 "unrestricted guest (--paging ept)");
}

std::unique_ptr<backend> make_exitscope_backend() {
    return std::make_unique<exitscope_backend>();
}

} // namespace es::cli
