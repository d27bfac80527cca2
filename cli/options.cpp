// `exitscope run` option parsing.
#include "options.hpp"

#include "args.hpp"

#include "board/mp_table.hpp"
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

namespace {

// The words as given; converted and checked after parsing, so each gets its own message.
struct run_words {
    std::string mode, mem, load, entry, max_exits, backend, paging, image, kernel, initrd, append,
        cpus;
    std::vector<std::string> add;
    bool raw = false;
};

const char* const usage_hint = "exitscope run [--mode real|protected|long] [--mem MIB] "
                               "[--load GPA] [--entry GPA] IMAGE, or exitscope run --kernel "
                               "BZIMAGE [--initrd FILE] [--append TEXT] [--add FILE[:PATH]]... "
                               "[--mem MIB] [--cpus N]";

static_assert(max_cpus == mp_table::max_vcpus, "--cpus is bounded by the MP table's vCPUs");

// Builds the parser; numbers stay strings so that CLI11 never reads a leading 0 as octal.
void add_run_options(CLI::App& app, run_words& w) {
    configure(app);
    app.add_option("--mode", w.mode, "start mode: real (default), protected or long")
        ->type_name("real|protected|long");
    app.add_option("--mem", w.mem, "guest RAM in MiB (default 2)")->type_name("MIB");
    app.add_option("--load", w.load, "guest-physical address of the image (default 0x1000)")
        ->type_name("GPA");
    app.add_option("--entry", w.entry, "guest-physical entry point (default: --load)")
        ->type_name("GPA");
    app.add_option("--max-exits", w.max_exits, "stop after this many exits")->type_name("N");
    app.add_flag("--raw", w.raw,
                 "guest console bytes as they are on a terminal too (else control bytes show "
                 "as ^X, as cat -v shows them)");
    app.add_option("--backend", w.backend, "exitscope (default) or kvm")
        ->type_name("exitscope|kvm");
    app.add_option(
           "--paging", w.paging,
           "second-level translation: ept (default) or shadow (long-mode images and --kernel)")
        ->type_name("ept|shadow");
    app.add_option("--kernel", w.kernel,
                   "boot a Linux bzImage (64-bit boot protocol; default --mem 128) instead "
                   "of IMAGE; its serial console goes to stdout")
        ->type_name("BZIMAGE");
    app.add_option("--cpus", w.cpus,
                   "with --kernel: vCPUs of the Linux guest, 1 (default) to 16; more than one "
                   "needs a command line without nolapic (acpi=ht noapic)")
        ->type_name("N");
    app.add_option("--initrd", w.initrd, "initial ramdisk for --kernel")->type_name("FILE");
    app.add_option("--append", w.append, "kernel command line for --kernel")->type_name("TEXT");
    app.add_option("--add", w.add,
                   "with --kernel: a host file for the guest's initramfs, at GUEST_PATH (default "
                   "/NAME); repeatable")
        ->type_name("HOST_FILE[:GUEST_PATH]");
    app.add_option("IMAGE", w.image, "flat binary guest image")->type_name("FILE");
}

// --kernel decides the start state and the layout itself; image options do not apply.
bool check_kernel_options(const CLI::App& app, const run_words& w, std::string& error) {
    if (!app.count("--kernel")) {
        for (const char* flag : {"--initrd", "--append", "--add"})
            if (app.count(flag)) {
                error = std::string(flag) + " needs --kernel BZIMAGE";
                return false;
            }
        if (app.count("--cpus")) {
            error = "--cpus needs --kernel BZIMAGE: toy images run on one vCPU (drop --cpus)";
            return false;
        }
        return true;
    }
    if (!w.image.empty()) {
        error = "give either --kernel BZIMAGE or an IMAGE, not both (got " + w.image + ")";
        return false;
    }
    for (const char* flag : {"--mode", "--load", "--entry"})
        if (app.count(flag)) {
            error = std::string(flag) + " does not apply to --kernel (the boot protocol fixes "
                                        "the start state and the load address)";
            return false;
        }
    return true;
}

// True when `word` is one of the blank-separated words of `text`.
bool has_word(const std::string& text, const std::string& word) {
    std::size_t at = 0;
    while ((at = text.find(word, at)) != std::string::npos) {
        const std::size_t end = at + word.size();
        if ((at == 0 || text[at - 1] == ' ') && (end == text.size() || text[end] == ' '))
            return true;
        at = end;
    }
    return false;
}

// Converts the parsed words into options; false with `error` set on the first bad one.
bool convert(const CLI::App& app, const run_words& w, run_options& o, std::string& error) {
    o.raw = w.raw;
    if (app.count("--mode")) {
        if (w.mode == "real")
            o.mode = ES_MODE_REAL;
        else if (w.mode == "protected")
            o.mode = ES_MODE_PROTECTED;
        else if (w.mode == "long")
            o.mode = ES_MODE_LONG;
        else {
            error = "--mode " + w.mode + " is not a mode: use real, protected or long";
            return false;
        }
    }
    if (app.count("--mem")) {
        const auto mib = parse_number(w.mem);
        if (!mib || *mib == 0 || *mib > ES_GUEST_MEM_MAX >> 20) {
            error = "--mem " + w.mem + ": give guest RAM in MiB, 1 to " +
                    std::to_string(ES_GUEST_MEM_MAX >> 20);
            return false;
        }
        o.mem_bytes = *mib << 20;
    }
    for (const char* flag : {"--load", "--entry"}) {
        if (!app.count(flag))
            continue;
        const std::string& v = flag[2] == 'l' ? w.load : w.entry;
        const auto gpa = parse_number(v);
        if (!gpa) {
            error =
                std::string(flag) + " " + v + ": give a guest-physical address, decimal or 0x-hex";
            return false;
        }
        (flag[2] == 'l' ? o.load : o.entry.emplace()) = *gpa;
    }
    if (app.count("--max-exits")) {
        const auto n = parse_number(w.max_exits);
        if (!n || *n == 0) {
            error = "--max-exits " + w.max_exits + ": give a positive number of exits";
            return false;
        }
        o.max_exits = *n;
    }
    if (app.count("--cpus")) {
        const auto n = parse_number(w.cpus);
        if (!n || *n == 0 || *n > max_cpus) {
            error = "--cpus " + w.cpus + ": give 1 to " + std::to_string(max_cpus) +
                    " vCPUs (16 is the most the MP table lists)";
            return false;
        }
        o.vcpus = static_cast<std::uint32_t>(*n);
    }
    if (app.count("--backend")) {
        if (w.backend != "exitscope" && w.backend != "kvm") {
            error = "--backend " + w.backend + ": use exitscope or kvm";
            return false;
        }
        o.backend = w.backend;
    }
    if (app.count("--paging")) {
        if (w.paging != "ept" && w.paging != "shadow") {
            error = "--paging " + w.paging + ": use ept or shadow";
            return false;
        }
        o.shadow_paging = w.paging == "shadow";
        // --backend kvm: checked against kvm_intel's ept (kvm_paging.cpp), not chosen.
        o.paging_given = true;
    }
    return true;
}

} // namespace

