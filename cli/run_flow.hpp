// `exitscope run`, for every backend: read the guest's files, create the VM, load it, set its
// start state, run it to a stop, print the console and the summary.
#pragma once

#include <optional>
#include <string>

#include "backend.hpp"
#include "boot_files.hpp"
#include "options.hpp"

namespace es::cli {

// Runs `o` on the backend it names (o.backend); returns the exit status the README documents.
int run_guest(const run_options& o);

// The flow itself, over any backend.
int run_flow(const run_options& o, backend& b);

// What the flow asks the backend for: an image at `o.load`, entered at `o.entry` in `o.mode`;
// or a Linux boot laid out by the loader, started in ES_MODE_LINUX64. The segments point into
// `image` and `boot`, which must outlive the plan.
guest_plan image_plan(const run_options& o, const std::string& image);
guest_plan linux_plan(const run_options& o, const linux_boot& boot);

} // namespace es::cli
