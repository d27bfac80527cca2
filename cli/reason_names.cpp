// Exit reason names.
#include "reason_names.hpp"

#include <algorithm>
#include <cctype>

#include "exitscope/abi.h"
#include "options.hpp"
#include "sdm/exit_reasons.hpp"

namespace es::cli {

namespace {
// Bit 31 of the exit-reason field: the VM entry failed (SDM "Basic VM-Exit Information").
constexpr std::uint32_t entry_failure_bit = 0x80000000u;
constexpr std::uint32_t basic_reason_mask = 0xffffu;
} // namespace

const char* reason_key(std::uint32_t reason) {
    const auto* info = sdm::find_exit_reason(reason);
    return info ? info->key : "UNDEFINED";
}

const char* reason_description(std::uint32_t reason) {
    const auto* info = sdm::find_exit_reason(reason);
    return info ? info->name : "not defined by the SDM";
}

std::string reason_label(std::uint32_t raw) {
    std::string s = reason_key(raw & basic_reason_mask);
    if (raw & entry_failure_bit)
        s += "(entry-fail)";
    return s;
}

std::string reason_text(std::uint32_t raw) {
    const std::uint32_t basic = raw & basic_reason_mask;
    const auto* info = sdm::find_exit_reason(basic);
    return std::string(info ? info->name : "undefined reason") + " (" + std::to_string(basic) + ")";
}

std::optional<std::uint32_t> reason_by_name(const std::string& s) {
    if (const auto n = parse_number(s))
        return *n < ES_NR_REASONS ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*n))
                                  : std::nullopt;
    std::string want = s;
    std::transform(want.begin(), want.end(), want.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    for (std::uint32_t r = 0; r < ES_NR_REASONS; ++r) {
        const auto* info = sdm::find_exit_reason(r);
        if (info && want == info->key)
            return r;
    }
    return std::nullopt;
}

} // namespace es::cli
