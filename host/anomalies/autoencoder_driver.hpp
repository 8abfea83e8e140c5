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

}  // namespace jm::anomalies_detail
