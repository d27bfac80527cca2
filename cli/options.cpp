// `exitscope run` option parsing.
#include "options.hpp"

#include "exitscope/abi.h"

namespace es::cli {

std::optional<std::uint64_t> parse_number(const std::string& s) {
    if (s.empty())
        return std::nullopt;
    unsigned base = 10;
    std::size_t i = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    std::uint64_t v = 0;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            return std::nullopt;
        if (v > (UINT64_MAX - d) / base)
            return std::nullopt;
        v = v * base + d;
    }
    return v;
}

std::optional<run_options> parse_run_options(const std::vector<std::string>& args,
                                             std::string& error) {
    run_options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* what) -> const std::string* {
            if (i + 1 >= args.size()) {
                error = std::string(what) + " needs a value";
                return nullptr;
            }
            return &args[++i];
        };
        if (a == "--mode") {
            const std::string* v = value("--mode");
            if (!v)
                return std::nullopt;
            if (*v == "real")
                o.mode = ES_MODE_REAL;
            else if (*v == "protected")
                o.mode = ES_MODE_PROTECTED;
            else if (*v == "long")
                o.mode = ES_MODE_LONG;
            else {
                error = "--mode " + *v + " is not a mode: use real, protected or long";
                return std::nullopt;
            }
        } else if (a == "--mem") {
            const std::string* v = value("--mem");
            if (!v)
                return std::nullopt;
            const auto mib = parse_number(*v);
            if (!mib || *mib == 0 || *mib > ES_GUEST_MEM_MAX >> 20) {
                error = "--mem " + *v + ": give guest RAM in MiB, 1 to " +
                        std::to_string(ES_GUEST_MEM_MAX >> 20);
                return std::nullopt;
            }
            o.mem_bytes = *mib << 20;
        } else if (a == "--load" || a == "--entry") {
            const std::string* v = value(a.c_str());
            if (!v)
                return std::nullopt;
            const auto gpa = parse_number(*v);
            if (!gpa) {
                error = a + " " + *v + ": give a guest-physical address, decimal or 0x-hex";
                return std::nullopt;
            }
            (a == "--load" ? o.load : o.entry.emplace()) = *gpa;
        } else if (a == "--max-exits") {
            const std::string* v = value("--max-exits");
            if (!v)
                return std::nullopt;
            const auto n = parse_number(*v);
            if (!n || *n == 0) {
                error = "--max-exits " + *v + ": give a positive number of exits";
                return std::nullopt;
            }
            o.max_exits = *n;
        } else if (a == "--backend") {
            const std::string* v = value("--backend");
            if (!v)
                return std::nullopt;
            if (*v != "exitscope" && *v != "kvm") {
                error = "--backend " + *v + ": use exitscope or kvm";
                return std::nullopt;
            }
            o.backend = *v;
        } else if (!a.empty() && a[0] == '-' && a != "-") {
            error = "unknown option " + a + " (see exitscope --help)";
            return std::nullopt;
        } else if (o.image.empty()) {
            o.image = a;
        } else {
            error = "only one IMAGE may be given (got " + o.image + " and " + a + ")";
            return std::nullopt;
        }
    }
    if (o.image.empty()) {
        error = "no IMAGE given: exitscope run [--mode real|protected|long] [--mem MIB] "
                "[--load GPA] [--entry GPA] IMAGE";
        return std::nullopt;
    }
    if (!o.entry)
        o.entry = o.load;
    return o;
}

} // namespace es::cli
