// Per-element math of the autoencoder, written once for both backends: the CPU twin calls these in
// plain loops, the GPU kernels (kernels/anomalies/autoencoder_kernels.cuh) once per thread.
// The GEMMs around them are OpenBLAS on the CPU and cuBLAS on the GPU.
#pragma once

#include <math.h>  // sqrtf: the global overload nvcc also provides on the device

#include <cstdint>

#include "journeymap/common.hpp"

namespace jm {
namespace autoencoder_rules {

/// Forward epilogue of a layer: z + bias, then ReLU on hidden layers (the output layer is linear).
JM_HD inline float bias_activation(float z, float bias, bool relu) {
  const float a = z + bias;
  return (relu && a < 0.0f) ? 0.0f : a;
}

/// Backward through ReLU: the gradient passes where the layer's output was positive. The output
/// a = max(z, 0) is enough to know where z > 0.
JM_HD inline float relu_backward(float gradient, float activation) { return activation > 0.0f ? gradient : 0.0f; }

/// Squared error of one element and its gradient for the batch loss L = sum (y - x)^2 / (rows x dims):
/// `gradient_scale` = 2 / (rows x dims). Returns (y - x)^2.
JM_HD inline float squared_error_and_gradient(float reconstructed, float input, float gradient_scale, float* gradient) {
  const float diff = reconstructed - input;
  *gradient = gradient_scale * diff;
  return diff * diff;
}

/// Adam step constants for step t (1-based), computed once on the host per step:
/// the bias corrections 1 / (1 - beta^t).
struct AdamStep {
  float learning_rate;
  float beta1;
  float beta2;
  float epsilon;
  float correction1;  ///< 1 / (1 - beta1^t)
  float correction2;  ///< 1 / (1 - beta2^t)
};

/// Adam update of one parameter with its moments (Kingma & Ba, Algorithm 1).
JM_HD inline void adam_update(float* parameter, float* first_moment, float* second_moment, float gradient,
                              const AdamStep& step) {
  const float m = step.beta1 * *first_moment + (1.0f - step.beta1) * gradient;
  const float v = step.beta2 * *second_moment + (1.0f - step.beta2) * gradient * gradient;
  *first_moment = m;
  *second_moment = v;
  const float m_hat = m * step.correction1;
  const float v_hat = v * step.correction2;
  *parameter -= step.learning_rate * m_hat / (sqrtf(v_hat) + step.epsilon);
}

}  // namespace autoencoder_rules
}  // namespace jm