std::optional<run_options> parse_run_options(const std::vector<std::string>& args,
                                             std::string& error, std::string* help) {
    // "--" would make CLI11 take the next word as IMAGE even when it starts with '-'.
    for (const auto& a : args)
        if (a == "--") {
            error = "unknown option -- (see exitscope --help)";
            return std::nullopt;
        }
    CLI::App app("Run a flat binary guest: its port-0xE9 output goes to stdout, a one-line "
                 "summary to stderr.",
                 "exitscope run");
    run_words w;
    add_run_options(app, w);
    if (const auto problem = parse_args(app, args)) {
        switch (problem->what) {
        case arg_problem::kind::help:
            // CLI11 also reads "-h" clustered with other letters ("-hx") as a request for help.
            if (help) {
                *help = app.help();
                error.clear();
            } else {
                error = "--help is not taken here (exitscope run --help lists the run options)";
            }
            break;
        case arg_problem::kind::needs_value:
            error = problem->arg + " needs a value";
            break;
        case arg_problem::kind::unexpected:
            if (problem->arg.size() > 1 && problem->arg[0] == '-')
                error = "unknown option " + problem->arg + " (see exitscope --help)";
            else
                error =
                    "only one IMAGE may be given (got " + w.image + " and " + problem->arg + ")";
            break;
        case arg_problem::kind::other:
            error = problem->arg + " (see exitscope --help)";
            break;
        }
        return std::nullopt;
    }
    // CLI11 takes a negative number ("-5") as a positional word; it is no image name.
    if (w.image.size() > 1 && w.image[0] == '-') {
        error = "unknown option " + w.image + " (see exitscope --help)";
        return std::nullopt;
    }
    run_options o;
    if (!check_kernel_options(app, w, error))
        return std::nullopt;
    if (!w.kernel.empty()) {
        o.mem_bytes = linux_default_mem;
        o.mode = ES_MODE_LINUX64;
    }
    if (!convert(app, w, o, error))
        return std::nullopt;
    if (!w.kernel.empty()) {
        o.kernel = w.kernel;
        o.initrd = w.initrd;
        o.append = w.append;
        o.add = w.add;
        // With nolapic Linux ignores the MP table's other processors and boots on one CPU.
        if (o.vcpus > 1 && has_word(o.append, "nolapic")) {
            error = "--cpus " + std::to_string(o.vcpus) +
                    " needs the local APIC: drop nolapic from --append (several vCPUs boot "
                    "with acpi=ht noapic)";
            return std::nullopt;
        }
        return o;
    }
    if (app.count("--kernel")) {
        error = "--kernel needs a file name";
        return std::nullopt;
    }
    if (w.image.empty()) {
        error = std::string("no IMAGE given: ") + usage_hint;
        return std::nullopt;
    }
    o.image = w.image;
    if (!o.entry)
        o.entry = o.load;
    return o;
}

} // namespace es::cli
