// Compact JSON writing with fixed three-decimal floats.
#include "json_out.hpp"

#include <cmath>
#include <fmt/format.h>

namespace es::cli {

namespace {

void write(const json& j, std::string& out) {
    switch (j.type()) {
    case json::value_t::object: {
        out += '{';
        bool first = true;
        for (const auto& [key, value] : j.items()) {
            if (!first)
                out += ',';
            first = false;
            write(json(key), out);
            out += ':';
            write(value, out);
        }
        out += '}';
        break;
    }
    case json::value_t::array: {
        out += '[';
        bool first = true;
        for (const auto& value : j) {
            if (!first)
                out += ',';
            first = false;
            write(value, out);
        }
        out += ']';
        break;
    }
    case json::value_t::number_float: {
        const double v = j.get<double>();
        out += std::isfinite(v) ? fmt::format("{:.3f}", v) : "null";
        break;
    }
    default:
        // Strings, integers, booleans, null: nlohmann's own writer; invalid UTF-8 becomes U+FFFD
        // instead of an exception.
        out += j.dump(-1, ' ', false, json::error_handler_t::replace);
        break;
    }
}

} // namespace

std::string to_json_text(const json& j) {
    std::string out;
    write(j, out);
    out += '\n';
    return out;
}

} // namespace es::cli
