// Rendering of stat, reasons and info output.
#include "format.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <span>

#include "json_out.hpp"
#include "observe.hpp"
#include "reason_names.hpp"
#include "sdm/vmx_control_names.hpp"
#include "vmx/pure/capabilities.hpp"

namespace es::cli {

std::vector<reason_row> make_rows(const es_stats& stats, const es_reasons& reasons) {
    std::vector<reason_row> rows;
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
        const es_reason_stats& s = stats.reasons[r];
        const moments m = reason_moments(s);
        rows.push_back({r, (reasons.flags[r] & ES_REASON_DEFINED) != 0,
                        (reasons.flags[r] & ES_REASON_ENABLED) != 0, s.count, s.cycles,
                        s.min_cycles, s.max_cycles, m.mean, m.stddev,
                        std::vector<std::uint64_t>(s.hist, s.hist + ES_HIST_BUCKETS)});
    }
    return rows;
}

namespace {

constexpr const char* stat_header =
    "{:>4}  {:<22} {:>14} {:>7} {:>16} {:>10} {:>12} {:>10} {:>10}\n";

std::string stat_row(const reason_row& r, std::uint64_t total) {
    const unsigned share_tenths =
        total ? static_cast<unsigned>((r.count * 1000 + total / 2) / total) : 0;
    const bool timed = r.count && r.max;
    const auto rounded = [](double v) {
        return group_digits(static_cast<std::uint64_t>(std::llround(v)));
    };
    return fmt::format("{:>4}  {:<22} {:>14} {:>4}.{}% {:>16} {:>10} {:>12} {:>10} {:>10}{}\n",
                       r.reason, reason_key(r.reason), group_digits(r.count), share_tenths / 10,
                       share_tenths % 10, group_digits(r.cycles), timed ? group_digits(r.min) : "-",
                       timed ? group_digits(r.max) : "-", r.count ? rounded(r.mean) : "-",
                       timed ? rounded(r.stddev) : "-", r.enabled ? "" : "  (not enabled)");
}

} // namespace

std::string format_stat_table(const std::vector<reason_row>& rows, bool all, const char* scope,
                              const std::string& note) {
    std::vector<reason_row> shown;
    std::uint64_t total = 0, total_cycles = 0;
    for (const auto& r : rows) {
        total += r.count;
        total_cycles += r.cycles;
        if (r.defined && (all || r.count))
            shown.push_back(r);
    }
    std::stable_sort(shown.begin(), shown.end(),
                     [](const reason_row& a, const reason_row& b) { return a.count > b.count; });
    std::string out = fmt::format("Exit statistics ({} scope)\n", scope);
    out += fmt::format(stat_header, "nr", "reason", "count", "share", "cycles", "min", "max",
                       "mean", "stddev");
    for (const auto& r : shown)
        out += stat_row(r, total);
    if (shown.empty())
        out += "      (no exits yet; --all shows every reason)\n";
    out += fmt::format("{:>4}  {:<22} {:>14} {:>7} {:>16} {:>10} {:>12} {:>10}\n", "", "total",
                       group_digits(total), "", group_digits(total_cycles), "", "",
                       group_digits(total ? total_cycles / total : 0));
    out += note;
    return out;
}

std::string format_stat_json(const std::vector<reason_row>& rows, const char* scope,
                             std::uint32_t paging, const std::vector<vcpu_figures>& vcpus) {
    std::uint64_t total = 0, total_cycles = 0;
    json reasons = json::array();
    for (const auto& r : rows) {
        total += r.count;
        total_cycles += r.cycles;
        if (!r.defined)
            continue;
        reasons.push_back({{"reason", r.reason},
                           {"name", reason_key(r.reason)},
                           {"enabled", r.enabled},
                           {"count", r.count},
                           {"cycles", r.cycles},
                           {"min", r.min},
                           {"max", r.max},
                           {"mean", r.mean},
                           {"stddev", r.stddev},
                           {"hist", r.hist}});
    }
    const std::string words = paging_words(paging);
    // "paging" last: scripts match the contract's prefix {"scope":...,"reasons":[.
    json doc = {{"scope", scope},
                {"reasons", std::move(reasons)},
                {"total", {{"count", total}, {"cycles", total_cycles}}},
                {"paging", words.empty() ? json(nullptr) : json(words)}};
    if (!vcpus.empty())
        doc["vcpus"] = vcpu_rows_json(vcpus);
    return to_json_text(doc);
}

const char* paging_name(bool shadow) {
    return shadow ? "shadow" : "ept";
}

std::string paging_words(std::uint32_t paging) {
    const bool ept = paging & ES_STATS_PAGING_EPT, shadow = paging & ES_STATS_PAGING_SHADOW;
    if (ept && shadow)
        return "ept+shadow";
    return ept ? "ept" : shadow ? "shadow" : "";
}

