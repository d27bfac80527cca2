// The SMP platform's three models agree: for N vCPUs, the MP table's processor entries, each
// vCPU's CPUID (leaf 1 and the extended topology) and each local APIC's ID and version register
// name the same APIC IDs, and the BSP is vCPU 0 in all of them; an IPI addressed by any of those
// IDs reaches the vCPU that has it.
#include <catch2/catch.hpp>

#include <vector>

#include "board/local_apic.hpp"
#include "board/mp_table.hpp"
#include "cpuid/linux_leaves.hpp"
#include "mp_table_linux_rules.hpp"

using namespace es;

TEST_CASE("SMP platform: MP table, per-vCPU CPUID and local APICs name the same CPUs") {
    constexpr cpuid_answer all_ones{~0u, ~0u, ~0u, ~0u};
    for (std::uint32_t n : {1u, 2u, 4u, 8u, mp_table::max_vcpus}) {
        CAPTURE(n);
        std::vector<std::uint8_t> mem(0x100000, 0);
        const mp_config c{n, false, lapic::version_id, 0x306c3, 0};
        REQUIRE(mp_table_write(mem.data() + mp_table::default_gpa,
                               mem.size() - mp_table::default_gpa, mp_table::default_gpa, c)
                    .error == 0);
        const mp_rules::parsed p = mp_rules::read(mem);
        REQUIRE(p.error.empty());
        REQUIRE(p.processors.size() == n);
        CHECK(p.lapic_address == sdm::apic::default_base);
        std::vector<local_apic> cpus(n);
        for (std::uint32_t i = 0; i < n; ++i) {
            lapic_power_on(cpus[i], i, 2'000'000, 25'000);
            const linux_vcpu_topology t{i, n, true};
            const std::uint32_t id = p.processors[i].apic_id;
            CHECK(linux_vcpu_view(1, 0, all_ones, t).ebx >> 24 == id);
            CHECK(linux_vcpu_view(0xb, 0, all_ones, t).edx == id);
            CHECK(linux_vcpu_view(0xb, 1, all_ones, t).ebx == n);
            CHECK(lapic_rdmsr(cpus[i], 0x802, 0).value == id);
            CHECK((lapic_rdmsr(cpus[i], 0x803, 0).value & 0xff) == p.processors[i].apic_version);
            const bool bsp_flag =
                lapic_rdmsr(cpus[i], sdm::apic::base_msr, 0).value & sdm::apic::base::bsp;
            CHECK(bsp_flag == p.processors[i].bsp);
            CHECK((cpus[i].state == vcpu_run_state::running) == p.processors[i].bsp);
        }
        // Physical and logical IPIs from vCPU 0 to each ID reach exactly that vCPU.
        lapic_wrmsr(cpus[0], 0x80f, 0x1ff, 0);
        for (std::uint32_t target = 0; target < n; ++target) {
            for (bool logical : {false, true}) {
                const std::uint64_t d = logical ? sdm::apic::x2apic_logical_id(target) : target;
                const lapic_wrmsr_result r =
                    lapic_wrmsr(cpus[0], 0x830, (d << 32) | (logical ? 0x800 : 0) | 0xfd, 0);
                REQUIRE(r.sent_ipi);
                for (std::uint32_t i = 0; i < n; ++i)
                    CHECK(lapic_is_destination(cpus[i], r.ipi) == (i == target));
            }
        }
    }
}
