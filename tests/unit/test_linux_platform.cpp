// The linux64 start state and boot GDT, the 16550A model and the MSR policy.
#include <catch2/catch.hpp>

#include "board/uart16550.hpp"
#include "exitscope/errno.hpp"
#include "sdm/cpu_bits.hpp"
#include "sdm/msrs.hpp"
#include "vmx/pure/arg_checks.hpp"
#include "vmx/pure/guest_modes.hpp"
#include "vmx/pure/msr_policy.hpp"

using namespace es;

namespace {
constexpr std::uint64_t mib = 1ull << 20;
constexpr std::uint64_t ram = 128 * mib;

es_vcpu_state linux_state(std::uint64_t entry, std::uint64_t boot_params) {
    es_vcpu_state a{};
    a.size = sizeof a;
    a.mode = ES_MODE_LINUX64;
    a.entry = entry;
    a.boot_params = boot_params;
    return a;
}
} // namespace

TEST_CASE("linux64: boot segments, GDT in the host area, zero page in RSI, interrupts off") {
    const auto g = initial_guest_state(guest_mode::linux64, 0x100200, 0, ram, sdm::cr0::ne,
                                       sdm::cr4::vmxe, 0x7000);
    CHECK(g.rip == 0x100200);
    CHECK(g.rsi == 0x7000);
    CHECK(g.cs.selector == 0x10);
    CHECK(g.ds.selector == 0x18);
    CHECK(g.ss.selector == 0x18);
    CHECK(g.es.selector == 0x18);
    CHECK(g.ia32e);
    CHECK((g.efer & sdm::efer::lma) != 0);
    CHECK((g.rflags & sdm::rflags::intf) == 0);
    CHECK(g.gdtr_base == ram - ES_LINUX64_HOST_BYTES);
    CHECK(g.gdtr_limit == 4 * 8 - 1);
    CHECK(g.cr3 == page_tables_base(ram));
    CHECK(g.gdtr_base + 4096 == g.cr3); // GDT page right below the page tables
    CHECK(g.rsp == ram - ES_LINUX64_HOST_BYTES);
}

TEST_CASE("linux64 boot GDT: the descriptors Linux's own GDT has for __BOOT_CS/__BOOT_DS") {
    CHECK(linux_boot_gdt_entry(0) == 0);
    CHECK(linux_boot_gdt_entry(1) == 0);
    // Flat, present, DPL 0: 64-bit execute/read code (L=1, D=0, G=1), read/write data (D/B=1).
    CHECK(linux_boot_gdt_entry(2) == 0x00af9b000000ffffull);
    CHECK(linux_boot_gdt_entry(3) == 0x00cf93000000ffffull);
    std::uint64_t written[4] = {};
    build_linux_boot_gdt(ram, [&](std::uint64_t gpa, std::uint64_t v) {
        const std::uint64_t i = (gpa - linux64_host_base(ram)) / 8;
        REQUIRE(i < 4);
        written[i] = v;
    });
    CHECK(written[2] == linux_boot_gdt_entry(2));
    CHECK(written[3] == linux_boot_gdt_entry(3));
}

TEST_CASE("linux64 start-state checks: zero page required there and only there") {
    CHECK(check_state(linux_state(0x100200, 0x7000), ram) == 0);
    CHECK(check_state(linux_state(0x100200, 0), ram) == -err::inval);      // no zero page
    CHECK(check_state(linux_state(0x100200, 0x7001), ram) == -err::inval); // not page aligned
    CHECK(check_state(linux_state(0x100200, ram - ES_LINUX64_HOST_BYTES), ram) == -err::no_space);
    CHECK(check_state(linux_state(ram - 4096, 0x7000), ram) == -err::no_space); // in the GDT/tables
    CHECK(check_state(linux_state(0x100200, 0x7000), ES_LINUX64_HOST_BYTES) == -err::no_space);
    auto toy = linux_state(0x1000, 0x7000);
    for (std::uint32_t mode : {ES_MODE_REAL, ES_MODE_PROTECTED, ES_MODE_LONG}) {
        toy.mode = mode;
        CHECK(check_state(toy, ram) == -err::inval); // boot_params is not theirs
    }
    auto reserved = linux_state(0x100200, 0x7000);
    reserved.reserved[2] = 1;
    CHECK(check_state(reserved, ram) == -err::inval);
    CHECK(check_state(linux_state(0x100200, 0x7000), ram) == 0);
    auto beyond = linux_state(0x100200, 0x7000);
    beyond.mode = ES_MODE_LINUX64 + 1;
    CHECK(check_state(beyond, ram) == -err::inval);
}

