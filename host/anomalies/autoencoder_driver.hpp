// Pieces of the autoencoder shared by the driver and both backends (internal header).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "journeymap/anomalies.hpp"
#include "journeymap/autoencoder_rules.hpp"

namespace jm::anomalies_detail {

/// Adam constants for the 1-based step `t`, computed in double so both backends use the same floats.
inline autoencoder_rules::AdamStep make_adam_step(const AutoencoderOptions& options, int64_t t) {
  autoencoder_rules::AdamStep step;
  step.learning_rate = options.learning_rate;
  step.beta1 = options.beta1;
  step.beta2 = options.beta2;
  step.epsilon = options.epsilon;
  step.correction1 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(options.beta1), static_cast<double>(t))));
  step.correction2 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(options.beta2), static_cast<double>(t))));
  return step;
}

/// splitmix64: a small, portable generator (std::shuffle and the std distributions are
/// implementation-defined, so they would make results depend on the standard library).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
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

}  // namespace jm::anomalies_detail
