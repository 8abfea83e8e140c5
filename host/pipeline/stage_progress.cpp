#include "host/pipeline/stage_progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace jm {

std::string progress_line(const std::string& stage, const std::string& what, double fraction, double elapsed_seconds) {
  fraction = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
  std::string line = fmt::format("[journeymap] {:<9} {} {:3.0f}%", stage, what, 100.0 * fraction);
  if (fraction >= 0.02 && fraction < 1.0) {
    const double left = elapsed_seconds * (1.0 - fraction) / fraction;
    line += left < 90.0 ? fmt::format(" (about {:.0f} s left)", std::max(1.0, left))
                        : fmt::format(" (about {:.0f} min left)", left / 60.0);
  }
  return line;
}

ProgressFn stage_progress_printer(const std::string& stage, std::FILE* out, std::chrono::steady_clock::duration interval) {
  using Clock = std::chrono::steady_clock;
  struct State {
    Clock::time_point last_print;
    Clock::time_point part_start;
    std::string part;
  };
  auto state = std::make_shared<State>();
  state->last_print = state->part_start = Clock::now();
  return [stage, out, interval, state](const std::string& what, double fraction) {
    const auto now = Clock::now();
    if (what != state->part) {  // a new part of the stage: its own clock for the time left
      state->part = what;
      state->part_start = now;
    }
    if (now - state->last_print < interval) return;
    state->last_print = now;
    const double elapsed = std::chrono::duration<double>(now - state->part_start).count();
    std::fprintf(out, "%s\n", progress_line(stage, what, fraction, elapsed).c_str());
    std::fflush(out);
  };
}

}  // namespace jm
