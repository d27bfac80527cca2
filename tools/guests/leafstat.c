// leafstat: the Exitscope CPUID leaves (CONTRACT.md section 1) as seen from Linux user space
// inside a guest. Lines follow the course test programs' form (seed 001, also cpuid-probe):
//   CPUID(0x4FFFFFFC), total exits=N
//   CPUID(0x4FFFFFFD), total cycles=N
//   CPUID(0x4FFFFFFE), exit number R exits=N [tag]
//   CPUID(0x4FFFFFFF), exit number R cycles=N [tag]
// for every reason 0..80, so the undefined numbers (35, 38, 42, above 77) are asked too; the
// totals are read after the per-reason leaves (printed first all the same). A tag
// says what the registers mean when the count alone cannot: "(undefined: edx=0xffffffff)", or
// "(all zero: not enabled, or none yet)" (an enabled reason that never exited answers zeros as
// well), or "(unexpected: eax=.. ebx=.. ecx=.. edx=..)" for a shape the contract does not allow.
//
//   leafstat             everything above; with more than one online CPU instead one block per
//                        CPU in the form of the course's `cpuid -l LEAF -s SUB` screenshots,
//                        the process pinned to each CPU in turn (sched_setaffinity):
//                          CPU 0:
//                            0x4ffffffe 0x01: eax=0x0001dc3e ebx=0x00000000 ecx=... edx=...
//                        rows for 0x4ffffffc, 0x4ffffffd, then 0x4ffffffe and 0x4fffffff for
//                        every reason 0..80.
//   leafstat --repeat N  N queries of 0x4FFFFFFC in a row between a "before" and an "after"
//                        query: the difference is N, plus 1 for the "after" query itself (it
//                        is counted before it is answered), plus the other exits meanwhile.
// Built static (gcc -static -O2): the guest's initramfs has no C library.
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    leaf_total_exits = 0x4FFFFFFC,
    leaf_total_cycles = 0x4FFFFFFD,
    leaf_reason_exits = 0x4FFFFFFE,
    leaf_reason_cycles = 0x4FFFFFFF,
    last_reason = 80, // a few past the SDM's last (77, TDCALL), to show undefined answers
};
#define UNDEFINED_EDX 0xFFFFFFFFu

struct regs {
    uint32_t a, b, c, d;
};

static struct regs query(uint32_t leaf, uint32_t ecx) {
    struct regs r;
    __cpuid_count(leaf, ecx, r.a, r.b, r.c, r.d);
    return r;
}

static uint64_t cycles_of(struct regs r) {
    return (uint64_t)r.b << 32 | r.c;
}

// The tag for a per-reason answer; exits_leaf: 0x4FFFFFFE, where EBX and ECX must be 0.
static void print_tag(struct regs r, int exits_leaf) {
    if (r.d == UNDEFINED_EDX && r.a == 0 && r.b == 0 && r.c == 0)
        printf(" (undefined: edx=0xffffffff)");
    else if (r.a == 0 && r.b == 0 && r.c == 0 && r.d == 0)
        printf(" (all zero: not enabled, or none yet)");
    else if (r.d != 0 || (exits_leaf ? (r.b | r.c) : r.a) != 0)
        printf(" (unexpected: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x)", r.a, r.b, r.c, r.d);
    printf("\n");
}

static void print_all(void) {
    // Everything is asked before anything is printed: output (UART exits) would swell the
    // counts between queries. The totals come last, so each is at least the sum of the
    // per-reason figures read before it (check-leafstat relies on that).
    static struct regs exits[last_reason + 1], cycles[last_reason + 1];
    for (uint32_t reason = 0; reason <= last_reason; ++reason) {
        exits[reason] = query(leaf_reason_exits, reason);
        cycles[reason] = query(leaf_reason_cycles, reason);
    }
    uint64_t total_cycles = cycles_of(query(leaf_total_cycles, 0));
    uint32_t total_exits = query(leaf_total_exits, 0).a;

    printf("CPUID(0x4FFFFFFC), total exits=%u\n", total_exits);
    printf("CPUID(0x4FFFFFFD), total cycles=%llu\n", (unsigned long long)total_cycles);
    for (uint32_t reason = 0; reason <= last_reason; ++reason) {
        printf("CPUID(0x4FFFFFFE), exit number %u exits=%u", reason, exits[reason].a);
        print_tag(exits[reason], 1);
        printf("CPUID(0x4FFFFFFF), exit number %u cycles=%llu", reason,
               (unsigned long long)cycles_of(cycles[reason]));
        print_tag(cycles[reason], 0);
    }
}

static void print_row(uint32_t leaf, uint32_t sub, struct regs r) {
    printf("  0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n", leaf, sub, r.a, r.b,
           r.c, r.d);
}

// One block per CPU this process may run on; false when there is only one (or it cannot pin).
static int print_per_cpu(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2)
        return 0;
    static struct regs rows[2 * (last_reason + 1)];
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) {
            printf("CPU %d: cannot pin to it\n", cpu);
            continue;
        }
        // All queries first, then the output (its UART exits would swell the counts between).
        for (uint32_t reason = 0; reason <= last_reason; ++reason) {
            rows[2 * reason] = query(leaf_reason_exits, reason);
            rows[2 * reason + 1] = query(leaf_reason_cycles, reason);
        }
        struct regs total_cycles = query(leaf_total_cycles, 0);
        struct regs total_exits = query(leaf_total_exits, 0);
        printf("CPU %d:\n", cpu);
        print_row(leaf_total_exits, 0, total_exits);
        print_row(leaf_total_cycles, 0, total_cycles);
        for (uint32_t reason = 0; reason <= last_reason; ++reason) {
            print_row(leaf_reason_exits, reason, rows[2 * reason]);
            print_row(leaf_reason_cycles, reason, rows[2 * reason + 1]);
        }
    }
    sched_setaffinity(0, sizeof allowed, &allowed);
    return 1;
}

static void print_repeat(unsigned long n) {
    // Nothing but CPUIDs between the two reads: no output, no system call.
    uint32_t before = query(leaf_total_exits, 0).a;
    for (unsigned long i = 0; i < n; ++i)
        query(leaf_total_exits, 0);
    uint32_t after = query(leaf_total_exits, 0).a;
    uint32_t diff = after - before; // the leaf gives the low 32 bits: wraps are fine
    printf("CPUID(0x4FFFFFFC), total exits=%u (before %lu queries)\n", before, n);
    printf("CPUID(0x4FFFFFFC), total exits=%u (after)\n", after);
    printf("leafstat: repeat=%lu difference=%u other=%lld (difference = %lu queries + 1 for the "
           "read of \"after\" + other exits)\n",
           n, diff, (long long)diff - (long long)n - 1, n);
}

int main(int argc, char** argv) {
    if (argc == 1) {
        if (!print_per_cpu())
            print_all();
        return 0;
    }
    char* end = NULL;
    if (argc == 3 && strcmp(argv[1], "--repeat") == 0) {
        unsigned long n = strtoul(argv[2], &end, 10);
        if (*argv[2] != '\0' && *argv[2] != '-' && *end == '\0') {
            print_repeat(n);
            return 0;
        }
    }
    fprintf(stderr, "usage: leafstat [--repeat N]\n");
    return 2;
}