TEST_CASE("16550A: transmit, line status, registers the 8250 probe reads back") {
    uart16550 u;
    const auto w = uart_write(u, uart::rbr_thr, 'A');
    CHECK(w.transmitted);
    CHECK(w.byte == 'A');
    CHECK((uart_read(u, uart::lsr) & (uart::lsr_thre | uart::lsr_temt)) ==
          (uart::lsr_thre | uart::lsr_temt));
    CHECK(uart_read(u, uart::iir_fcr) == uart::iir_no_interrupt);
    uart_write(u, uart::iir_fcr, 0x07);
    CHECK(uart_read(u, uart::iir_fcr) == (uart::iir_no_interrupt | uart::iir_fifos_enabled));
    uart_write(u, uart::scr, 0xa5);
    CHECK(uart_read(u, uart::scr) == 0xa5);
    uart_write(u, uart::ier, 0xff);
    CHECK(uart_read(u, uart::ier) == 0x0f);
    uart_write(u, uart::mcr, 0xff);
    CHECK(uart_read(u, uart::mcr) == 0x1f);
    // Loopback: the modem inputs follow the outputs; transmitted bytes do not reach the line,
    // they go to the receiver (read back below).
    uart_write(u, uart::mcr, uart::mcr_loop | 0x0a); // RTS and OUT2
    CHECK((uart_read(u, uart::msr) & 0xf0) == 0x90); // CTS and DCD
    CHECK_FALSE(uart_write(u, uart::rbr_thr, 'B').transmitted);
    uart_write(u, uart::mcr, 0);
    CHECK(uart_read(u, uart::msr) == uart::msr_cts_dsr_dcd);
    // DLAB switches offsets 0 and 1 to the divisor latch.
    uart_write(u, uart::lcr, uart::lcr_dlab | 0x03);
    uart_write(u, uart::rbr_thr, 0x01);
    uart_write(u, uart::ier, 0x02);
    CHECK_FALSE(uart_write(u, uart::rbr_thr, 0x01).transmitted);
    CHECK(uart_read(u, uart::rbr_thr) == 0x01);
    CHECK(uart_read(u, uart::ier) == 0x02);
    uart_write(u, uart::lcr, 0x03);
    CHECK(uart_read(u, uart::lcr) == 0x03);
    CHECK(uart_read(u, uart::ier) == 0x0f);
    CHECK(uart_read(u, uart::rbr_thr) == 'B'); // looped back above
    CHECK(uart_read(u, uart::rbr_thr) == 0);   // nothing more received
    uart_write(u, uart::lsr, 0);               // read-only
    CHECK(uart_read(u, uart::lsr) == (uart::lsr_thre | uart::lsr_temt));
}

TEST_CASE("MSR policy: toy guests have EFER alone, a Linux guest what its early boot needs") {
    using sdm::msr;
    for (auto set : {msr_set::toy, msr_set::board})
        CHECK(rule_for_msr(sdm::to_number(msr::efer), set) == msr_rule::efer);
    for (auto m : {msr::fs_base, msr::gs_base, msr::misc_enable, msr::kernel_gs_base, msr::pat})
        CHECK(rule_for_msr(sdm::to_number(m), msr_set::toy) == msr_rule::gp);
    CHECK(rule_for_msr(sdm::to_number(msr::fs_base), msr_set::board) == msr_rule::fs_base);
    CHECK(rule_for_msr(sdm::to_number(msr::gs_base), msr_set::board) == msr_rule::gs_base);
    CHECK(rule_for_msr(sdm::to_number(msr::misc_enable), msr_set::board) == msr_rule::misc_enable);
    CHECK(rule_for_msr(sdm::to_number(msr::bios_sign_id), msr_set::board) == msr_rule::ucode_rev);
    CHECK(rule_for_msr(sdm::to_number(msr::bios_sign_id), msr_set::toy) == msr_rule::gp);
    CHECK(rule_for_msr(sdm::to_number(msr::feature_control), msr_set::board) == msr_rule::gp);
    CHECK(rule_for_msr(0xffffffff, msr_set::board) == msr_rule::gp);
    CHECK((guest_writable_efer(msr_set::toy) & sdm::efer::sce) == 0);
    CHECK((guest_writable_efer(msr_set::board) & sdm::efer::sce) != 0);
    CHECK((guest_writable_efer(msr_set::board) & sdm::efer::lma) == 0);
    CHECK((guest_misc_enable & (1ull << 34)) == 0); // XD not disabled
    CHECK(is_canonical(0));
    CHECK(is_canonical(0x00007fffffffffffull));
    CHECK(is_canonical(0xffff800000000000ull));
    CHECK_FALSE(is_canonical(0x0000800000000000ull));
    CHECK_FALSE(is_canonical(0xfff0000000000000ull));
}
