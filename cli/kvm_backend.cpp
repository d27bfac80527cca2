// The KVM backend: the run flow's steps under /dev/kvm, for a toy image (KVM's CPUID, the
// image's ports in user space: kvm_run.cpp) and for a Linux guest (KVM's in-kernel irqchip and
// PIT, the Linux CPUID view, the rest of the board in user space: kvm_linux.cpp).
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "backend.hpp"
#include "kvm_internal.hpp"
#include "vmx/pure/arg_checks.hpp"

namespace es::cli {

namespace {

class kvm_backend final : public backend {
  public:
    const char* tag() const override { return kvm::tag; }

    bool accepts(const run_options& o) override {
        // KVM's paging is kvm_intel's ept parameter: --paging is checked against it, not chosen.
        paging_ = read_kvm_paging();
        if (o.paging_given) {
            const std::string why = kvm_paging_mismatch(o.shadow_paging, paging_);
            if (!why.empty()) {
                std::fprintf(stderr, "%s: %s\n", kvm::tag, why.c_str());
                return false;
            }
        }
        if (!o.max_exits)
            return true;
        std::fprintf(stderr,
                     "%s: --max-exits is not supported with --backend kvm (KVM handles most exits "
                     "in the kernel, out of user space's sight)\n",
                     kvm::tag);
        return false;
    }

    bool check(const guest_plan& p) override;

    bool create(const guest_plan& p) override {
        linux_ = p.state.mode == ES_MODE_LINUX64;
        runner_ = pthread_self();
        struct sigaction sa {};
        sa.sa_handler = [](int) {}; // only makes a blocked KVM_RUN return EINTR
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR2, &sa, nullptr);
        if (!kvm::create_vm(m_) || (linux_ && !kvm::create_linux_chips(m_)) ||
            !kvm::map_ram(p.mem_bytes, m_))
            return false;
        // vCPU ids 0..N-1, which KVM also makes their APIC IDs (the MP table's); with the
        // in-kernel irqchip vCPU 0 starts runnable, the others wait for INIT/SIPI.
        for (std::uint32_t i = 0; i < p.vcpus; ++i) {
            if (!kvm::create_vcpu(m_))
                return false;
            if (linux_ && !kvm::set_linux_cpuid(m_, *m_.vcpus.back(), p.vcpus))
                return false;
        }
        if (linux_)
            return true;
        const auto cpuid = kvm::supported_cpuid(m_.kvm.get());
        return cpuid && kvm::set_cpuid(m_.bsp().fd.get(), *cpuid);
    }

    // Guest RAM is this process's memory; check() made sure each segment fits.
    bool load(const load_segment& s, const char*) override {
        std::memcpy(m_.ram.bytes() + s.gpa, s.data, s.len);
        return true;
    }

    // The start state Exitscope's VMCS would hold, with the page tables (and the Linux boot GDT)
    // the module would build in guest RAM.
    bool set_state(const guest_plan& p) override {
        const auto mode = static_cast<es::guest_mode>(p.state.mode);
        const auto write64 = [&](std::uint64_t gpa, std::uint64_t v) {
            std::memcpy(m_.ram.bytes() + gpa, &v, sizeof v);
        };
        if (mode == es::guest_mode::long64 || mode == es::guest_mode::linux64)
            es::build_identity_tables(p.mem_bytes, write64);
        if (mode == es::guest_mode::linux64)
            es::build_linux_boot_gdt(p.mem_bytes, write64);
        return kvm::set_start_state(es::initial_guest_state(mode, p.state.entry, p.state.stack,
                                                            p.mem_bytes, 0, 0, p.state.boot_params),
                                    m_.bsp());
    }

