// `exitscope plot`: draw a record CSV with gnuplot.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.hpp"
#include "command_util.hpp"
#include "commands.hpp"
#include "input_file.hpp"
#include "observe.hpp"
#include "stops.hpp"

namespace es::cli {

namespace {

// Runs gnuplot on `script` (through a temporary file); true when it drew a non-empty `png`.
bool run_gnuplot(const std::string& gnuplot, const std::string& script, const std::string& png) {
    char tmpl[] = "/tmp/exitscope-plot-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) {
        std::fprintf(stderr, "exitscope plot: cannot create a temporary file: %s\n",
                     std::strerror(errno));
        return false;
    }
    const bool written =
        write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size());
    close(fd);
    if (!written) {
        unlink(tmpl);
        std::fprintf(stderr, "exitscope plot: cannot write the gnuplot script\n");
        return false;
    }
    std::fflush(nullptr);
    const pid_t child = fork();
    if (child == 0) {
        execl(gnuplot.c_str(), "gnuplot", tmpl, static_cast<char*>(nullptr));
        std::fprintf(stderr, "exitscope plot: cannot run %s: %s\n", gnuplot.c_str(),
                     std::strerror(errno));
        std::_Exit(127);
    }
    int ws = 0;
    const bool ran = child > 0 && waitpid(child, &ws, 0) == child;
    unlink(tmpl);
    struct stat st {};
    if (!ran || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || stat(png.c_str(), &st) != 0 ||
        st.st_size == 0) {
        std::fprintf(stderr, "exitscope plot: gnuplot failed to draw %s (its messages are above)\n",
                     png.c_str());
        return false;
    }
    return true;
}

} // namespace

int cmd_plot(const words& args) {
    CLI::App app("Draw a record CSV with gnuplot: cumulative exits and exit rate per reason.",
                 "exitscope plot");
    configure(app);
    std::string csv, png, title;
    app.add_option("FILE.csv", csv, "the CSV from exitscope record")->type_name("");
    const CLI::Option* png_opt =
        app.add_option("-o", png, "the PNG to write")->type_name("FILE.png");
    const CLI::Option* title_opt =
        app.add_option("--title", title, "the plot's title")->type_name("TEXT");
    if (const auto problem = parse_args(app, args))
        return report_problem("plot", app, *problem);
    if (!app.count("FILE.csv") || !png_opt->count()) {
        std::fprintf(stderr, "exitscope plot: usage: exitscope plot FILE.csv -o FILE.png "
                             "[--title TEXT] (the CSV from exitscope record)\n");
        return status_usage;
    }
    input_error why{};
    const auto text =
        read_input_file(csv, record_csv_max_bytes, "a record CSV may be (256 MiB)", why);
    if (!text) {
        std::fprintf(stderr, "exitscope plot: cannot read %s: %s\n", csv.c_str(), why.why.c_str());
        return status_error;
    }
    std::string error;
    const auto data = parse_record_csv(*text, error);
    if (!data) {
        std::fprintf(stderr, "exitscope plot: %s: %s\n", csv.c_str(), error.c_str());
        return status_error;
    }
    const std::string gnuplot = find_in_path("gnuplot");
    if (gnuplot.empty()) {
        std::fprintf(stderr, "exitscope plot: gnuplot is not installed: install it with\n"
                             "  apt-get install gnuplot-nox     (or run tools/install-deps)\n");
        return status_error;
    }
    if (!title_opt->count())
        title = "VM exits recorded in " + csv;
    if (!run_gnuplot(gnuplot, make_gnuplot_script(*data, png, title), png))
        return status_error;
    std::fprintf(stderr, "exitscope: wrote %s (%zu reasons, %zu samples)\n", png.c_str(),
                 data->reasons.size(), data->times_ms.size());
    return 0;
}

} // namespace es::cli