std::string paging_stat_line(std::uint32_t paging) {
    const std::string words = paging_words(paging);
    if (words.empty())
        return "";
    return "Paging: " + words +
           (paging == (ES_STATS_PAGING_EPT | ES_STATS_PAGING_SHADOW)
                ? " (VMs of both kinds ran since load or reset: the figures mix them)\n"
                : "\n");
}

std::string format_stat_csv(const std::vector<reason_row>& rows) {
    std::string out = "reason,name,enabled,count,cycles,min,max,mean,stddev\n";
    for (const auto& r : rows)
        if (r.defined)
            out +=
                fmt::format("{},{},{},{},{},{},{},{:.3f},{:.3f}\n", r.reason, reason_key(r.reason),
                            r.enabled ? 1 : 0, r.count, r.cycles, r.min, r.max, r.mean, r.stddev);
    return out;
}

std::string format_reasons_table(const es_reasons& reasons) {
    constexpr const char* line = "{:>4}  {:<22} {:<8} {:<8} {}\n";
    std::string out = fmt::format(line, "nr", "name", "defined", "enabled", "description");
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
        const bool d = reasons.flags[r] & ES_REASON_DEFINED;
        const bool e = reasons.flags[r] & ES_REASON_ENABLED;
        out += fmt::format(line, r, reason_key(r), d ? "yes" : "no", e ? "yes" : "no",
                           reason_description(r));
    }
    out +=
        fmt::format("Numbers {} and above are not defined by the SDM revision Exitscope cites.\n",
                    ES_NR_REASONS);
    return out;
}

std::string format_reasons_json(const es_reasons& reasons) {
    json list = json::array();
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r)
        list.push_back({{"reason", r},
                        {"name", reason_key(r)},
                        {"description", reason_description(r)},
                        {"defined", (reasons.flags[r] & ES_REASON_DEFINED) != 0},
                        {"enabled", (reasons.flags[r] & ES_REASON_ENABLED) != 0}});
    return to_json_text({{"reasons", std::move(list)}});
}

namespace {

std::string control_block(const char* title, const control_caps& caps, std::uint32_t in_use,
                          std::span<const sdm::control_name> names) {
    std::string out = fmt::format("{}\n", title);
    for (const auto& n : names) {
        const bool can0 = !(caps.must_be_one & n.mask);
        const bool can1 = (caps.may_be_one & n.mask) != 0;
        const char* what = can0 && can1 ? "yes" : can1 ? "default (must be 1)" : "no";
        out +=
            fmt::format("  {:<34} {:<20}{}\n", n.name, what, (in_use & n.mask) ? "  [used]" : "");
    }
    return out;
}

capabilities caps_of(const es_info& info) {
    vmx_msrs m{};
    for (int i = 0; i < ES_MSR_COUNT; ++i)
        m.value[i] = info.msr[i];
    return parse_capabilities(m);
}

const char* yes_no(bool b) {
    return b ? "yes" : "no";
}

} // namespace

paging_offer paging_offered(const es_info& info) {
    const capabilities c = caps_of(info);
    paging_offer o;
    if (!info.vmx_available || !can_run_guests(c))
        return o;
    const controls_choice base = choose_controls(c);
    if (base.problem)
        return o;
    o.ept = runs_ept_guests(c);
    o.shadow = shadow_paging_controls(c, base.controls).problem == nullptr;
    return o;
}

std::string entry_mitigations_text(const es_info& info) {
    const std::uint32_t m = info.entry_mitigations;
    std::string out;
    if (m & ES_MITIGATE_VERW)
        out = "VERW";
    if (m & ES_MITIGATE_L1D_FLUSH)
        out +=
            fmt::format("{}L1D flush ({}{})", out.empty() ? "" : ", ",
                        (m & ES_MITIGATE_L1D_FLUSH_ALWAYS) ? "every entry" : "after host code ran",
                        (m & ES_MITIGATE_L1D_FLUSH_SOFTWARE) ? ", in software" : "");
    return out.empty() ? "nothing (not affected, or mitigations off)" : out;
}

