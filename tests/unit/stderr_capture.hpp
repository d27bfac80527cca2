// Standard error captured around a call, for tests of what the CLI prints.
#pragma once

#include <cstdio>
#include <string>
#include <unistd.h>

namespace es::test {

// Standard error goes to a temporary file while this lives; text() ends the capture and returns
// what was written.
class stderr_capture {
  public:
    stderr_capture() : file_(std::tmpfile()) {
        std::fflush(stderr);
        saved_ = dup(STDERR_FILENO);
        dup2(fileno(file_), STDERR_FILENO);
    }
    stderr_capture(const stderr_capture&) = delete;
    stderr_capture& operator=(const stderr_capture&) = delete;
    ~stderr_capture() {
        restore();
        std::fclose(file_);
    }
    std::string text() {
        restore();
        std::string s;
        std::rewind(file_);
        for (int c; (c = std::fgetc(file_)) != EOF;)
            s.push_back(static_cast<char>(c));
        return s;
    }

  private:
    void restore() {
        if (saved_ < 0)
            return;
        std::fflush(stderr);
        dup2(saved_, STDERR_FILENO);
        close(saved_);
        saved_ = -1;
    }
    std::FILE* file_;
    int saved_ = -1;
};

} // namespace es::test
