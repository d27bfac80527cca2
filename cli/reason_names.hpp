// Exit reason names for every CLI output, from the SDM table in include/sdm/exit_reasons.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace es::cli {

// Short upper-case key ("CPUID"), or "UNDEFINED" for a number the SDM does not define.
const char* reason_key(std::uint32_t reason);
// The SDM's name ("CPUID", "VM-entry failure: invalid guest state"), or "not defined by the SDM".
const char* reason_description(std::uint32_t reason);
// The key of a raw exit-reason field: basic reason, plus "(entry-fail)" when bit 31 is set.
std::string reason_label(std::uint32_t raw);
// For run summaries: "task switch (9)" from a raw field (basic reason only).
std::string reason_text(std::uint32_t raw);
// A number (decimal or 0x-hex) below ES_NR_REASONS, or a key (case-insensitive).
std::optional<std::uint32_t> reason_by_name(const std::string& s);

} // namespace es::cli
