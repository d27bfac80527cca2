// libFuzzer target: mmu::guest_walk against a second, deliberately plain model of the SDM's
// 4-level walk written below (literal bit numbers, the rights as a list of refusals, A/D set by
// OR-ing into RAM), on random guest RAM of 1 to 8 pages whose words are mostly present entries
// pointing into (or just past) RAM, with random CR3, linear address, access and context. Both
// must agree on the outcome, the address, the level, the error code, the rights, D, and every
// word of RAM afterwards (the A/D side effects). A translated 4 KiB walk is then the fill of a
// PTE prefetch (mmu/shadow_prefetch.hpp) with a random window: the prefetch writes no guest RAM,
// and every neighbour it maps is checked against the reference walk of its own address: a frame
// in RAM and the one the reference gives, A already set everywhere (the reference read walk
// changes nothing), and no right wider than the reference's (W only when writable and dirty, U
// only for a user page, no XD only when executable, G only when global).
#include <cstdint>
#include <cstring>
#include <vector>

#include "mmu/guest_walk.hpp"
#include "mmu/shadow_prefetch.hpp"
#include "tests/fuzz/fuzz_require.hpp"

using fuzz::require;

namespace {

std::uint64_t splitmix(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct ram {
    std::vector<std::uint64_t> words;
    es::mmu::guest_word read64(std::uint64_t gpa) {
        if (gpa / 8 >= words.size())
            return {0, false};
        return {words[gpa / 8], true};
    }
    bool cmpxchg64(std::uint64_t gpa, std::uint64_t expected, std::uint64_t desired) {
        require(gpa % 8 == 0 && gpa / 8 < words.size());
        if (words[gpa / 8] != expected)
            return false;
        words[gpa / 8] = desired;
        return true;
    }
};

// A word that is usually a present entry to a page in RAM or just past it, with random R/W,
// U/S, PWT, PCD, A, D, G and ignored bits, PS and XD a quarter of the time (half the PS entries
// with an aligned frame), and sometimes a random bit in 51:12 (reserved bits, large-page holes)
// or in the ignored bits 62:52.
std::uint64_t entry_like(std::uint64_t x, unsigned pages) {
    std::uint64_t e = x & 0xf7e;
    if (((x >> 12) & 7) != 0)
        e |= 1;
    if (((x >> 40) & 3) == 0)
        e |= 1ull << 7;
    e |= ((x >> 16) % (pages + 1)) << 12;
    if ((e & (1ull << 7)) != 0 && ((x >> 44) & 1) != 0)
        e &= ~0x3fffe000ull; // a large leaf's frame without holes (bit 12 is its PAT bit)
    if (((x >> 24) & 15) == 0)
        e |= 1ull << (12 + (x >> 28) % 40);
    if (((x >> 33) & 3) == 0)
        e |= 1ull << 63;
    if (((x >> 35) & 15) == 0)
        e |= ((x >> 42) & 0x7ff) << 52;
    return e;
}

// The reference: the SDM's rules spelled out once more, as plainly as possible.
struct ref_context {
    bool wp, nx, pge, smep, smap, gb;
    unsigned maxphy;
};
enum ref_kind { k_read, k_write, k_fetch };

es::mmu::walk_result reference(std::vector<std::uint64_t>& m, std::uint64_t cr3, std::uint64_t la,
                               ref_kind kind, bool user, bool ac, const ref_context& c) {
    using es::mmu::walk_outcome;
    using sdm::paging::level;
    es::mmu::walk_result r{};
    r.level = level::pml4;
    const std::uint64_t top = la >> 47;
    if (top != 0 && top != 0x1ffff) {
        r.outcome = walk_outcome::non_canonical;
        return r;
    }
    std::uint32_t code = 0;
    if (kind == k_write)
        code |= 2;
    if (user)
        code |= 4;
    if (kind == k_fetch && (c.smep || c.nx))
        code |= 16;
    std::uint64_t addr_bits = 0; // bits maxphy-1:12
    for (unsigned b = 12; b < c.maxphy; ++b)
        addr_bits |= 1ull << b;
    std::uint64_t table = cr3 & addr_bits;
    const unsigned shift[4] = {39, 30, 21, 12};
    std::uint64_t where[4];
    unsigned n = 0;
    for (unsigned i = 0; i < 4; ++i) {
        const auto lvl = static_cast<level>(4 - i);
        const std::uint64_t at = table + ((la >> shift[i]) & 511) * 8;
        if (at / 8 >= m.size()) {
            r.outcome = walk_outcome::table_outside_ram;
            r.address = at;
            r.level = lvl;
            return r;
        }
        const std::uint64_t e = m[at / 8];
        const bool ps = ((e >> 7) & 1) != 0;
        const bool big = (i == 1 || i == 2) && ps;
        std::uint64_t reserved = 0;
        for (unsigned b = c.maxphy; b < 52; ++b)
            reserved |= 1ull << b;
        if (!c.nx)
            reserved |= 1ull << 63;
        if (i == 0 || (i == 1 && !c.gb))
            reserved |= 1ull << 7;
        for (unsigned b = 13; big && b < shift[i]; ++b)
            reserved |= 1ull << b;
        if ((e & 1) == 0 || (e & reserved) != 0) {
            r.outcome = walk_outcome::page_fault;
            r.error_code = code | ((e & 1) == 0 ? 0 : 1 | 8);
            r.level = lvl;
            return r;
        }
        where[n++] = at;
        if (big || i == 3)
            break;
        table = e & 0x000ffffffffff000ull;
    }
    bool w = true, u = true, x = true;
    for (unsigned j = 0; j < n; ++j) {
        const std::uint64_t e = m[where[j] / 8];
        w = w && (e & 2) != 0;
        u = u && (e & 4) != 0;
        x = x && !(c.nx && (e >> 63) != 0);
    }
    const std::uint64_t leaf = m[where[n - 1] / 8];
    const unsigned leaf_shift = shift[n - 1];
    const auto lvl = static_cast<level>(5 - n);
    bool refused = false;
    refused = refused || (user && !u);
    refused = refused || (user && kind == k_write && !w);
    refused = refused || (!user && kind == k_write && c.wp && !w);
    refused = refused || (kind == k_fetch && !x);
    refused = refused || (!user && kind == k_fetch && c.smep && u);
    refused = refused || (!user && kind != k_fetch && c.smap && u && !ac);
    if (refused) {
        r.outcome = walk_outcome::page_fault;
        r.error_code = code | 1;
        r.level = lvl;
        return r;
    }
    for (unsigned j = 0; j < n; ++j)
        m[where[j] / 8] |= 1ull << 5;
    if (kind == k_write)
        m[where[n - 1] / 8] |= 1ull << 6;
    const std::uint64_t size = 1ull << leaf_shift;
    r.outcome = walk_outcome::translated;
    r.address = (leaf & 0x000ffffffffff000ull & ~(size - 1)) | (la & (size - 1));
    r.level = lvl;
    r.permissions = {w, u, x, c.pge && ((leaf >> 8) & 1) != 0};
    r.dirty = ((m[where[n - 1] / 8] >> 6) & 1) != 0;
    return r;
}

// A shadow pool in host memory (mmu::shadow_pool) with the 4 tables one fill's path uses (no
// more are handed out); host frame = guest frame + host_offset.
struct pool {
    std::vector<std::uint64_t> mem = std::vector<std::uint64_t>(4 * 512);
    std::uint32_t used = 1;
    bool local[es::mmu::shadow_pool_pages] = {};
    bool gib_pieces = false;
    std::uint64_t* table(std::uint32_t i) { return &mem[std::size_t{i} * 512]; }
    std::uint64_t table_pa(std::uint32_t i) { return 0x80000000ull + std::uint64_t{i} * 4096; }
};
constexpr std::uint64_t host_offset = 0x100000000ull;

// The prefetch after the fill `fill` of `la`, checked neighbour by neighbour (see the top).
void check_prefetch(ram& mem, std::vector<std::uint64_t>& model, std::uint64_t cr3,
                    std::uint64_t la, const es::mmu::walk_result& fill,
                    const es::mmu::paging_context& c, const ref_context& rc, unsigned window) {
    using sdm::paging::level;
    pool p;
    const std::uint32_t t = es::mmu::leaf_table(p, la);
    require(t != es::mmu::no_table);
    const std::uint64_t ram_bytes = mem.words.size() * 8;
    es::mmu::prefetch_neighbours(mem, p, t, la, fill, c, window, [&](std::uint64_t gpa) {
        return gpa < ram_bytes ? gpa + host_offset : es::mmu::no_frame;
    });
    require(p.used == 4); // the fill's path, nothing more
    require(mem.words == model);
    for (unsigned i = 0; i < 512; ++i) {
        const std::uint64_t e = p.table(t)[i];
        if ((e & 1) == 0)
            continue;
        require(i / window == sdm::paging::table_index(la, level::pt) / window);
        const std::uint64_t frame = (e & 0x000ffffffffff000ull) - host_offset;
        require(frame < ram_bytes);
        const std::uint64_t nla = (la & ~0x1fffffull) | (std::uint64_t{i} << 12);
        const std::vector<std::uint64_t> before = model;
        const es::mmu::walk_result r = reference(model, cr3, nla, k_read, false, true, rc);
        require(r.outcome == es::mmu::walk_outcome::translated && r.level == level::pt);
        require(model == before);
        require(frame == (r.address & ~0xfffull));
        require((e & 2) == 0 || (r.permissions.writable && r.dirty));
        require((e & 4) == 0 || r.permissions.user);
        require((e >> 63) != 0 || r.permissions.executable);
        require((e & 0x100) == 0 || r.permissions.global);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint8_t head[32] = {};
    std::memcpy(head, data, size < sizeof head ? size : sizeof head);
    auto u64_at = [&](unsigned off) {
        std::uint64_t v;
        std::memcpy(&v, head + off, sizeof v);
        return v;
    };
    std::uint64_t seed = u64_at(0);
    const unsigned pages = 1 + head[8] % 8;
    const std::uint8_t flags = head[9];
    const ref_context rc{(flags & 1) != 0,  (flags & 2) != 0,  (flags & 4) != 0,   (flags & 8) != 0,
                         (flags & 16) != 0, (flags & 32) != 0, 36u + head[10] % 17};
    const auto kind = static_cast<ref_kind>(head[11] % 3);
    const bool user = (head[11] & 4) != 0;
    const bool ac = !user && (head[11] & 8) != 0;
    // Mostly canonical (bit 47 copied up), sometimes the raw bits.
    std::uint64_t la = u64_at(12);
    if ((head[11] & 0xf0) != 0)
        la = static_cast<std::uint64_t>(static_cast<std::int64_t>(la << 16) >> 16);
    const std::uint64_t raw_cr3 = u64_at(20);
    const std::uint64_t cr3 = ((raw_cr3 % (pages + 1)) << 12) | (raw_cr3 & 0xfff0000000000fffull);

    ram mem{std::vector<std::uint64_t>(std::size_t{pages} * 512)};
    for (auto& w : mem.words)
        w = entry_like(splitmix(seed), pages);
    // Then the input's own words: (index, value) pairs steer the walk through chosen entries.
    for (std::size_t off = 32; off + 10 <= size; off += 10) {
        std::uint16_t index;
        std::uint64_t value;
        std::memcpy(&index, data + off, sizeof index);
        std::memcpy(&value, data + off + 2, sizeof value);
        mem.words[index % mem.words.size()] =
            (index & 0x8000) != 0 ? value : entry_like(value, pages);
    }
    std::vector<std::uint64_t> model = mem.words;

    const es::mmu::paging_context c{
        rc.wp, rc.nx, rc.pge, rc.smep, rc.smap, rc.gb, static_cast<std::uint8_t>(rc.maxphy)};
    const es::mmu::access a{kind == k_read    ? es::mmu::access_kind::read
                            : kind == k_write ? es::mmu::access_kind::write
                                              : es::mmu::access_kind::fetch,
                            user, ac};
    const es::mmu::walk_result got = es::mmu::guest_walk(mem, cr3, la, a, c);
    const es::mmu::walk_result want = reference(model, cr3, la, kind, user, ac, rc);

    require(got.outcome == want.outcome);
    require(got.address == want.address);
    require(got.error_code == want.error_code);
    require(got.level == want.level);
    if (got.outcome == es::mmu::walk_outcome::translated) {
        require(got.permissions == want.permissions);
        require(got.dirty == want.dirty);
    }
    require(mem.words == model);
    if (got.outcome == es::mmu::walk_outcome::translated && got.level == sdm::paging::level::pt)
        check_prefetch(mem, model, cr3, la, got, c, rc, 1u << (1 + head[28] % 9));
    return 0;
}
