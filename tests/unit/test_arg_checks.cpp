// ioctl argument validation: a table of bad inputs and the errno each gets.
#include <catch2/catch.hpp>

#include "exitscope/errno.hpp"
#include "vmx/pure/arg_checks.hpp"

using namespace es;

namespace {
constexpr std::uint64_t mib = 1ull << 20;
}

TEST_CASE("create: RAM size, flags and reserved fields") {
    struct row {
        std::uint64_t mem;
        std::uint32_t flags;
        std::uint64_t reserved0;
        int want;
    };
    const row rows[] = {
        {2 * mib, 0, 0, 0},
        {ES_GUEST_MEM_MIN, 0, 0, 0},
        {ES_GUEST_MEM_MAX, 0, 0, 0},
        {0, 0, 0, -err::range},
        {4096, 0, 0, -err::range},
        {ES_GUEST_MEM_MAX + 4096, 0, 0, -err::range},
        {~0ull & ~4095ull, 0, 0, -err::range},
        {2 * mib + 1, 0, 0, -err::inval},
        {2 * mib, ES_VM_SHADOW_PAGING, 0, 0},
        {2 * mib, 2, 0, -err::inval},
        {2 * mib, ES_VM_SHADOW_PAGING | 0x80000000u, 0, -err::inval},
        {2 * mib, 0, 1, -err::inval},
    };
    for (const auto& r : rows) {
        es_vm_create a{};
        a.size = sizeof a;
        a.mem_bytes = r.mem;
        a.flags = r.flags;
        a.reserved[0] = r.reserved0;
        CAPTURE(r.mem, r.flags, r.reserved0);
        CHECK(check_create(a) == r.want);
    }
}

TEST_CASE("create: vCPUs up to ES_MAX_VCPUS, 0 meaning 1; reserved0 must be 0") {
    es_vm_create a{};
    a.size = sizeof a;
    a.mem_bytes = 2 * mib;
    for (std::uint32_t n : {0u, 1u, 2u, 8u, std::uint32_t{ES_MAX_VCPUS}}) {
        a.vcpus = n;
        CHECK(check_create(a) == 0);
    }
    a.vcpus = ES_MAX_VCPUS + 1;
    CHECK(check_create(a) == -err::range);
    a.vcpus = ~0u;
    CHECK(check_create(a) == -err::range);
    a.vcpus = 2;
    a.reserved0 = 1;
    CHECK(check_create(a) == -err::inval);
}

TEST_CASE("vCPU create: an index below the VM's count, reserved fields clear") {
    es_vcpu_create a{};
    a.size = sizeof a;
    CHECK(check_vcpu_create(a, 2) == 0);
    a.index = 1;
    CHECK(check_vcpu_create(a, 2) == 0);
    a.index = 2;
    CHECK(check_vcpu_create(a, 2) == -err::range);
    a.index = ~0u;
    CHECK(check_vcpu_create(a, 2) == -err::range);
    a.index = 0;
    a.reserved[1] = 1;
    CHECK(check_vcpu_create(a, 2) == -err::inval);
}

TEST_CASE("shadow paging runs long-mode guests only") {
    CHECK(check_paging_mode(true, ES_MODE_LONG) == 0);
    CHECK(check_paging_mode(true, ES_MODE_REAL) == -err::not_supported);
    CHECK(check_paging_mode(true, ES_MODE_PROTECTED) == -err::not_supported);
    CHECK(check_paging_mode(true, ES_MODE_LINUX64) == 0);
    for (std::uint32_t mode = ES_MODE_REAL; mode <= ES_MODE_LINUX64; ++mode)
        CHECK(check_paging_mode(false, mode) == 0);
}

TEST_CASE("load: ranges that overflow or leave RAM are refused") {
    struct row {
        std::uint64_t gpa, len, data;
        int want;
    };
    const std::uint64_t ram = 2 * mib;
    const row rows[] = {
        {0x1000, 100, 1, 0},
        {0, ram, 1, 0},
        {ram - 1, 1, 1, 0},
        {ram, 1, 1, -err::no_space},
        {ram - 1, 2, 1, -err::no_space},
        {1, ~0ull, 1, -err::no_space},
        {~0ull, 2, 1, -err::no_space},
        {0x1000, 0, 1, -err::inval},
        {0x1000, 10, 0, -err::fault},
    };
    for (const auto& r : rows) {
        es_vm_load a{};
        a.size = sizeof a;
        a.gpa = r.gpa;
        a.len = r.len;
        a.data = r.data;
        CAPTURE(r.gpa, r.len);
        CHECK(check_load(a, ram) == r.want);
    }
    es_vm_load a{};
    a.len = 1;
    a.data = 1;
    a.reserved[3] = 1;
    CHECK(check_load(a, ram) == -err::inval);
}

TEST_CASE("start state: modes, entries and stacks") {
    const std::uint64_t ram = 2 * mib;
    auto st = [](std::uint32_t mode, std::uint64_t entry, std::uint64_t stack) {
        es_vcpu_state a{};
        a.size = sizeof a;
        a.mode = mode;
        a.entry = entry;
        a.stack = stack;
        return a;
    };
    CHECK(check_state(st(ES_MODE_REAL, 0x1000, 0), ram) == 0);
    CHECK(check_state(st(ES_MODE_PROTECTED, 0x1000, 0), ram) == 0);
    CHECK(check_state(st(ES_MODE_LONG, 0x1000, 0), ram) == 0);
    CHECK(check_state(st(3, 0x1000, 0), ram) == -err::inval);
    CHECK(check_state(st(ES_MODE_REAL, ram, 0), ram) == -err::no_space);
    CHECK(check_state(st(ES_MODE_REAL, 0x100000, 0), 4 * mib) == -err::inval);
    CHECK(check_state(st(ES_MODE_LONG, ram - 4096, 0), ram) == -err::no_space);
    CHECK(check_state(st(ES_MODE_REAL, 0x1000, ram + 1), ram) == -err::no_space);
    auto reserved = st(ES_MODE_REAL, 0x1000, 0);
    reserved.reserved[0] = 5;
    CHECK(check_state(reserved, ram) == -err::inval);
}

TEST_CASE("run: flags, reserved, console buffer") {
    es_run a{};
    a.size = sizeof a;
    CHECK(check_run(a) == 0);
    a.console_cap = 10;
    CHECK(check_run(a) == -err::fault);
    a.console = 1;
    CHECK(check_run(a) == 0);
    a.flags = 2;
    CHECK(check_run(a) == -err::inval);
}

TEST_CASE("ES_VM_INPUT arguments: flags, accepted and reserved zero, at most one ring") {
    es_input a{};
    a.size = sizeof a;
    CHECK(check_input(a) == 0); // nothing to give
    a.data = 0x1000;
    a.len = ES_INPUT_RING_BYTES;
    CHECK(check_input(a) == 0);
    a.len = ES_INPUT_RING_BYTES + 1;
    CHECK(check_input(a) == -err::inval);
    a.len = 1;
    a.accepted = 1;
    CHECK(check_input(a) == -err::inval);
    a.accepted = 0;
    a.flags = 1;
    CHECK(check_input(a) == -err::inval);
    a.flags = 0;
    a.reserved[1] = 1;
    CHECK(check_input(a) == -err::inval);
    a.reserved[1] = 0;
    a.data = 0;
    CHECK(check_input(a) == -err::fault);
}
