// Element-wise kernels of the GPU autoencoder (launched from cuda/anomalies/autoencoder_cuda.cu).
// The per-element math is autoencoder_rules.hpp, shared with the CPU twin; the GEMMs are cuBLAS.
// All kernels are grid-stride loops, so any grid size covers any problem size.
#pragma once

#include <cstdint>

#include "journeymap/autoencoder_rules.hpp"

namespace jm::kernels {

constexpr int kElementwiseBlockThreads = 256;
constexpr int kColumnSumBlockThreads = 256;
constexpr unsigned kAutoencoderFullWarpMask = 0xFFFFFFFFu;

/// Copies the batch rows order[0..rows) of `source` [n x dims] into `batch` [rows x dims].
/// One thread per output element (consecutive threads read consecutive columns of a row).
__global__ void __launch_bounds__(kElementwiseBlockThreads)
    gather_batch_rows(const float* __restrict__ source, const int64_t* __restrict__ order, int64_t rows, int dims,
                      float* __restrict__ batch) {
  const int64_t count = rows * dims;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / dims, c = i - r * dims;
    batch[i] = source[order[r] * dims + c];
  }
}

/// Layer epilogue in place: z[r, o] = act(z[r, o] + bias[o]) over a row-major [rows x width] block.
__global__ void __launch_bounds__(kElementwiseBlockThreads)
    add_bias_and_activate(float* __restrict__ z, const float* __restrict__ bias, int64_t rows, int width, bool relu) {
  const int64_t count = rows * width;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    z[i] = autoencoder_rules::bias_activation(z[i], bias[i % width], relu);
}

/// Loss and its gradient: gradient[i] = scale x (y[i] - x[i]); the squared errors are summed per
/// block (warp shuffles, then the warps in order) into block_sums[blockIdx.x]. add_block_sums then
/// adds the blocks in order: no atomics, so the loss is the same bits on every run.
__global__ void __launch_bounds__(kElementwiseBlockThreads)
    squared_error_and_gradient(const float* __restrict__ reconstructed, const float* __restrict__ input, int64_t count,
                               float gradient_scale, float* __restrict__ gradient, double* __restrict__ block_sums) {
  __shared__ double warp_sums[kElementwiseBlockThreads / 32];
  double local = 0.0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    local += autoencoder_rules::squared_error_and_gradient(reconstructed[i], input[i], gradient_scale, &gradient[i]);
  for (int offset = 16; offset > 0; offset >>= 1) local += __shfl_down_sync(kAutoencoderFullWarpMask, local, offset);
  if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = local;
  __syncthreads();
  if (threadIdx.x == 0) {
    double block_sum = 0.0;
    for (int w = 0; w < kElementwiseBlockThreads / 32; ++w) block_sum += warp_sums[w];
    block_sums[blockIdx.x] = block_sum;
  }
}

/// *total += block_sums[0] + ... + block_sums[n_blocks - 1], in that order (one thread: at most a
/// few thousand blocks, once per batch), so the epoch's loss accumulates deterministically.
__global__ void add_block_sums(const double* __restrict__ block_sums, unsigned n_blocks, double* __restrict__ total) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double sum = 0.0;
  for (unsigned b = 0; b < n_blocks; ++b) sum += block_sums[b];
  *total += sum;
}

/// Backward through ReLU in place: gradient[i] = 0 where the layer output activation[i] was 0.
__global__ void __launch_bounds__(kElementwiseBlockThreads)
    relu_backward_in_place(float* __restrict__ gradient, const float* __restrict__ activation, int64_t count) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    gradient[i] = autoencoder_rules::relu_backward(gradient[i], activation[i]);
}

/// Bias gradient: sums[o] = sum over rows of delta[r, o] for a row-major [rows x width] block.
/// One block per column; threads stride over the rows, then a shared-memory tree reduction.
__global__ void __launch_bounds__(kColumnSumBlockThreads)
    sum_columns(const float* __restrict__ delta, int64_t rows, int width, float* __restrict__ sums) {
  __shared__ float partial[kColumnSumBlockThreads];
  const int column = blockIdx.x;
  float local = 0.0f;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) local += delta[r * width + column];
  partial[threadIdx.x] = local;
  __syncthreads();
  for (int stride = kColumnSumBlockThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) sums[column] = partial[0];
}

/// Adam update of every parameter (weights and biases live in one flat array).
__global__ void __launch_bounds__(kElementwiseBlockThreads)
    adam_step(float* __restrict__ parameters, float* __restrict__ first_moments, float* __restrict__ second_moments,
              const float* __restrict__ gradients, int64_t count, autoencoder_rules::AdamStep step) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    autoencoder_rules::adam_update(&parameters[i], &first_moments[i], &second_moments[i], gradients[i], step);
}

/// Scoring: error[r] = mean over the dims of (y - x)^2, one thread per row, summed in float in
/// column order exactly as the CPU twin does.
__global__ void __launch_bounds__(kElementwiseBlockThreads)
    row_reconstruction_error(const float* __restrict__ reconstructed, const float* __restrict__ input, int64_t rows,
                             int dims, float* __restrict__ errors) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float sum = 0.0f;
    for (int c = 0; c < dims; ++c) {
      const float diff = reconstructed[r * dims + c] - input[r * dims + c];
      sum += diff * diff;
    }
    errors[r] = sum / static_cast<float>(dims);
  }
}

}  // namespace jm::kernels
