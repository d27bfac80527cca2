// Rendering of stat, reasons and info output.
#include "format.hpp"

#include <cmath>

#include <algorithm>
#include <cstdio>

#include "observe.hpp"
#include "sdm/exit_reasons.hpp"
#include "vmx/capabilities.hpp"

namespace es::cli {

namespace {

const char* key_of(std::uint32_t r) {
    const auto* info = sdm::find_exit_reason(r);
    return info ? info->key : "UNDEFINED";
}

const char* name_of(std::uint32_t r) {
    const auto* info = sdm::find_exit_reason(r);
    return info ? info->name : "not defined by the SDM";
}

std::string fmt(const char* f, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

const char* boolean(bool b) {
    return b ? "true" : "false";
}

} // namespace

std::string group_digits(std::uint64_t v) {
    std::string digits = std::to_string(v);
    std::string out;
    const std::size_t n = digits.size();
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n)
            out += ',';
    }
    return out;
}

std::string json_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

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
    auto rounded = [](double v) {
        return group_digits(static_cast<std::uint64_t>(std::llround(v)));
    };
    std::string out = fmt("Exit statistics (%s scope)\n", scope);
    out += fmt("%4s  %-22s %14s %7s %16s %10s %12s %10s %10s\n", "nr", "reason", "count", "share",
               "cycles", "min", "max", "mean", "stddev");
    for (const auto& r : shown) {
        const unsigned share_tenths =
            total ? static_cast<unsigned>((r.count * 1000 + total / 2) / total) : 0;
        const bool timed = r.count && r.max;
        out +=
            fmt("%4u  %-22s %14s %4u.%u%% %16s %10s %12s %10s %10s%s\n", r.reason, key_of(r.reason),
                group_digits(r.count).c_str(), share_tenths / 10, share_tenths % 10,
                group_digits(r.cycles).c_str(), timed ? group_digits(r.min).c_str() : "-",
                timed ? group_digits(r.max).c_str() : "-", r.count ? rounded(r.mean).c_str() : "-",
                timed ? rounded(r.stddev).c_str() : "-", r.enabled ? "" : "  (not enabled)");
    }
    if (shown.empty())
        out += "      (no exits yet; --all shows every reason)\n";
    out += fmt("%4s  %-22s %14s %7s %16s %10s %12s %10s\n", "", "total",
               group_digits(total).c_str(), "", group_digits(total_cycles).c_str(), "", "",
               group_digits(total ? total_cycles / total : 0).c_str());
    out += note;
    return out;
}

std::string format_stat_json(const std::vector<reason_row>& rows, const char* scope) {
    std::uint64_t total = 0, total_cycles = 0;
    std::string out = fmt("{\"scope\":\"%s\",\"reasons\":[", scope);
    bool first = true;
    for (const auto& r : rows) {
        total += r.count;
        total_cycles += r.cycles;
        if (!r.defined)
            continue;
        out +=
            fmt("%s{\"reason\":%u,\"name\":\"%s\",\"enabled\":%s,\"count\":%llu,\"cycles\":%llu,"
                "\"min\":%llu,\"max\":%llu,\"mean\":%.3f,\"stddev\":%.3f,\"hist\":[",
                first ? "" : ",", r.reason, key_of(r.reason), boolean(r.enabled),
                static_cast<unsigned long long>(r.count), static_cast<unsigned long long>(r.cycles),
                static_cast<unsigned long long>(r.min), static_cast<unsigned long long>(r.max),
                r.mean, r.stddev);
        for (std::size_t i = 0; i < r.hist.size(); ++i)
            out += fmt("%s%llu", i ? "," : "", static_cast<unsigned long long>(r.hist[i]));
        out += "]}";
        first = false;
    }
    out +=
        fmt("],\"total\":{\"count\":%llu,\"cycles\":%llu}}\n",
            static_cast<unsigned long long>(total), static_cast<unsigned long long>(total_cycles));
    return out;
}

std::string format_stat_csv(const std::vector<reason_row>& rows) {
    std::string out = "reason,name,enabled,count,cycles,min,max,mean,stddev\n";
    for (const auto& r : rows)
        if (r.defined)
            out += fmt("%u,%s,%d,%llu,%llu,%llu,%llu,%.3f,%.3f\n", r.reason, key_of(r.reason),
                       r.enabled ? 1 : 0, static_cast<unsigned long long>(r.count),
                       static_cast<unsigned long long>(r.cycles),
                       static_cast<unsigned long long>(r.min),
                       static_cast<unsigned long long>(r.max), r.mean, r.stddev);
    return out;
}

