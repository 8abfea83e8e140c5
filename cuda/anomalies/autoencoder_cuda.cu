// GPU autoencoder: the training rows are copied to the device once; every mini-batch is a gather
// kernel, cuBLAS SGEMMs for the layers (forward, weight gradients, input gradients) and the fused
// element-wise kernels of kernels/anomalies/autoencoder_kernels.cuh (bias + ReLU, loss + gradient,
// ReLU backward, bias gradient, Adam), all on one stream. The epoch's squared error accumulates on
// the device; the host synchronises once per epoch to read it. Mirrors host/anomalies/autoencoder_cpu.cpp.
//
// cuBLAS is column-major: a row-major [r x c] matrix is a column-major [c x r] one, so the
// row-major products of the CPU twin are issued here as their transposes (see each call).
#include <cublas_v2.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <rmm/device_uvector.hpp>

#include "cuda/core/cublas_check.cuh"
#include "cuda/core/cuda_check.cuh"
#include "cuda/core/device_runtime.cuh"
#include "host/anomalies/autoencoder_driver.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "kernels/anomalies/autoencoder_kernels.cuh"


namespace jm::cuda_impl {
namespace {

constexpr int64_t kScoreRowsPerChunk = int64_t{1} << 16;


/// The network's device state shared by training and scoring: parameters and per-layer buffers.
class DeviceNetwork {
 public:
  DeviceNetwork(const Context& ctx, const AutoencoderModel& model, int64_t max_rows)
      : owner_(ctx.device), resources_(cuda_resources(ctx)), stream_(resources_.stream()), model_(model),
        parameters_(model.parameters.size(), stream_) {
    resources_.copy_to_device(parameters_.data(), model.parameters.data(), model.parameters.size() * sizeof(float));
    for (int l = 0; l <= model_.layers(); ++l) {
      activations_.emplace_back(static_cast<size_t>(max_rows) * model_.widths[l], stream_);
      deltas_.emplace_back(static_cast<size_t>(max_rows) * model_.widths[l], stream_);
    }
    handle_ = resources_.cublas();  // full FP32, no TF32 shortcuts
  }

  /// activations_[l + 1] = layer l of activations_[l], for `rows` rows already in activations_[0].
  void forward(int64_t rows) {
    const float one = 1.0f, zero = 0.0f;
    for (int l = 0; l < model_.layers(); ++l) {
      const int in = model_.widths[l], out = model_.widths[l + 1];
      // Row-major Z [rows x out] = A [rows x in] W [in x out]  <=>  column-major Z^T = W^T A^T.
      JM_CUBLAS_TRY(cublas_api().sgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, out, static_cast<int>(rows), in, &one,
                                   weights(l), out, activations_[l].data(), in, &zero, activations_[l + 1].data(), out));
      kernels::add_bias_and_activate<<<grid_for(rows * out), kernels::kElementwiseBlockThreads, 0,
                              stream_.value()>>>(activations_[l + 1].data(), bias(l), rows, out, l + 1 < model_.layers());
      JM_CUDA_CHECK_LAUNCH();
    }
  }

  /// Blocks for an element-wise kernel over `count` items (at most 8 per multiprocessor).
  unsigned grid_for(int64_t count) const { return resources_.grid_for(count, kernels::kElementwiseBlockThreads); }
  int64_t max_grid() const { return int64_t{resources_.sm_count()} * 8; }

  float* weights(int l) { return parameters_.data() + model_.weight_offset(l); }
  float* bias(int l) { return parameters_.data() + model_.bias_offset(l); }

  // Shares the context's resources: a trainer may outlive the Context it was made from, and its
  // buffers are freed on the stream, so the stream and cuBLAS handle must outlive them.
  std::shared_ptr<DeviceResources> owner_;
  CudaResources& resources_;
  rmm::cuda_stream_view stream_;
  AutoencoderModel model_;
  rmm::device_uvector<float> parameters_;
  std::vector<rmm::device_uvector<float>> activations_;  // [layers + 1][rows x width]
  std::vector<rmm::device_uvector<float>> deltas_;       // gradients of the same shapes
  cublasHandle_t handle_ = nullptr;
};

class CudaAutoencoderTrainer final : public AutoencoderTrainer {
 public:
  CudaAutoencoderTrainer(const Context& ctx, const float* rows, int64_t n, const AutoencoderModel& initial,
                         const AutoencoderOptions& options)
      : net_(ctx, initial, std::max<int64_t>(1, std::min(options.batch_size, n))), options_(options),
        batch_capacity_(std::max<int64_t>(1, std::min(options.batch_size, n))),
        rows_(static_cast<size_t>(n) * initial.dims(), net_.stream_),
        gradients_(initial.parameters.size(), net_.stream_), first_moments_(initial.parameters.size(), net_.stream_),
        second_moments_(initial.parameters.size(), net_.stream_), order_(static_cast<size_t>(n), net_.stream_),
        squared_error_sum_(1, net_.stream_), block_sums_(static_cast<size_t>(net_.max_grid()), net_.stream_) {
    const cudaStream_t stream = net_.stream_.value();
    net_.resources_.copy_to_device(rows_.data(), rows, rows_.size() * sizeof(float));
    JM_CUDA_TRY(cudaMemsetAsync(first_moments_.data(), 0, first_moments_.size() * sizeof(float), stream));
    JM_CUDA_TRY(cudaMemsetAsync(second_moments_.data(), 0, second_moments_.size() * sizeof(float), stream));
  }

