// Statistics scopes and the live-VM list (vm_scope.hpp).
#include "vm_scope.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>

#include "format.hpp"
#include "json_out.hpp"
#include "reason_names.hpp"
#include "text.hpp"

namespace es::cli {

namespace {

void oldest_first(std::vector<es_vm_entry>& vms) {
    std::sort(vms.begin(), vms.end(),
              [](const es_vm_entry& a, const es_vm_entry& b) { return a.id < b.id; });
}

const es_vm_entry* find_vm(const std::vector<es_vm_entry>& vms, std::uint32_t id) {
    for (const es_vm_entry& v : vms)
        if (v.id == id)
            return &v;
    return nullptr;
}

std::string id_list(std::vector<es_vm_entry> vms) {
    oldest_first(vms);
    std::string out;
    for (const es_vm_entry& v : vms)
        out += (out.empty() ? "" : ", ") + std::to_string(v.id);
    return out;
}

const char* paging_of(const es_vm_entry& v) {
    return paging_name(v.paging & ES_STATS_PAGING_SHADOW);
}

} // namespace

std::string scope_label(const stats_scope& s) {
    switch (s.scope) {
    case ES_SCOPE_CPU:
        return "cpu" + std::to_string(s.cpu);
    case ES_SCOPE_VM:
        return "vm" + std::to_string(s.vm_id);
    case ES_SCOPE_VCPU:
        return "vm" + std::to_string(s.vm_id) + ".vcpu" + std::to_string(s.vcpu);
    default:
        return "global";
    }
}

std::optional<stats_scope> choose_vm_scope(const std::vector<es_vm_entry>& vms,
                                           std::optional<std::uint32_t> vm,
                                           std::optional<std::uint32_t> vcpu, std::string& error) {
    const es_vm_entry* chosen = nullptr;
    if (vm) {
        chosen = find_vm(vms, *vm);
        if (!chosen) {
            error = "no live VM has id " + std::to_string(*vm) + ": " +
                    (vms.empty() ? std::string("none is running (a VM's counters live as long "
                                               "as its run)")
                                 : "the live ones are " + id_list(vms) + " (exitscope vms)");
            return std::nullopt;
        }
    } else if (vms.size() != 1) {
        error = vms.empty() ? "--vcpu reads a running VM, and none is running: start one with "
                              "exitscope run"
                            : "--vcpu needs --vm ID while several VMs run (" + id_list(vms) +
                                  "; exitscope vms lists them)";
        return std::nullopt;
    } else {
        chosen = &vms.front();
    }
    stats_scope s;
    s.scope = ES_SCOPE_VM;
    s.vm_id = chosen->id;
    s.vm_vcpus = chosen->vcpus;
    if (vcpu) {
        if (*vcpu >= chosen->vcpus) {
            error = "--vcpu " + std::to_string(*vcpu) + ": VM " + std::to_string(chosen->id) +
                    " has " + std::to_string(chosen->vcpus) + " vCPU" +
                    (chosen->vcpus == 1 ? "" : "s") + " (0-" + std::to_string(chosen->vcpus - 1) +
                    ")";
            return std::nullopt;
        }
        s.scope = ES_SCOPE_VCPU;
        s.vcpu = *vcpu;
    }
    return s;
}

std::optional<std::string> explain_scope_error(const stats_scope& s, int e) {
    if (s.scope != ES_SCOPE_VM && s.scope != ES_SCOPE_VCPU)
        return std::nullopt;
    if (e == ENOENT)
        return "VM " + std::to_string(s.vm_id) +
               " is not running (any more): exitscope vms lists the live ones";
    if (e == ERANGE)
        return "VM " + std::to_string(s.vm_id) + " has no vCPU " + std::to_string(s.vcpu);
    return std::nullopt;
}

std::string format_vm_list(std::vector<es_vm_entry> vms) {
    if (vms.empty())
        return "No VM is running.\n";
    oldest_first(vms);
    std::string out = fmt::format("{:>6} {:>6} {:>7} {:>10} {:>14} {:>8}\n", "VM", "vCPUs",
                                  "paging", "memory", "exits", "pid");
    for (const es_vm_entry& v : vms)
        out += fmt::format("{:>6} {:>6} {:>7} {:>10} {:>14} {:>8}\n", v.id, v.vcpus, paging_of(v),
                           std::to_string(v.mem_bytes >> 20) + " MiB", group_digits(v.exits),
                           v.owner_tgid);
    return out;
}

std::string format_vm_list_json(std::vector<es_vm_entry> vms) {
    oldest_first(vms);
    json list = json::array();
    for (const es_vm_entry& v : vms)
        list.push_back({{"vm", v.id},
                        {"vcpus", v.vcpus},
                        {"paging", paging_of(v)},
                        {"mem_bytes", v.mem_bytes},
                        {"exits", v.exits},
                        {"pid", v.owner_tgid}});
    return to_json_text({{"vms", std::move(list)}});
}

std::string format_vcpu_lines(const std::vector<vcpu_figures>& vcpus) {
    if (vcpus.empty())
        return "";
    std::string out = "Per vCPU:\n";
    for (const vcpu_figures& v : vcpus) {
        std::uint64_t exits = 0, cycles = 0;
        std::vector<std::uint32_t> busiest;
        for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
            exits += v.stats.reasons[r].count;
            cycles += v.stats.reasons[r].cycles;
            if (v.stats.reasons[r].count)
                busiest.push_back(r);
        }
        std::stable_sort(busiest.begin(), busiest.end(), [&v](std::uint32_t a, std::uint32_t b) {
            return v.stats.reasons[a].count > v.stats.reasons[b].count;
        });
        if (busiest.size() > 3)
            busiest.resize(3);
        std::string top;
        for (std::uint32_t r : busiest)
            top += (top.empty() ? "" : ", ") + std::string(reason_key(r)) + " " +
                   group_digits(v.stats.reasons[r].count);
        out +=
            fmt::format("  vCPU {:<3} {:>12} exits {:>16} cycles{}\n", v.vcpu, group_digits(exits),
                        group_digits(cycles), top.empty() ? "" : "   (" + top + ")");
    }
    return out;
}

json vcpu_rows_json(const std::vector<vcpu_figures>& vcpus) {
    json list = json::array();
    for (const vcpu_figures& v : vcpus) {
        std::uint64_t exits = 0, cycles = 0;
        json reasons = json::array();
        for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
            const es_reason_stats& x = v.stats.reasons[r];
            exits += x.count;
            cycles += x.cycles;
            if (x.count)
                reasons.push_back({{"reason", r},
                                   {"name", reason_key(r)},
                                   {"count", x.count},
                                   {"cycles", x.cycles}});
        }
        list.push_back(
            {{"vcpu", v.vcpu}, {"count", exits}, {"cycles", cycles}, {"reasons", reasons}});
    }
    return list;
}

} // namespace es::cli