    bool run(const guest_plan& p, stop_record& stop) override {
        if (!linux_)
            return kvm::run_vcpu(m_.bsp(), kvm::image_exit_hooks(m_.bsp(), p.console_raw), stop,
                                 user_exits_);
        const auto board = kvm::make_linux_board(m_, input_, p.console_raw);
        if (m_.vcpus.size() == 1)
            return kvm::run_vcpu(m_.bsp(), kvm::linux_exit_hooks(board, m_.bsp()), stop,
                                 user_exits_);
        std::vector<std::atomic<bool>> done(m_.vcpus.size());
        std::vector<std::atomic<bool>*> done_of;
        std::vector<kvm::exit_hooks> hooks;
        for (std::size_t i = 0; i < m_.vcpus.size(); ++i) {
            done_of.push_back(&done[i]);
            hooks.push_back(kvm::linux_exit_hooks(board, *m_.vcpus[i], &done[i]));
        }
        const auto input_waiting = [this] {
            std::lock_guard<std::mutex> g(input_.lock);
            return !input_.bytes.empty();
        };
        return kvm::run_vcpus(m_, hooks, done_of, input_waiting, stop, user_exits_);
    }

    // Queued for the vCPU's loop; SIGUSR2 (a no-op handler, installed for good at creation)
    // makes a KVM_RUN blocked on a halted guest return, so that the tick hook moves it in.
    std::size_t offer_input(const std::uint8_t* bytes, std::size_t n) override {
        std::size_t taken = 0;
        {
            std::lock_guard<std::mutex> g(input_.lock);
            const std::size_t room = kvm::serial_queue::capacity - input_.bytes.size();
            taken = n < room ? n : room;
            input_.bytes.append(reinterpret_cast<const char*>(bytes), taken);
        }
        // Several vCPUs: the run's own thread kicks vCPU 0 when it sees input waiting.
        if (taken && m_.vcpus.size() == 1)
            pthread_kill(runner_, SIGUSR2);
        return taken;
    }

    std::string counts() override {
        return kvm_counts(user_exits_, kvm::read_all_stats(m_)) + kvm_paging_note(paging_);
    }

    // A Linux guest's summary adds every nonzero KVM statistic (for the README's figures).
    void after_summary(const stop_record&) override {
        if (!linux_)
            return;
        const std::string all = format_nonzero_kvm_stats(kvm::read_all_stats(m_));
        if (!all.empty())
            std::fprintf(stderr, "%s: KVM's nonzero vCPU statistics%s: %s\n", kvm::tag,
                         m_.vcpus.size() > 1 ? " (summed over the vCPUs)" : "", all.c_str());
    }

  private:
    kvm::machine m_;
    kvm::serial_queue input_;
    pthread_t runner_{};
    bool linux_ = false;
    std::uint64_t user_exits_ = 0;
    kvm_paging paging_;
};

// The same argument checks as the Exitscope module, with the same messages.
bool kvm_backend::check(const guest_plan& p) {
    es_vm_create create{};
    create.size = sizeof create;
    create.mem_bytes = p.mem_bytes;
    // The errors of these checks (EINVAL, ERANGE, ENOSPC) read as for the Exitscope device.
    const auto fail = [](const char* what, int err, const std::string& advice) {
        report_failure(kvm::tag, what, -err, advice);
        return false;
    };
    if (const int err = es::check_create(create))
        return fail("creating the VM", err, cli::errno_advice(-err));
    for (const load_segment& s : p.segments) {
        es_vm_load load{};
        load.size = sizeof load;
        load.gpa = s.gpa;
        load.data = reinterpret_cast<std::uintptr_t>(s.data);
        load.len = s.len;
        if (const int err = es::check_load(load, p.mem_bytes))
            return fail(p.load_what, err, cli::errno_advice(-err));
    }
    if (const int err = es::check_state(p.state, p.mem_bytes)) {
        const auto explained = explain_state_error(p.state, p.mem_bytes);
        return fail("setting the start state", err,
                    explained ? *explained : cli::errno_advice(-err));
    }
    return true;
}

} // namespace

std::unique_ptr<backend> make_kvm_backend() {
    return std::make_unique<kvm_backend>();
}

} // namespace es::cli
