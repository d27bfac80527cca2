// How the CLI names paging (issue 18): es_stats.paging in `stat` and `stat --json`, the modes
// `info` offers, and KVM's paging from kvm_intel's ept parameter (summary, --paging check).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "capability_sets.hpp"
#include "cli/format.hpp"
#include "cli/kvm_backend.hpp"
#include "scratch_dir.hpp"

using namespace es::cli;

namespace {

es_info info_of(const es::vmx_msrs& m) {
    es_info info{};
    info.size = sizeof info;
    info.abi_version = ES_ABI_VERSION;
    info.vmx_available = 1;
    for (int i = 0; i < ES_MSR_COUNT; ++i)
        info.msr[i] = m.value[i];
    return info;
}

std::vector<reason_row> one_row() {
    return {{10, true, true, 5, 500}};
}

} // namespace

TEST_CASE("paging words: each kind of VM, both, none") {
    CHECK(std::string(paging_name(false)) == "ept");
    CHECK(std::string(paging_name(true)) == "shadow");
    CHECK(paging_words(0).empty());
    CHECK(paging_words(ES_STATS_PAGING_EPT) == "ept");
    CHECK(paging_words(ES_STATS_PAGING_SHADOW) == "shadow");
    CHECK(paging_words(ES_STATS_PAGING_EPT | ES_STATS_PAGING_SHADOW) == "ept+shadow");
    CHECK(paging_stat_line(0).empty());
    CHECK(paging_stat_line(ES_STATS_PAGING_SHADOW) == "Paging: shadow\n");
    CHECK(paging_stat_line(ES_STATS_PAGING_EPT | ES_STATS_PAGING_SHADOW) ==
          "Paging: ept+shadow (VMs of both kinds ran since load or reset: the figures mix them)\n");
}

TEST_CASE("stat --json: \"paging\" is the VMs' paging, null when unknown") {
    const auto j = nlohmann::json::parse(format_stat_json(one_row(), "global", 0));
    CHECK(j.at("paging").is_null());
    CHECK(nlohmann::json::parse(format_stat_json(one_row(), "global", ES_STATS_PAGING_EPT))
              .at("paging") == "ept");
    CHECK(nlohmann::json::parse(format_stat_json(one_row(), "vm", ES_STATS_PAGING_SHADOW))
              .at("paging") == "shadow");
    // The contract's keys are still there.
    CHECK(j.at("scope") == "global");
    CHECK(j.at("total").at("count") == 5);
}

TEST_CASE(
    "info: EPT and shadow on Haswell, EPT alone without INVLPG exiting, shadow alone without EPT") {
    const es_info haswell = info_of(es::test::haswell());
    const paging_offer both = paging_offered(haswell);
    CHECK(both.ept);
    CHECK(both.shadow);
    CHECK(std::string(both.preferred()) == "ept");
    CHECK(format_info_text(haswell).find("Paging: ept, shadow (run --paging ept|shadow; default "
                                         "ept)\n") != std::string::npos);
    const auto j = nlohmann::json::parse(format_info_json(haswell));
    CHECK(j.at("paging") == "ept");
    CHECK(j.at("paging_modes") == nlohmann::json::array({"ept", "shadow"}));

    // INVLPG exiting cannot be set: no shadow paging.
    es::vmx_msrs m = es::test::haswell();
    m.value[ES_MSR_TRUE_PROCBASED] &= ~(std::uint64_t{sdm::proc_ctl::invlpg_exiting} << 32);
    m.value[ES_MSR_PROCBASED] &= ~(std::uint64_t{sdm::proc_ctl::invlpg_exiting} << 32);
    const paging_offer ept_only = paging_offered(info_of(m));
    CHECK(ept_only.ept);
    CHECK_FALSE(ept_only.shadow);
    CHECK(format_info_text(info_of(m)).find("Paging: ept only") != std::string::npos);

    // No EPT (a Core 2): shadow paging only, and run's default.
    es::vmx_msrs no_ept = es::test::haswell();
    no_ept.value[ES_MSR_PROCBASED2] = es::test::ctl_msr(0, 0xff & ~sdm::proc_ctl2::enable_ept);
    const paging_offer shadow_only = paging_offered(info_of(no_ept));
    CHECK_FALSE(shadow_only.ept);
    CHECK(shadow_only.shadow);
    CHECK(std::string(shadow_only.preferred()) == "shadow");
    CHECK(format_info_text(info_of(no_ept))
              .find("Paging: shadow only (no EPT: run's default; --paging ept is refused)\n") !=
          std::string::npos);
    CHECK(nlohmann::json::parse(format_info_json(info_of(no_ept))).at("paging_modes") ==
          nlohmann::json::array({"shadow"}));

    // No VMX on the CPUs: nothing is offered.
    es_info off = haswell;
    off.vmx_available = 0;
    CHECK_FALSE(paging_offered(off).ept);
    CHECK_FALSE(paging_offered(off).shadow);
    CHECK(paging_offered(off).preferred() == nullptr);
    CHECK(format_info_text(off).find("Paging: none") != std::string::npos);
    CHECK(nlohmann::json::parse(format_info_json(off)).at("paging").is_null());
}

TEST_CASE("kvm_intel's ept parameter: Y and N, anything else unknown") {
    CHECK(parse_kvm_ept_param("Y\n") == true);
    CHECK(parse_kvm_ept_param("N\n") == false);
    CHECK(parse_kvm_ept_param("1") == true);
    CHECK(parse_kvm_ept_param("0\n") == false);
    CHECK_FALSE(parse_kvm_ept_param(""));
    CHECK_FALSE(parse_kvm_ept_param("yes\n"));
    CHECK_FALSE(parse_kvm_ept_param("\n"));

    const es::test::scratch dir;
    CHECK(read_kvm_paging(dir.file("ept", "N\n").c_str()).ept == false);
    CHECK(read_kvm_paging(dir.file("ept1", "Y\n").c_str()).ept == true);
    const kvm_paging odd = read_kvm_paging(dir.file("odd", "maybe\n").c_str());
    CHECK_FALSE(odd.ept);
    CHECK(odd.why.find("reads neither Y nor N") != std::string::npos);
    const kvm_paging missing = read_kvm_paging((dir.dir + "/none").c_str());
    CHECK_FALSE(missing.ept);
    CHECK(missing.why.find("No such file or directory (is kvm_intel loaded?") != std::string::npos);
}

TEST_CASE("run --backend kvm --paging: runs when KVM's paging matches, else names the reload") {
    const kvm_paging ept{true, ""}, shadow{false, ""}, unknown{std::nullopt, "cannot read it"};
    CHECK(kvm_paging_mismatch(false, ept).empty());
    CHECK(kvm_paging_mismatch(true, shadow).empty());
    CHECK(kvm_paging_mismatch(true, ept) ==
          "--paging shadow: KVM runs with ept paging (kvm_intel ept=Y); reload it with "
          "`modprobe -r kvm_intel && modprobe kvm_intel ept=0` (no VM may be running), or drop "
          "--paging");
    CHECK(kvm_paging_mismatch(false, shadow).find("modprobe kvm_intel ept=1`") !=
          std::string::npos);
    CHECK(kvm_paging_mismatch(true, unknown) ==
          "--paging shadow: cannot tell which paging KVM uses: cannot read it");

    CHECK(kvm_paging_note(ept) == "; KVM paging: ept");
    CHECK(kvm_paging_note(shadow) == "; KVM paging: shadow");
    CHECK(kvm_paging_note(unknown).empty());
}
