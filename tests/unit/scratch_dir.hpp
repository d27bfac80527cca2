// A scratch directory for tests that need real files, removed with what is in it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace es::test {

struct scratch {
    std::string dir;
    scratch() {
        char tmpl[] = "/tmp/es-unit-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    ~scratch() { std::system(("rm -rf " + dir).c_str()); }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
    std::string file(const char* name, const std::string& bytes) const {
        const std::string p = dir + "/" + name;
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
};

} // namespace es::test
