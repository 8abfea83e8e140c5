// Where a stage's time goes: named steps inside a stage (the model's leakage guard, its boosting,
// its in-flight curve, ...), timed when the caller attached a StepLog to the context. The run
// collects them per stage for the progress lines and `journeymap bench`'s JSON. On a GPU context
// a step ends by waiting for the stream, so kernels are counted in the step that queued them.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/device_resources.hpp"

namespace jm {

/// Seconds per step name, in the order each name first finished; a repeated name adds up.
class StepLog {
 public:
  void add(const std::string& step, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, total] : entries_)
      if (name == step) {
        total += seconds;
        return;
      }
    entries_.emplace_back(step, seconds);
  }
  std::vector<std::pair<std::string, double>> entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, double>> entries_;
};

/// Times consecutive steps of one function: `next("boosting")` ends the step running (if any) and
/// starts the named one; the destructor ends the last. Costs nothing without ctx.steps.
class StepTimer {
 public:
  explicit StepTimer(const Context& ctx) : ctx_(ctx) {}
  StepTimer(const Context& ctx, std::string first) : ctx_(ctx) { next(std::move(first)); }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;
  ~StepTimer() {
    // A failed wait here has failed, or will fail, the stage's own work: that error is the one to report.
    try {
      finish();
    } catch (...) {
    }
  }

  void next(std::string step) {
    finish();
    if (!ctx_.steps) return;
    step_ = std::move(step);
    start_ = std::chrono::steady_clock::now();
  }
  /// Ends the running step (a later next() starts another).
  void finish() {
    if (step_.empty() || !ctx_.steps) return;
    if (ctx_.device) ctx_.device->synchronize();
    ctx_.steps->add(step_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    step_.clear();
  }

 private:
  const Context& ctx_;
  std::string step_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace jm
