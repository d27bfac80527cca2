// Every `--json` document of the CLI is built as an nlohmann::ordered_json (key order kept) and
// written by to_json_text. Strings are escaped by nlohmann-json, so control characters become
// \uXXXX and the output is valid JSON for any input.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace es::cli {

using json = nlohmann::ordered_json;

// Compact JSON (no spaces) and a final newline. Floating-point numbers are written with three
// decimals, as the scripts reading `stat --json` have always seen them ("mean":1234.500);
// infinities and NaN become null.
std::string to_json_text(const json& j);

} // namespace es::cli
