// Times the stages of a run: each stage's seconds, host<->device copies and named steps go into the
// RunReport, with progress lines on stderr when asked for.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "host/pipeline/stage_progress.hpp"
#include "journeymap/context.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {

namespace stage_clock_detail {

// Adds each step's seconds to the entry of the same name (a stage timed twice sums its steps).
inline void add_steps(std::vector<std::pair<std::string, double>>& into, const std::vector<std::pair<std::string, double>>& steps) {
  for (const auto& step : steps) {
    const auto same = std::find_if(into.begin(), into.end(), [&](const auto& entry) { return entry.first == step.first; });
    if (same == into.end()) into.push_back(step);
    else same->second += step.second;
  }
}

// " (leakage guard 1.2 s, boosting 3.4 s)", or "" without steps.
inline std::string describe_steps(const std::vector<std::pair<std::string, double>>& steps) {
  std::string text;
  for (const auto& [step, seconds] : steps) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, " %.3f s", seconds);
    text += (text.empty() ? " (" : ", ") + step + buffer;
  }
  return text.empty() ? text : text + ")";
}

}  // namespace stage_clock_detail

// Times one stage, records it and reports progress on stderr when asked to: a line when the stage
// starts and ends, and the stage's own progress reports (Context::progress) every few seconds. A
// name timed again adds to its first entry, so every result write of the run sums into one "write" stage.
class StageClock {
 public:
  StageClock(RunReport& report, bool progress, Context& ctx) : report_(report), progress_(progress), ctx_(ctx) {}

  template <typename Fn>
  auto run(const std::string& name, Fn&& fn) {
    if (progress_) std::fprintf(stderr, "[journeymap] %-9s ...\n", name.c_str());
    const auto start = std::chrono::steady_clock::now();
    const TransferStats copied_before = ctx_.device ? ctx_.device->transfers() : TransferStats{};
    const StageProgressListener listening(progress_ ? &ctx_ : nullptr, name);
    ctx_.steps = std::make_shared<StepLog>();
    auto finish = [&] {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      auto& stages = report_.stage_seconds;
      const auto same = std::find_if(stages.begin(), stages.end(), [&](const auto& stage) { return stage.first == name; });
      const auto index = static_cast<size_t>(same - stages.begin());
      if (same == stages.end()) stages.emplace_back(name, seconds);
      else same->second += seconds;
      if (ctx_.device) {
        if (report_.stage_transfers.size() <= index) report_.stage_transfers.resize(index + 1);
        report_.stage_transfers[index] += ctx_.device->transfers() - copied_before;
      }
      if (report_.stage_steps.size() <= index) report_.stage_steps.resize(index + 1);
      const auto steps = ctx_.steps->entries();
      ctx_.steps.reset();
      stage_clock_detail::add_steps(report_.stage_steps[index], steps);
      if (progress_) std::fprintf(stderr, "[journeymap] %-9s done in %.3f s%s\n", name.c_str(), seconds,
                                  stage_clock_detail::describe_steps(steps).c_str());
    };
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      finish();
    } else {
      auto result = fn();
      finish();
      return result;
    }
  }

 private:
  RunReport& report_;
  bool progress_;
  Context& ctx_;
};

// Prints "ingest 37% (1.2 GB of 3.3 GB)" on stderr at most every 2 seconds.
inline std::function<void(uint64_t, uint64_t)> ingest_progress_printer() {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [last](uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (total == 0 || now - *last < std::chrono::seconds(2)) return;
    *last = now;
    std::fprintf(stderr, "[journeymap] ingest    %3.0f%% (%.2f GB of %.2f GB)\n", 100.0 * done / total, done / 1e9,
                 total / 1e9);
  };
}

}  // namespace jm