std::string format_reasons_table(const es_reasons& reasons) {
    std::string out =
        fmt("%4s  %-22s %-8s %-8s %s\n", "nr", "name", "defined", "enabled", "description");
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
        const bool d = reasons.flags[r] & ES_REASON_DEFINED;
        const bool e = reasons.flags[r] & ES_REASON_ENABLED;
        out += fmt("%4u  %-22s %-8s %-8s %s\n", r, key_of(r), d ? "yes" : "no", e ? "yes" : "no",
                   name_of(r));
    }
    out += fmt("Numbers %u and above are not defined by the SDM revision Exitscope cites.\n",
               ES_NR_REASONS);
    return out;
}

std::string format_reasons_json(const es_reasons& reasons) {
    std::string out = "{\"reasons\":[";
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
        out += fmt("%s{\"reason\":%u,\"name\":\"%s\",\"description\":\"%s\",\"defined\":%s,"
                   "\"enabled\":%s}",
                   r ? "," : "", r, key_of(r), json_escape(name_of(r)).c_str(),
                   boolean(reasons.flags[r] & ES_REASON_DEFINED),
                   boolean(reasons.flags[r] & ES_REASON_ENABLED));
    }
    out += "]}\n";
    return out;
}

namespace {

struct control_name {
    std::uint32_t bit;
    const char* name;
};

// Names for the controls `info` lists, per control word (SDM "VM-Execution Control Fields",
// "VM-Exit Control Fields", "VM-Entry Control Fields").
constexpr control_name pin_names[] = {{0, "External-interrupt exiting"},
                                      {3, "NMI exiting"},
                                      {5, "Virtual NMIs"},
                                      {6, "Activate VMX-preemption timer"},
                                      {7, "Process posted interrupts"}};
constexpr control_name proc_names[] = {{2, "Interrupt-window exiting"},
                                       {3, "Use TSC offsetting"},
                                       {7, "HLT exiting"},
                                       {9, "INVLPG exiting"},
                                       {10, "MWAIT exiting"},
                                       {11, "RDPMC exiting"},
                                       {12, "RDTSC exiting"},
                                       {15, "CR3-load exiting"},
                                       {16, "CR3-store exiting"},
                                       {19, "CR8-load exiting"},
                                       {20, "CR8-store exiting"},
                                       {21, "Use TPR shadow"},
                                       {22, "NMI-window exiting"},
                                       {23, "MOV-DR exiting"},
                                       {24, "Unconditional I/O exiting"},
                                       {25, "Use I/O bitmaps"},
                                       {27, "Monitor trap flag"},
                                       {28, "Use MSR bitmaps"},
                                       {29, "MONITOR exiting"},
                                       {30, "PAUSE exiting"},
                                       {31, "Activate secondary controls"}};
constexpr control_name proc2_names[] = {{0, "Virtualize APIC accesses"},
                                        {1, "Enable EPT"},
                                        {2, "Descriptor-table exiting"},
                                        {3, "Enable RDTSCP"},
                                        {4, "Virtualize x2APIC mode"},
                                        {5, "Enable VPID"},
                                        {6, "WBINVD exiting"},
                                        {7, "Unrestricted guest"},
                                        {8, "APIC-register virtualization"},
                                        {9, "Virtual-interrupt delivery"},
                                        {10, "PAUSE-loop exiting"},
                                        {11, "RDRAND exiting"},
                                        {12, "Enable INVPCID"},
                                        {13, "Enable VM functions"},
                                        {14, "VMCS shadowing"},
                                        {16, "RDSEED exiting"},
                                        {17, "Enable PML"},
                                        {18, "EPT-violation #VE"},
                                        {20, "Enable XSAVES/XRSTORS"},
                                        {25, "Use TSC scaling"}};
constexpr control_name exit_names[] = {{2, "Save debug controls"},
                                       {9, "Host address-space size"},
                                       {12, "Load IA32_PERF_GLOBAL_CTRL"},
                                       {15, "Acknowledge interrupt on exit"},
                                       {18, "Save IA32_PAT"},
                                       {19, "Load IA32_PAT"},
                                       {20, "Save IA32_EFER"},
                                       {21, "Load IA32_EFER"},
                                       {22, "Save VMX-preemption timer value"}};
constexpr control_name entry_names[] = {
    {2, "Load debug controls"},         {9, "IA-32e mode guest"}, {10, "Entry to SMM"},
    {13, "Load IA32_PERF_GLOBAL_CTRL"}, {14, "Load IA32_PAT"},    {15, "Load IA32_EFER"}};

template <std::size_t N>
std::string control_block(const char* title, const control_caps& caps, std::uint32_t in_use,
                          const control_name (&names)[N]) {
    std::string out = fmt("%s\n", title);
    for (const auto& n : names) {
        const std::uint32_t bit = 1u << n.bit;
        const bool can0 = !(caps.must_be_one & bit);
        const bool can1 = (caps.may_be_one & bit) != 0;
        const char* what = can0 && can1 ? "yes" : can1 ? "default (must be 1)" : "no";
        out += fmt("  %-34s %-20s%s\n", n.name, what, (in_use & bit) ? "  [used]" : "");
    }
    return out;
}

capabilities caps_of(const es_info& info) {
    vmx_msrs m{};
    for (int i = 0; i < ES_MSR_COUNT; ++i)
        m.value[i] = info.msr[i];
    return parse_capabilities(m);
}

} // namespace

