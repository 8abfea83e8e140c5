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

/// For its lifetime, prints the progress of one stage: sets `ctx->progress` to a
/// stage_progress_printer and clears it again at the end (nothing when `ctx` is null).
class StageProgressListener {
 public:
  StageProgressListener(Context* ctx, const std::string& stage) : ctx_(ctx) {
    if (ctx_ != nullptr) ctx_->progress = stage_progress_printer(stage, stderr);
  }
  ~StageProgressListener() {
    if (ctx_ != nullptr) ctx_->progress = nullptr;
  }
  StageProgressListener(const StageProgressListener&) = delete;
  StageProgressListener& operator=(const StageProgressListener&) = delete;

 private:
  Context* ctx_;
};

}  // namespace jm
