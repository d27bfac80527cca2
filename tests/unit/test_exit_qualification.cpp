// Exit qualifications decode by the SDM's layouts.
#include <catch2/catch.hpp>

#include "sdm/exit_qualification.hpp"

TEST_CASE("exit qualifications decode by the SDM's layouts") {
    // OUT DX, AL to port 0xE9; REP INSW from port 0x1F0; IN EAX, 0x60 (immediate).
    const auto out = sdm::decode_io(0x00e90000);
    CHECK((out.size == 1 && !out.in && !out.string && !out.rep && out.port == 0xe9));
    const auto ins = sdm::decode_io((0x1f0ull << 16) | (1 << 5) | (1 << 4) | (1 << 3) | 1);
    CHECK((ins.size == 2 && ins.in && ins.string && ins.rep && ins.port == 0x1f0));
    const auto in = sdm::decode_io((0x60ull << 16) | (1 << 6) | (1 << 3) | 3);
    CHECK((in.size == 4 && in.in && in.port == 0x60));
    // MOV CR4, RBX; MOV RCX, CR8; MOV DR7 <- R9; MOV RAX <- DR6.
    const auto to_cr4 = sdm::decode_cr_access(0x304);
    CHECK((to_cr4.cr == 4 && to_cr4.type == sdm::cr_access_type::to_cr && to_cr4.gpr == 3));
    const auto from_cr8 = sdm::decode_cr_access(0x118);
    CHECK((from_cr8.cr == 8 && from_cr8.type == sdm::cr_access_type::from_cr && from_cr8.gpr == 1));
    const auto to_dr7 = sdm::decode_mov_dr(0x907);
    CHECK((to_dr7.dr == 7 && !to_dr7.from_dr && to_dr7.gpr == 9));
    const auto from_dr6 = sdm::decode_mov_dr(0x016);
    CHECK((from_dr6.dr == 6 && from_dr6.from_dr && from_dr6.gpr == 0));
}
