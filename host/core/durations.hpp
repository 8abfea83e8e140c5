// Durations in the unit a reader expects: "41 s", "13 min", "5.0 h", "3.9 days".
#pragma once

#include <string>

#include <fmt/format.h>

namespace jm {

inline std::string readable_duration(double seconds) {
  if (seconds < 120) return fmt::format("{:g} s", seconds);
  if (seconds < 7200) return fmt::format("{:.0f} min", seconds / 60);
  if (seconds < 172800) return fmt::format("{:.1f} h", seconds / 3600);
  return fmt::format("{:.1f} days", seconds / 86400);
}

}  // namespace jm
