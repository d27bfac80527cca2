// What a backend does for the run flow (run_flow.cpp): create a VM, load it, set its start
// state, run it to a stop. Two implementations: the Exitscope device (exitscope_backend.cpp,
// ioctls on /dev/exitscope) and Linux KVM (kvm_backend.cpp, /dev/kvm).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exitscope/abi.h"
#include "linux_loader.hpp"
#include "options.hpp"
#include "stops.hpp"

namespace es::cli {

// The guest the flow asks for, the same for every backend.
struct guest_plan {
    std::uint64_t mem_bytes = 0;
    std::vector<load_segment> segments; // the image, or the Linux boot layout
    const char* load_what = "";         // the step's name in messages: "loading the image"
    es_vcpu_state state{};              // mode, entry, boot_params
    std::uint64_t max_exits = 0;        // 0: no limit
    bool console_raw = true;            // false: console bytes through terminal_safe
    bool shadow_paging = false;         // --paging shadow (ES_VM_SHADOW_PAGING)
    bool paging_given = false;          // --paging given (exitscope: else shadow without EPT)
    std::uint32_t vcpus = 1;            // --cpus (Linux guests only; ACPI and MP tables list them)
};

// The guest's console bytes to standard output, made safe for a terminal unless `raw`.
void write_console(const char* bytes, std::size_t n, bool raw);

// Each step returns false after printing why on standard error; the flow then ends with
// status_error.
class backend {
  public:
    backend() = default;
    backend(const backend&) = delete;
    backend& operator=(const backend&) = delete;
    virtual ~backend() = default;

    // What its messages and summary start with: "exitscope", "exitscope[kvm]".
    virtual const char* tag() const = 0;
    // Run options the backend cannot honour, refused before any file is read (then the status
    // is status_usage).
    virtual bool accepts(const run_options& o) = 0;
    // The plan's values, checked before anything is created.
    virtual bool check(const guest_plan& p) = 0;
    virtual bool create(const guest_plan& p) = 0;
    virtual bool load(const load_segment& s, const char* what) = 0;
    virtual bool set_state(const guest_plan& p) = 0;
    // Runs the guest until it stops or SIGINT/SIGTERM interrupts it, the guest's console on
    // standard output; `stop` says how it ended.
    virtual bool run(const guest_plan& p, stop_record& stop) = 0;
    // Bytes for a Linux guest's serial port, from another thread while run() runs: how many
    // the guest side took (the caller offers the rest again).
    virtual std::size_t offer_input(const std::uint8_t* bytes, std::size_t n) = 0;
    // The summary's tally of the run: "5 exits, 1234 cycles in the hypervisor".
    virtual std::string counts() = 0;
    // What the backend shows on standard error after the summary (the dying guest's last
    // exits, KVM's statistics).
    virtual void after_summary(const stop_record& stop) = 0;
};

std::unique_ptr<backend> make_exitscope_backend();
std::unique_ptr<backend> make_kvm_backend();

} // namespace es::cli
