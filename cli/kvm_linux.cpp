// `exitscope run --backend kvm --kernel`: what a Linux guest needs under KVM beyond a toy image's
// set-up (kvm_backend.cpp boots it as the Exitscope backend does: the same layout, linux64 start
// state, boot GDT and identity page tables), and the same CPUID view. KVM's in-kernel irqchip (an
// 8259A pair, and an IOAPIC and local APIC the guest leaves alone with `nolapic`) and 8254 PIT take
// the timer; the rest of the board is Exitscope's own (board/pc_board.hpp) in user space: COM1 on
// IRQ4, the CMOS clock, and the reset ports, whose request ends the run like Exitscope's
// ES_STOP_RESET. With the in-kernel irqchip KVM handles HLT itself and never reports it: a periodic
// tick reads the vCPU's MP state, and a vCPU halted with interrupts off (poweroff -f with acpi=off)
// ends the run as "halted".
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <numeric>
#include <sys/ioctl.h>

#include "backend.hpp"
#include "board/pc_board.hpp"
#include "board/serial_input.hpp"
#include "cpuid/linux_leaves.hpp"
#include "kvm_internal.hpp"
#include "sdm/cpu_bits.hpp"

namespace es::cli {

namespace {

constexpr std::uint32_t hypervisor_leaves = 0x40000000u, hypervisor_leaves_end = 0x50000000u;

// KVM's local APIC timer counts at 1 GHz (one APIC bus cycle per ns, arch/x86/kvm/lapic.h; the
// default of KVM_CAP_X86_APIC_BUS_CYCLES_NS). Linux takes that rate from leaf 0x15's crystal
// (native_calibrate_tsc: lapic_timer_period = crystal kHz * 1000 / HZ), and uses the APIC timer
// in one-shot mode when it distrusts TSC deadline (Haswell's erratum, judged by the microcode
// revision, which KVM reports as old). So with a local APIC the crystal is that 1 GHz clock;
// the 1 kHz crystal of linux_own_answer would give the APIC timer 4 ticks a jiffy and stop time.
// Linux computes TSC kHz = crystal kHz * EBX / EAX in 32 bits: the ratio reduced, else to MHz.
constexpr std::uint32_t kvm_apic_timer_khz = 1'000'000;

cpuid_answer apic_timer_crystal_leaf(std::uint32_t tsc_khz) {
    const std::uint32_t g = std::gcd(tsc_khz, kvm_apic_timer_khz);
    std::uint32_t num = tsc_khz / g, den = kvm_apic_timer_khz / g;
    if (num > UINT32_MAX / kvm_apic_timer_khz) {
        num = (tsc_khz + 500) / 1000;
        den = 1000;
    }
    return {den, num, kvm_apic_timer_khz * 1000u, 0};
}

kvm_cpuid_entry2 entry(std::uint32_t leaf, std::uint32_t index, std::uint32_t flags,
                       const cpuid_answer& a) {
    kvm_cpuid_entry2 e{};
    e.function = leaf;
    e.index = index;
    e.flags = flags;
    e.eax = a.eax;
    e.ebx = a.ebx;
    e.ecx = a.ecx;
    e.edx = a.edx;
    return e;
}

std::int64_t unix_seconds() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

} // namespace

// The board user space keeps for a Linux guest: the same as Exitscope's, so both guests boot
// alike; its PIC and PIT stay idle (KVM's in-kernel ones handle their ports). Every vCPU's
// thread reaches it, under `lock`.
struct kvm::linux_board {
    linux_board(const kvm::machine& machine, kvm::serial_queue& in, bool raw)
        : m(machine), input(in), console_raw(raw) {
        es::board_reset(board, 0, unix_seconds);
    }
    const kvm::machine& m;
    kvm::serial_queue& input;
    bool console_raw;
    std::mutex lock;
    es::pc_board board{};
    bool irq4 = false; // the level last given to KVM_IRQ_LINE
};

namespace {

using kvm::linux_board;

bool set_irq4(linux_board& b) {
    const bool level = es::uart_irq_line(b.board.com1);
    if (level == b.irq4)
        return true;
    kvm_irq_level l{};
    l.irq = es::board::irq_com1;
    l.level = level ? 1 : 0;
    if (checked_ioctl(b.m.vm.get(), KVM_IRQ_LINE, &l, "setting COM1's IRQ4 (KVM_IRQ_LINE)",
                      kvm::tag, kvm::errno_advice) < 0)
        return false;
    b.irq4 = level;
    return true;
}

// One port access (each element of a string I/O exit): the board's ports to the board; the
// console and exit-request ports as for every guest (the module's handlers_io.cpp keeps them
// for Linux guests too); every other port reads all ones and drops writes.
void port_access(linux_board& b, bool in, std::uint16_t port, std::uint8_t* data, std::uint8_t size,
                 stop_record& stop) {
    if (!es::board_claims(port)) {
        kvm::port_conventions(in, port, data, size, 1, b.console_raw, stop);
        return;
    }
    if (in) {
        const std::uint32_t v = es::board_in(b.board, port, size, 0);
        std::memcpy(data, &v, size <= 4 ? size : 4);
        return;
    }
    std::uint32_t v = 0;
    std::memcpy(&v, data, size <= 4 ? size : 4);
    const es::board_out_result r = es::board_out(b.board, port, size, v, 0);
    for (unsigned i = 0; i < r.nr_transmitted; ++i) {
        const char c = static_cast<char>(r.transmitted[i]);
        write_console(&c, 1, b.console_raw);
        if (c == '\n')
            std::fflush(stdout); // the console shows live
    }
    if (r.reset)
        stop.stop = ES_STOP_RESET;
}

// Waiting serial input into COM1's receive FIFO, as much as it has room for, while the guest
// listens (the same rule as the module's: serial_input_listening).
void deliver_input(linux_board& b) {
    std::lock_guard<std::mutex> g(b.input.lock);
    if (b.input.bytes.empty() || !es::serial_input_listening(b.board))
        return;
    const std::size_t n = es::board_receive(
        b.board, reinterpret_cast<const std::uint8_t*>(b.input.bytes.data()), b.input.bytes.size());
    b.input.bytes.erase(0, n);
}

bool linux_io(linux_board& b, const kvm::vcpu& v, stop_record& stop) {
    const kvm_run& run = *v.run();
    std::uint8_t* data = v.run_map.bytes() + run.io.data_offset;
    std::lock_guard<std::mutex> g(b.lock);
    for (std::uint32_t i = 0; i < run.io.count && !stop.stop; ++i)
        port_access(b, run.io.direction == KVM_EXIT_IO_IN, run.io.port, data + i * run.io.size,
                    run.io.size, stop);
    if (stop.stop)
        stop.rip = kvm::current_rip(v);
    deliver_input(b);
    return set_irq4(b);
}

// A vCPU the in-kernel irqchip holds halted with RFLAGS.IF=0 never runs again. With one vCPU the
// guest is then done; with several (`done` given) it is done once every vCPU is, or was never
// started (an AP still waiting for its SIPI), which the multi-vCPU loop checks.
bool check_halted(const kvm::vcpu& v, std::atomic<bool>* done, stop_record& stop) {
    kvm_mp_state mp{};
    if (checked_ioctl(v.fd.get(), KVM_GET_MP_STATE, &mp, "reading the vCPU's MP state", kvm::tag,
                      kvm::errno_advice) < 0)
        return errno == EINTR;
    const bool waiting_for_sipi =
        mp.mp_state == KVM_MP_STATE_UNINITIALIZED || mp.mp_state == KVM_MP_STATE_INIT_RECEIVED;
    bool halted_for_good = false;
    if (mp.mp_state == KVM_MP_STATE_HALTED) {
        kvm_regs r{};
        if (checked_ioctl(v.fd.get(), KVM_GET_REGS, &r, "reading registers of the halted vCPU",
                          kvm::tag, kvm::errno_advice) < 0)
            return errno == EINTR;
        halted_for_good = !(r.rflags & sdm::rflags::intf);
        if (halted_for_good)
            stop.rip = r.rip;
    }
    if (done)
        done->store(halted_for_good || (v.index != 0 && waiting_for_sipi));
    else if (halted_for_good)
        stop.stop = ES_STOP_HALTED;
    return true;
}

} // namespace

std::vector<kvm_cpuid_entry2> linux_kvm_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                              std::uint32_t tsc_khz,
                                              const es::linux_vcpu_topology& vcpu) {
    es::linux_cpu_facts facts{0, tsc_khz};
    for (const auto& e : supported)
        if (e.function == 0)
            facts.host_max_basic_leaf = e.eax;
    std::vector<kvm_cpuid_entry2> out;
    for (const auto& e : supported) {
        if (e.function >= hypervisor_leaves && e.function < hypervisor_leaves_end)
            continue;
        if (e.function < hypervisor_leaves && es::is_linux_own_leaf(e.function, facts))
            continue; // answered below
        out.push_back(
            entry(e.function, e.index, e.flags,
                  es::linux_vcpu_view(e.function, e.index, {e.eax, e.ebx, e.ecx, e.edx}, vcpu)));
    }
    for (std::uint32_t leaf = 0; leaf <= es::linux_max_basic_leaf(facts.host_max_basic_leaf);
         ++leaf)
        if (es::is_linux_own_leaf(leaf, facts))
            out.push_back(entry(leaf, 0, 0,
                                vcpu.local_apic && leaf == es::linux_cpuid::tsc_leaf
                                    ? apic_timer_crystal_leaf(tsc_khz)
                                    : es::linux_own_answer(leaf, facts)));
    return out;
}