std::string format_info_text(const es_info& info) {
    namespace names = sdm::control_names;
    const capabilities c = caps_of(info);
    std::string out = "Exitscope VMX capabilities (\"yes\": the control can be 0 or 1)\n";
    out += fmt::format("  VMCS revision {}, region {} bytes, true controls: {}\n", c.vmcs_revision,
                       c.vmcs_region_size, yes_no(c.true_controls));
    out += control_block("Pin-based controls", c.pin, info.controls[0], names::pin);
    out += control_block("Primary processor-based controls", c.proc, info.controls[1], names::proc);
    out += control_block("Secondary processor-based controls", c.proc2, info.controls[2],
                         names::proc2);
    out += control_block("VM-exit controls", c.exit, info.controls[3], names::vm_exit);
    out += control_block("VM-entry controls", c.entry, info.controls[4], names::vm_entry);
    out += "EPT and VPID\n";
    out += fmt::format("  EPT: {} (4-level walk {}, write-back {}, 2MB pages {}, 1GB pages {}, "
                       "A/D {})\n",
                       yes_no(c.ept), yes_no(c.ept_4_level), yes_no(c.ept_write_back),
                       yes_no(c.ept_2mb), yes_no(c.ept_1gb), yes_no(c.ept_ad));
    out += fmt::format("  INVEPT: {} (single-context {}, all-context {})\n", yes_no(c.invept),
                       yes_no(c.invept_single), yes_no(c.invept_all));
    out += fmt::format("  VPID: {} (INVVPID {})\n", yes_no(c.vpid), yes_no(c.invvpid));
    out += fmt::format("  Unrestricted guest: {}\n", yes_no(c.unrestricted_guest));
    out += fmt::format("  VMX-preemption timer: {}, ticks every 2^{} TSC cycles\n",
                       yes_no(c.preemption_timer), c.preemption_timer_rate);
    out += fmt::format("  IA32_EFER load/save on entry and exit: {}\n", yes_no(c.efer_controls));
    if (const char* why = why_no_guests(c))
        out += fmt::format("Guests: none ({})\n", why);
    else if (!runs_unpaged_modes(c))
        out += "Guests: long mode and Linux (no unrestricted guest: no real or unpaged protected "
               "mode)\n";
    else
        out += "Guests: every mode (real, protected, long, Linux)\n";
    const paging_offer paging = paging_offered(info);
    if (paging.ept && paging.shadow)
        out += "Paging: ept, shadow (run --paging ept|shadow; default ept)\n";
    else if (paging.ept)
        out += "Paging: ept only (no shadow paging: run --paging shadow is refused)\n";
    else if (paging.shadow)
        out += "Paging: shadow only (no EPT: run's default; --paging ept is refused)\n";
    else
        out += "Paging: none (no guests on this CPU)\n";
    out += fmt::format("CPUs ({})\n", info.nr_cpus);
    for (std::uint32_t i = 0; i < info.nr_cpus && i < ES_MAX_INFO_CPUS; ++i)
        out +=
            fmt::format("  cpu{:<3} {:<8} VMX {}\n", i, info.cpus[i].online ? "online" : "offline",
                        info.cpus[i].vmx_on ? "on" : "off");
    out +=
        "Before VM entry (the host kernel's mitigations): " + entry_mitigations_text(info) + "\n";
    static const char* const levels[] = {"off", "counts and cycles", "+ min/max/stddev/histograms",
                                         "+ flight recorder"};
    out += fmt::format("Module: ABI {}, cpuid_scope={}, instrument={} ({}), {} VM(s) open\n",
                       info.abi_version, info.cpuid_scope ? "global" : "vm", info.instrument,
                       info.instrument < 4 ? levels[info.instrument] : "?", info.vms);
    return out;
}

std::string format_info_json(const es_info& info) {
    const capabilities c = caps_of(info);
    const paging_offer paging = paging_offered(info);
    json modes = json::array();
    if (paging.ept)
        modes.push_back("ept");
    if (paging.shadow)
        modes.push_back("shadow");
    json cpus = json::array();
    for (std::uint32_t i = 0; i < info.nr_cpus && i < ES_MAX_INFO_CPUS; ++i)
        cpus.push_back({{"cpu", i},
                        {"online", info.cpus[i].online != 0},
                        {"vmx_on", info.cpus[i].vmx_on != 0}});
    return to_json_text(
        {{"vmx_supported", info.vmx_available != 0},
         {"ept", c.ept},
         {"vpid", c.vpid},
         {"unrestricted_guest", c.unrestricted_guest},
         {"efer_controls", c.efer_controls},
         {"runs_guests", can_run_guests(c)},
         {"runs_unpaged_modes", runs_unpaged_modes(c)},
         {"paging", paging.preferred() ? json(paging.preferred()) : json(nullptr)},
         {"paging_modes", std::move(modes)},
         {"preemption_timer", c.preemption_timer},
         {"preemption_timer_rate", c.preemption_timer_rate},
         {"vmcs_revision", c.vmcs_revision},
         {"true_controls", c.true_controls},
         {"controls",
          {{"pin", info.controls[0]},
           {"proc", info.controls[1]},
           {"proc2", info.controls[2]},
           {"exit", info.controls[3]},
           {"entry", info.controls[4]}}},
         {"cpuid_scope", info.cpuid_scope ? "global" : "vm"},
         {"instrument", info.instrument != 0},
         {"instrument_level", info.instrument},
         {"entry_mitigations",
          {{"verw", (info.entry_mitigations & ES_MITIGATE_VERW) != 0},
           {"l1d_flush", (info.entry_mitigations & ES_MITIGATE_L1D_FLUSH) != 0},
           {"l1d_flush_every_entry", (info.entry_mitigations & ES_MITIGATE_L1D_FLUSH_ALWAYS) != 0},
           {"l1d_flush_software", (info.entry_mitigations & ES_MITIGATE_L1D_FLUSH_SOFTWARE) != 0}}},
         {"vms", info.vms},
         {"cpus", std::move(cpus)}});
}

} // namespace es::cli
