// CLI11 in the house style.
#include "args.hpp"

#include <algorithm>
#include <cstdio>

#include "options.hpp"

namespace es::cli {

void configure(CLI::App& app) {
    app.set_help_flag("-h,--help", "print this help and exit");
    app.allow_extras();
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

std::optional<arg_problem> parse_args(CLI::App& app, const std::vector<std::string>& args) {
    std::vector<std::string> reversed(args.rbegin(), args.rend()); // CLI11 pops from the back
    try {
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        return arg_problem{arg_problem::kind::help, ""};
    } catch (const CLI::ArgumentMismatch& e) {
        // "--cpu: 1 required TEXT missing": the option's name comes first.
        const std::string what = e.what();
        return arg_problem{arg_problem::kind::needs_value, what.substr(0, what.find(':'))};
    } catch (const CLI::ParseError& e) {
        return arg_problem{arg_problem::kind::other, e.what()};
    }
    const auto rest = app.remaining();
    if (!rest.empty())
        return arg_problem{arg_problem::kind::unexpected, rest.front()};
    return std::nullopt;
}

int report_problem(const char* cmd, const CLI::App& app, const arg_problem& p) {
    switch (p.what) {
    case arg_problem::kind::help:
        std::fputs(app.help().c_str(), stdout);
        return 0;
    case arg_problem::kind::needs_value:
        std::fprintf(stderr, "exitscope %s: %s needs a value (see exitscope --help)\n", cmd,
                     p.arg.c_str());
        break;
    case arg_problem::kind::unexpected:
        std::fprintf(stderr,
                     "exitscope %s: unexpected or incomplete argument '%s' (see exitscope "
                     "--help)\n",
                     cmd, p.arg.c_str());
        break;
    case arg_problem::kind::other:
        std::fprintf(stderr, "exitscope %s: %s (see exitscope --help)\n", cmd, p.arg.c_str());
        break;
    }
    return 2;
}

std::optional<std::uint64_t> number_arg(const char* cmd, const CLI::Option* opt,
                                        const std::string& value, std::uint64_t def,
                                        std::uint64_t lo, std::uint64_t hi) {
    if (!opt->count())
        return def;
    const auto n = parse_number(value);
    if (!n || *n < lo || *n > hi) {
        std::fprintf(stderr, "exitscope %s: %s %s: give a number from %llu to %llu\n", cmd,
                     opt->get_name().c_str(), value.c_str(), static_cast<unsigned long long>(lo),
                     static_cast<unsigned long long>(hi));
        return std::nullopt;
    }
    return n;
}

} // namespace es::cli