bool kvm::create_linux_chips(const machine& m) {
    if (checked_ioctl(m.vm.get(), KVM_CREATE_IRQCHIP, nullptr,
                      "creating KVM's in-kernel irqchip (KVM_CREATE_IRQCHIP; needs a KVM with "
                      "KVM_CAP_IRQCHIP)",
                      tag, errno_advice) < 0)
        return false;
    kvm_pit_config pit{};
    pit.flags = KVM_PIT_SPEAKER_DUMMY; // port 0x61 in the kernel too: PIT channel 2's gate
    return checked_ioctl(m.vm.get(), KVM_CREATE_PIT2, &pit,
                         "creating KVM's in-kernel 8254 PIT (KVM_CREATE_PIT2; needs KVM_CAP_PIT2)",
                         tag, errno_advice) >= 0;
}

bool kvm::set_linux_cpuid(const machine& m, const vcpu& v, std::uint32_t count) {
    const int tsc_khz = ioctl(v.fd.get(), KVM_GET_TSC_KHZ, 0);
    if (tsc_khz <= 0) {
        const int e = tsc_khz < 0 ? errno : EINVAL;
        report_failure(tag, "reading the vCPU's TSC frequency (KVM_GET_TSC_KHZ)", e,
                       "KVM does not know the TSC frequency (needs KVM_CAP_GET_TSC_KHZ and a "
                       "stable TSC)");
        return false;
    }
    const auto supported = supported_cpuid(m.kvm.get());
    // One vCPU: no local APIC in the view (the guest boots with nolapic), as under Exitscope;
    // several: KVM's in-kernel local APIC (x2APIC, TSC deadline), APIC ID = vCPU id.
    const es::linux_vcpu_topology t =
        count > 1 ? es::linux_vcpu_topology{v.index, count, true} : es::single_vcpu_without_apic;
    return supported &&
           set_cpuid(v.fd.get(),
                     linux_kvm_cpuid(*supported, static_cast<std::uint32_t>(tsc_khz), t));
}

std::shared_ptr<kvm::linux_board> kvm::make_linux_board(const machine& m, serial_queue& input,
                                                        bool console_raw) {
    return std::make_shared<linux_board>(m, input, console_raw);
}

kvm::exit_hooks kvm::linux_exit_hooks(const std::shared_ptr<linux_board>& board, const vcpu& v,
                                      std::atomic<bool>* done) {
    // The board is shared by every vCPU's hooks, and alive as long as they are.
    exit_hooks hooks;
    hooks.io = [board, &v](stop_record& stop) { return linux_io(*board, v, stop); };
    // Each tick (and each input's kick) also moves waiting input in, as a halted guest does
    // no port I/O until an interrupt wakes it.
    hooks.tick = [board, &v, done](stop_record& stop) {
        {
            std::lock_guard<std::mutex> g(board->lock);
            deliver_input(*board);
            if (!set_irq4(*board))
                return false;
        }
        return check_halted(v, done, stop);
    };
    return hooks;
}

} // namespace es::cli