  double run_epoch(const std::vector<int64_t>& order, int64_t batch_size, int64_t first_step) override {
    const cudaStream_t stream = net_.stream_.value();
    const int64_t n_order = static_cast<int64_t>(order.size());
    upload_order(order);
    JM_CUDA_TRY(cudaMemsetAsync(squared_error_sum_.data(), 0, sizeof(double), stream));
    int64_t step = first_step;
    for (int64_t first = 0; first < n_order; first += batch_size) {
      forward_backward(order_.data() + first, std::min(batch_size, n_order - first));
      ++step;
      const autoencoder_rules::AdamStep adam = anomalies_detail::make_adam_step(options_, step);
      const int64_t count = static_cast<int64_t>(gradients_.size());
      kernels::adam_step<<<net_.grid_for(count), kernels::kElementwiseBlockThreads, 0, stream>>>(
          net_.parameters_.data(), first_moments_.data(), second_moments_.data(), gradients_.data(), count, adam);
      JM_CUDA_CHECK_LAUNCH();
    }
    double squared_error = 0.0;  // read once per epoch: the driver records the epoch's loss
    net_.resources_.copy_to_host(&squared_error, squared_error_sum_.data(), sizeof(double));
    return squared_error;
  }

  double loss_and_gradients(const std::vector<int64_t>& batch, std::vector<float>& gradients) override {
    if (static_cast<int64_t>(batch.size()) > batch_capacity_)
      throw ConfigError("autoencoder: a checked batch may hold at most batch_size rows");
    const cudaStream_t stream = net_.stream_.value();
    upload_order(batch);
    JM_CUDA_TRY(cudaMemsetAsync(squared_error_sum_.data(), 0, sizeof(double), stream));
    forward_backward(order_.data(), static_cast<int64_t>(batch.size()));
    gradients.resize(gradients_.size());
    double squared_error = 0.0;
    net_.resources_.copy_to_host(gradients.data(), gradients_.data(), gradients.size() * sizeof(float));
    net_.resources_.copy_to_host(&squared_error, squared_error_sum_.data(), sizeof(double));
    return squared_error / (static_cast<double>(batch.size()) * net_.model_.dims());
  }

  std::vector<float> parameters() override {
    std::vector<float> out(net_.parameters_.size());
    net_.resources_.copy_to_host(out.data(), net_.parameters_.data(), out.size() * sizeof(float));
    return out;
  }

 private:
  void upload_order(const std::vector<int64_t>& order) {
    if (order.size() > order_.size()) order_.resize(order.size(), net_.stream_);
    // From pageable memory: the copy is staged before it returns, so the caller may reuse `order`.
    net_.resources_.copy_to_device(order_.data(), order.data(), order.size() * sizeof(int64_t));
  }

