// --vm and --vcpu of stat, watch and record, and `exitscope vms` (cli/vm_scope.hpp).
#include <catch2/catch.hpp>

#include <cerrno>

#include "cli/format.hpp"
#include "cli/vm_scope.hpp"

using namespace es::cli;

namespace {

es_vm_entry vm(std::uint32_t id, std::uint32_t vcpus, std::uint64_t exits = 0,
               std::uint32_t paging = ES_STATS_PAGING_EPT) {
    es_vm_entry e{};
    e.id = id;
    e.vcpus = vcpus;
    e.paging = paging;
    e.owner_tgid = 100 + id;
    e.mem_bytes = std::uint64_t{64} << 20;
    e.exits = exits;
    return e;
}

std::optional<stats_scope> choose(const std::vector<es_vm_entry>& vms,
                                  std::optional<std::uint32_t> id,
                                  std::optional<std::uint32_t> vcpu, std::string& error) {
    error.clear();
    return choose_vm_scope(vms, id, vcpu, error);
}

} // namespace

TEST_CASE("scope labels name the scope as stat --json's \"scope\" does") {
    CHECK(scope_label({}) == "global");
    CHECK(scope_label({ES_SCOPE_CPU, 3, 0, 0}) == "cpu3");
    CHECK(scope_label({ES_SCOPE_VM, 0, 7, 0}) == "vm7");
    CHECK(scope_label({ES_SCOPE_VCPU, 0, 7, 1}) == "vm7.vcpu1");
}

TEST_CASE("a VM scope names a live VM and a vCPU below its vCPU count") {
    const std::vector<es_vm_entry> vms = {vm(9, 2), vm(4, 1)};
    std::string error;
    auto s = choose(vms, 9, std::nullopt, error);
    REQUIRE(s);
    CHECK(s->scope == ES_SCOPE_VM);
    CHECK(s->vm_id == 9);
    CHECK(s->vm_vcpus == 2);
    s = choose(vms, 9, 1, error);
    REQUIRE(s);
    CHECK(s->scope == ES_SCOPE_VCPU);
    CHECK(s->vcpu == 1);
    CHECK_FALSE(choose(vms, 9, 2, error));
    CHECK(error == "--vcpu 2: VM 9 has 2 vCPUs (0-1)");
    CHECK_FALSE(choose(vms, 4, 1, error));
    CHECK(error == "--vcpu 1: VM 4 has 1 vCPU (0-0)");
    CHECK_FALSE(choose(vms, 5, std::nullopt, error));
    CHECK(error == "no live VM has id 5: the live ones are 4, 9 (exitscope vms)");
    CHECK_FALSE(choose({}, 5, std::nullopt, error));
    CHECK(error.find("none is running") != std::string::npos);
}

TEST_CASE("a vCPU alone is of the one live VM or asks for the VM") {
    std::string error;
    auto s = choose({vm(3, 4)}, std::nullopt, 2, error);
    REQUIRE(s);
    CHECK(s->vm_id == 3);
    CHECK(s->vcpu == 2);
    CHECK_FALSE(choose({vm(3, 4), vm(5, 2)}, std::nullopt, 0, error));
    CHECK(error == "--vcpu needs --vm ID while several VMs run (3, 5; exitscope vms lists them)");
    CHECK_FALSE(choose({}, std::nullopt, 0, error));
    CHECK(error.find("start one with exitscope run") != std::string::npos);
}

TEST_CASE("a VM scope errno is explained and others get the generic advice") {
    const stats_scope vcpu{ES_SCOPE_VCPU, 0, 7, 3};
    CHECK(explain_scope_error(vcpu, ENOENT) ==
          "VM 7 is not running (any more): exitscope vms lists the live ones");
    CHECK(explain_scope_error(vcpu, ERANGE) == "VM 7 has no vCPU 3");
    CHECK_FALSE(explain_scope_error(vcpu, EFAULT));
    CHECK_FALSE(explain_scope_error({}, ENOENT));
}

TEST_CASE("exitscope vms lists the VMs oldest first, in a table and in JSON") {
    const std::vector<es_vm_entry> vms = {vm(12, 2, 1234567, ES_STATS_PAGING_SHADOW), vm(3, 1, 42)};
    const std::string t = format_vm_list(vms);
    CHECK(t == "    VM  vCPUs  paging     memory          exits      pid\n"
               "     3      1     ept     64 MiB             42      103\n"
               "    12      2  shadow     64 MiB      1,234,567      112\n");
    CHECK(format_vm_list({}) == "No VM is running.\n");
    CHECK(format_vm_list_json(vms) ==
          "{\"vms\":[{\"vm\":3,\"vcpus\":1,\"paging\":\"ept\",\"mem_bytes\":67108864,\"exits\":42,"
          "\"pid\":103},{\"vm\":12,\"vcpus\":2,\"paging\":\"shadow\",\"mem_bytes\":67108864,"
          "\"exits\":1234567,\"pid\":112}]}\n");
    CHECK(format_vm_list_json({}) == "{\"vms\":[]}\n");
}

TEST_CASE("stat of a VM shows a line per vCPU with its busiest reasons and a JSON row each") {
    std::vector<vcpu_figures> v(2);
    v[0].vcpu = 0;
    v[0].stats.reasons[10].count = 300; // CPUID
    v[0].stats.reasons[10].cycles = 30000;
    v[0].stats.reasons[30].count = 500; // I/O
    v[0].stats.reasons[30].cycles = 100000;
    v[0].stats.reasons[1].count = 2;
    v[0].stats.reasons[12].count = 1;
    v[1].vcpu = 1;
    v[1].stats.reasons[32].count = 7; // WRMSR
    v[1].stats.reasons[32].cycles = 700;
    const std::string lines = format_vcpu_lines(v);
    CHECK(lines == "Per vCPU:\n"
                   "  vCPU 0            803 exits          130,000 cycles   (IO_INSTRUCTION 500, "
                   "CPUID 300, EXTERNAL_INTERRUPT 2)\n"
                   "  vCPU 1              7 exits              700 cycles   (MSR_WRITE 7)\n");
    CHECK(format_vcpu_lines({}).empty());
    const std::string j = format_stat_json({}, "vm5", ES_STATS_PAGING_EPT, v);
    CHECK(j ==
          "{\"scope\":\"vm5\",\"reasons\":[],\"total\":{\"count\":0,\"cycles\":0},"
          "\"paging\":\"ept\",\"vcpus\":[{\"vcpu\":0,\"count\":803,\"cycles\":130000,"
          "\"reasons\":[{\"reason\":1,\"name\":\"EXTERNAL_INTERRUPT\",\"count\":2,\"cycles\":0},"
          "{\"reason\":10,\"name\":\"CPUID\",\"count\":300,\"cycles\":30000},"
          "{\"reason\":12,\"name\":\"HLT\",\"count\":1,\"cycles\":0},"
          "{\"reason\":30,\"name\":\"IO_INSTRUCTION\",\"count\":500,\"cycles\":100000}]},"
          "{\"vcpu\":1,\"count\":7,\"cycles\":700,\"reasons\":[{\"reason\":32,\"name\":"
          "\"MSR_WRITE\",\"count\":7,\"cycles\":700}]}]}\n");
    // Without vCPU rows (every scope but a VM's), the document is as before.
    CHECK(format_stat_json({}, "global").find("vcpus") == std::string::npos);
}