std::string format_info_text(const es_info& info) {
    const capabilities c = caps_of(info);
    std::string out = "Exitscope VMX capabilities (\"yes\": the control can be 0 or 1)\n";
    out += fmt("  VMCS revision %u, region %u bytes, true controls: %s\n", c.vmcs_revision,
               c.vmcs_region_size, c.true_controls ? "yes" : "no");
    out += control_block("Pin-based controls", c.pin, info.controls[0], pin_names);
    out += control_block("Primary processor-based controls", c.proc, info.controls[1], proc_names);
    out +=
        control_block("Secondary processor-based controls", c.proc2, info.controls[2], proc2_names);
    out += control_block("VM-exit controls", c.exit, info.controls[3], exit_names);
    out += control_block("VM-entry controls", c.entry, info.controls[4], entry_names);
    out += "EPT and VPID\n";
    out += fmt("  EPT: %s (4-level walk %s, write-back %s, 2MB pages %s, 1GB pages %s, A/D %s)\n",
               c.ept ? "yes" : "no", c.ept_4_level ? "yes" : "no", c.ept_write_back ? "yes" : "no",
               c.ept_2mb ? "yes" : "no", c.ept_1gb ? "yes" : "no", c.ept_ad ? "yes" : "no");
    out += fmt("  INVEPT: %s (single-context %s, all-context %s)\n", c.invept ? "yes" : "no",
               c.invept_single ? "yes" : "no", c.invept_all ? "yes" : "no");
    out += fmt("  VPID: %s (INVVPID %s)\n", c.vpid ? "yes" : "no", c.invvpid ? "yes" : "no");
    out += fmt("  Unrestricted guest: %s\n", c.unrestricted_guest ? "yes" : "no");
    out += fmt("  VMX-preemption timer: %s, ticks every 2^%u TSC cycles\n",
               c.preemption_timer ? "yes" : "no", c.preemption_timer_rate);
    out += fmt("CPUs (%u)\n", info.nr_cpus);
    for (std::uint32_t i = 0; i < info.nr_cpus && i < ES_MAX_INFO_CPUS; ++i)
        out += fmt("  cpu%-3u %-8s VMX %s\n", i, info.cpus[i].online ? "online" : "offline",
                   info.cpus[i].vmx_on ? "on" : "off");
    static const char* const levels[] = {"off", "counts and cycles", "+ min/max/stddev/histograms",
                                         "+ flight recorder"};
    out += fmt("Module: ABI %u, cpuid_scope=%s, instrument=%u (%s), %u VM(s) open\n",
               info.abi_version, info.cpuid_scope ? "global" : "vm", info.instrument,
               info.instrument < 4 ? levels[info.instrument] : "?", info.vms);
    return out;
}

std::string format_info_json(const es_info& info) {
    const capabilities c = caps_of(info);
    std::string out = fmt("{\"vmx_supported\":%s,\"ept\":%s,\"vpid\":%s,\"unrestricted_guest\":%s,"
                          "\"preemption_timer\":%s,\"preemption_timer_rate\":%u,"
                          "\"vmcs_revision\":%u,\"true_controls\":%s,",
                          boolean(info.vmx_available), boolean(c.ept), boolean(c.vpid),
                          boolean(c.unrestricted_guest), boolean(c.preemption_timer),
                          c.preemption_timer_rate, c.vmcs_revision, boolean(c.true_controls));
    out += fmt("\"controls\":{\"pin\":%u,\"proc\":%u,\"proc2\":%u,\"exit\":%u,\"entry\":%u},",
               info.controls[0], info.controls[1], info.controls[2], info.controls[3],
               info.controls[4]);
    out += fmt("\"cpuid_scope\":\"%s\",\"instrument\":%s,\"instrument_level\":%u,\"vms\":%u,"
               "\"cpus\":[",
               info.cpuid_scope ? "global" : "vm", boolean(info.instrument), info.instrument,
               info.vms);
    for (std::uint32_t i = 0; i < info.nr_cpus && i < ES_MAX_INFO_CPUS; ++i)
        out += fmt("%s{\"cpu\":%u,\"online\":%s,\"vmx_on\":%s}", i ? "," : "", i,
                   boolean(info.cpus[i].online), boolean(info.cpus[i].vmx_on));
    out += "]}\n";
    return out;
}

} // namespace es::cli