  /// Gathers the batch, runs forward and backward; gradients_ holds the result, the batch's squared
  /// error is added to squared_error_sum_. No host synchronisation.
  void forward_backward(const int64_t* batch_rows, int64_t rows) {
    const cudaStream_t stream = net_.stream_.value();
    const AutoencoderModel& model = net_.model_;
    const int d = model.dims(), layers = model.layers();
    const float one = 1.0f, zero = 0.0f;
    kernels::gather_batch_rows<<<net_.grid_for(rows * d), kernels::kElementwiseBlockThreads, 0, stream>>>(
        rows_.data(), batch_rows, rows, d, net_.activations_[0].data());
    JM_CUDA_CHECK_LAUNCH();
    net_.forward(rows);
    const unsigned loss_blocks = net_.grid_for(rows * d);  // <= max_grid() = block_sums_.size()
    kernels::squared_error_and_gradient<<<loss_blocks, kernels::kElementwiseBlockThreads, 0, stream>>>(
        net_.activations_[layers].data(), net_.activations_[0].data(), rows * d, 2.0f / static_cast<float>(rows * d),
        net_.deltas_[layers].data(), block_sums_.data());
    JM_CUDA_CHECK_LAUNCH();
    kernels::add_block_sums<<<1, 1, 0, stream>>>(block_sums_.data(), loss_blocks, squared_error_sum_.data());
    JM_CUDA_CHECK_LAUNCH();
    for (int l = layers - 1; l >= 0; --l) {
      const int in = model.widths[l], out = model.widths[l + 1];
      const float* a = net_.activations_[l].data();
      const float* dz = net_.deltas_[l + 1].data();
      float* dw = gradients_.data() + model.weight_offset(l);
      float* db = gradients_.data() + model.bias_offset(l);
      // Row-major dW [in x out] = A^T [in x rows] dZ [rows x out]  <=>  column-major dW^T = dZ^T A.
      JM_CUBLAS_TRY(cublas_api().sgemm(net_.handle_, CUBLAS_OP_N, CUBLAS_OP_T, out, in, static_cast<int>(rows), &one, dz, out,
                                   a, in, &zero, dw, out));
      kernels::sum_columns<<<static_cast<unsigned>(out), kernels::kColumnSumBlockThreads, 0, stream>>>(dz, rows, out, db);
      JM_CUDA_CHECK_LAUNCH();
      if (l > 0) {
        float* da = net_.deltas_[l].data();
        // Row-major dA [rows x in] = dZ [rows x out] W^T [out x in]  <=>  column-major dA^T = W dZ^T.
        JM_CUBLAS_TRY(cublas_api().sgemm(net_.handle_, CUBLAS_OP_T, CUBLAS_OP_N, in, static_cast<int>(rows), out, &one,
                                     net_.weights(l), out, dz, out, &zero, da, in));
        kernels::relu_backward_in_place<<<net_.grid_for(rows * in), kernels::kElementwiseBlockThreads, 0, stream>>>(
            da, a, rows * in);
        JM_CUDA_CHECK_LAUNCH();
      }
    }
  }

  DeviceNetwork net_;
  AutoencoderOptions options_;
  int64_t batch_capacity_;
  rmm::device_uvector<float> rows_;
  rmm::device_uvector<float> gradients_;
  rmm::device_uvector<float> first_moments_;
  rmm::device_uvector<float> second_moments_;
  rmm::device_uvector<int64_t> order_;
  rmm::device_uvector<double> squared_error_sum_;
  rmm::device_uvector<double> block_sums_;  ///< [max_grid()] per-block squared errors of one batch
};

}  // namespace

std::unique_ptr<AutoencoderTrainer> make_autoencoder_trainer(const Context& ctx, const float* rows, int64_t n,
                                                             const AutoencoderModel& initial,
                                                             const AutoencoderOptions& options) {
  return std::make_unique<CudaAutoencoderTrainer>(ctx, rows, n, initial, options);
}

namespace {

// Scores rows [n x dims] chunk by chunk; `load_chunk(first, count, destination)` puts rows
// first..first+count into the network's input on the device (from the host or from device memory).
template <typename LoadChunk>
std::vector<float> score_rows(const Context& ctx, const AutoencoderModel& model, int64_t n, LoadChunk load_chunk) {
  const int d = model.dims();
  const int64_t chunk_rows = std::min(n, kScoreRowsPerChunk);
  DeviceNetwork net(ctx, model, chunk_rows);
  const cudaStream_t stream = net.stream_.value();
  rmm::device_uvector<float> errors(static_cast<size_t>(chunk_rows), net.stream_);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t first = 0; first < n; first += chunk_rows) {
    const int64_t count = std::min(chunk_rows, n - first);
    load_chunk(net.resources_, first, count, net.activations_[0].data());
    net.forward(count);
    kernels::row_reconstruction_error<<<net.grid_for(count), kernels::kElementwiseBlockThreads, 0, stream>>>(
        net.activations_.back().data(), net.activations_[0].data(), count, d, errors.data());
    JM_CUDA_CHECK_LAUNCH();
    net.resources_.copy_to_host(out.data() + first, errors.data(), static_cast<size_t>(count) * sizeof(float));
  }
  return out;
}

}  // namespace

std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const float* rows,
                                         int64_t n) {
  const size_t row_bytes = static_cast<size_t>(model.dims()) * sizeof(float);
  return score_rows(ctx, model, n, [&](CudaResources& resources, int64_t first, int64_t count, float* input) {
    resources.copy_to_device(input, rows + first * model.dims(), static_cast<size_t>(count) * row_bytes);
  });
}

std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, DeviceSpan<const float> rows,
                                         int64_t n) {
  const size_t row_bytes = static_cast<size_t>(model.dims()) * sizeof(float);
  if (rows.size != static_cast<size_t>(n) * model.dims())
    throw Error("autoencoder: " + std::to_string(rows.size) + " resident values for " + std::to_string(n) + " rows of " +
                std::to_string(model.dims()));
  return score_rows(ctx, model, n, [&](CudaResources& resources, int64_t first, int64_t count, float* input) {
    JM_CUDA_TRY(cudaMemcpyAsync(input, rows.data + first * model.dims(), static_cast<size_t>(count) * row_bytes,
                                cudaMemcpyDeviceToDevice, resources.stream().value()));
  });
}

}  // namespace jm::cuda_impl
