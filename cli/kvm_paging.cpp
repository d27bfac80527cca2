// `--backend kvm` and paging: KVM's choice is kvm_intel's `ept` module parameter (read-only once
// loaded; its value is what KVM uses: N also where the CPU has no EPT), so the CLI reads it,
// names it in the summary, and checks --paging against it instead of choosing.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "format.hpp"
#include "kvm_backend.hpp"

namespace es::cli {

std::optional<bool> parse_kvm_ept_param(const std::string& text) {
    // A bool module parameter reads "Y\n" or "N\n"; accept what param_set_bool accepts too.
    std::string t = text;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
        t.pop_back();
    if (t == "Y" || t == "y" || t == "1")
        return true;
    if (t == "N" || t == "n" || t == "0")
        return false;
    return std::nullopt;
}

kvm_paging read_kvm_paging(const char* path) {
    kvm_paging p;
    std::ifstream f(path);
    if (!f) {
        p.why = std::string("cannot read ") + path + ": " + std::strerror(errno) +
                " (is kvm_intel loaded? modprobe kvm_intel)";
        return p;
    }
    std::ostringstream text;
    text << f.rdbuf();
    p.ept = parse_kvm_ept_param(text.str().substr(0, 16));
    if (!p.ept)
        p.why = std::string(path) + " reads neither Y nor N";
    return p;
}

std::string kvm_paging_mismatch(bool want_shadow, const kvm_paging& kvm) {
    const char* want = paging_name(want_shadow);
    if (!kvm.ept)
        return std::string("--paging ") + want + ": cannot tell which paging KVM uses: " + kvm.why;
    if (*kvm.ept != want_shadow)
        return "";
    return std::string("--paging ") + want + ": KVM runs with " + paging_name(!want_shadow) +
           " paging (kvm_intel ept=" + (*kvm.ept ? "Y" : "N") + "); reload it with " +
           "`modprobe -r kvm_intel && modprobe kvm_intel ept=" + (want_shadow ? "0" : "1") +
           "` (no VM may be running), or drop --paging";
}

std::string kvm_paging_note(const kvm_paging& kvm) {
    return kvm.ept ? std::string("; KVM paging: ") + paging_name(!*kvm.ept) : "";
}

} // namespace es::cli
