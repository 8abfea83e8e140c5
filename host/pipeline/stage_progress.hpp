// Progress lines of long stages on stderr: "[journeymap] segments  k search 43% (about 9 s left)".
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "journeymap/context.hpp"

namespace jm {

/// One progress line (no newline). The time left is extrapolated from the time `what` has run so far
/// and is left out until 2% of it is done.
std::string progress_line(const std::string& stage, const std::string& what, double fraction, double elapsed_seconds);

/// A ProgressFn for Context::progress that prints progress_line to `out`, first once the stage has
/// run `interval` and then at most once per `interval`.
ProgressFn stage_progress_printer(const std::string& stage, std::FILE* out,
                                  std::chrono::steady_clock::duration interval = std::chrono::seconds(3));

}  // namespace jm
