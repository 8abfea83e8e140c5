// What the CPU the process runs on can do, for code with a copy compiled for a wider instruction
// set (__attribute__((target(...)))) beside the baseline one.
#pragma once

namespace jm {

/// True when the CPU has AVX2 (asked once).
inline bool cpu_has_avx2() {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2;
}

}  // namespace jm
