// SplitMix64 (Steele, Lea and Flood 2014): the small, portable generator and mixer behind every
// seeded choice in journeymap. std::shuffle and the std distributions are implementation-defined,
// so results would otherwise depend on the standard library.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace jm {

/// The SplitMix64 output function: a bijective 64-bit mix (also a good hash finaliser).
inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Advances `state` by the golden-ratio increment and returns the mixed value.
inline uint64_t splitmix64_next(uint64_t& state) { return splitmix64_mix(state += 0x9E3779B97F4A7C15ull); }

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64_next(state_); }
  /// Uniform in [0, bound), bound >= 1 (multiply-shift; the bias is below 2^-32 for our sizes).
  uint64_t below(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

/// Fisher-Yates shuffle of `values` with `rng`.
template <typename T>
void shuffle(std::vector<T>& values, SplitMix64& rng) {
  for (size_t i = values.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.below(i));
    std::swap(values[i - 1], values[j]);
  }
}

}  // namespace jm
