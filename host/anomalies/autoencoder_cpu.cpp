// CPU autoencoder: OpenBLAS SGEMMs for the layers, the shared per-element rules
// (autoencoder_rules.hpp) for bias + ReLU, the loss gradient and Adam. Mirrors
// cuda/anomalies/autoencoder_cuda.cu step by step, so both backends compute the same thing.
//
// Layout: activations are row-major [batch x width]; layer l is Z = A_l W_l + b_l with W_l
// [in x out] row-major. Backward: dW_l = A_l^T dZ, db_l = column sums of dZ, dA_l = dZ W_l^T.

#include <algorithm>
#include <vector>

#include "host/anomalies/autoencoder_driver.hpp"
#include "host/core/openblas.hpp"
#include "host/core/thread_pool.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/autoencoder_rules.hpp"

namespace jm::cpu_impl {
namespace {

using autoencoder_rules::AdamStep;

constexpr int64_t kScoreRowsPerBlock = 4096;

// OpenBLAS runs on one thread here (SingleThreadedBlas). Training: a mini-batch GEMM is tiny
// (256 x 64 x d), and OpenBLAS threads cost more to wake than they save (measured 4x slower per
// epoch on 2 cores). Scoring: row blocks run in parallel instead (no nested thread pools).

/// Forward pass of `rows` consecutive input rows: activations[l + 1] = layer l of activations[l].
void forward(const AutoencoderModel& model, const float* parameters, int64_t rows,
             std::vector<std::vector<float>>& activations) {
  const int layers = model.layers();
  for (int l = 0; l < layers; ++l) {
    const int in = model.widths[l], out = model.widths[l + 1];
    const float* w = parameters + model.weight_offset(l);
    const float* b = parameters + model.bias_offset(l);
    float* z = activations[l + 1].data();
    openblas().sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), out, in, 1.0f,
                activations[l].data(), in, w, out, 0.0f, z, out);
    const bool relu = l + 1 < layers;
    for (int64_t r = 0; r < rows; ++r)
      for (int o = 0; o < out; ++o)
        z[r * out + o] = autoencoder_rules::bias_activation(z[r * out + o], b[o], relu);
  }
}

class CpuAutoencoderTrainer final : public AutoencoderTrainer {
 public:
  CpuAutoencoderTrainer(const Context& ctx, const float* rows, int64_t n, const AutoencoderModel& initial,
                        const AutoencoderOptions& options)
      : rows_(rows), model_(initial), options_(options), parameters_(initial.parameters),
        gradients_(parameters_.size(), 0.0f), first_moments_(parameters_.size(), 0.0f),
        second_moments_(parameters_.size(), 0.0f) {
    (void)ctx;  // training is sequential over batches; see SingleThreadedBlas
    resize_buffers(std::min(options.batch_size, std::max<int64_t>(n, 1)));
  }

  double run_epoch(const std::vector<int64_t>& order, int64_t batch_size, int64_t first_step) override {
    SingleThreadedBlas single_threaded;
    const int64_t n_order = static_cast<int64_t>(order.size());
    double squared_error = 0.0;
    int64_t step = first_step;
    for (int64_t first = 0; first < n_order; first += batch_size) {
      squared_error += forward_backward(order.data() + first, std::min(batch_size, n_order - first));
      ++step;
      const AdamStep adam = anomalies_detail::make_adam_step(options_, step);
      for (size_t p = 0; p < parameters_.size(); ++p)
        autoencoder_rules::adam_update(&parameters_[p], &first_moments_[p], &second_moments_[p], gradients_[p], adam);
    }
    return squared_error;
  }

  double loss_and_gradients(const std::vector<int64_t>& batch, std::vector<float>& gradients) override {
    if (static_cast<int64_t>(batch.size()) > static_cast<int64_t>(activations_[0].size()) / model_.dims())
      resize_buffers(static_cast<int64_t>(batch.size()));
    SingleThreadedBlas single_threaded;
    const double squared_error = forward_backward(batch.data(), static_cast<int64_t>(batch.size()));
    gradients = gradients_;
    return squared_error / (static_cast<double>(batch.size()) * model_.dims());
  }

  std::vector<float> parameters() override { return parameters_; }

 private:
  void resize_buffers(int64_t batch) {
    activations_.resize(static_cast<size_t>(model_.layers()) + 1);
    deltas_.resize(activations_.size());
    for (size_t l = 0; l < activations_.size(); ++l) {
      activations_[l].resize(static_cast<size_t>(batch) * model_.widths[l]);
      deltas_[l].resize(activations_[l].size());
    }
  }

  /// Gathers the batch, runs forward and backward, leaves the gradients in gradients_ and returns
  /// the batch's summed squared error.
  double forward_backward(const int64_t* batch_rows, int64_t rows) {
    const int d = model_.dims();
    const int layers = model_.layers();
    float* x = activations_[0].data();
    for (int64_t r = 0; r < rows; ++r) std::copy_n(rows_ + batch_rows[r] * d, d, x + r * d);
    forward(model_, parameters_.data(), rows, activations_);

    // Loss and its gradient with respect to the reconstruction.
    const float gradient_scale = 2.0f / static_cast<float>(rows * d);
    const float* y = activations_[layers].data();
    float* dy = deltas_[layers].data();
    double squared_error = 0.0;
    for (int64_t i = 0; i < rows * d; ++i)
      squared_error += autoencoder_rules::squared_error_and_gradient(y[i], x[i], gradient_scale, &dy[i]);

    // Backward, last layer first. deltas_[l + 1] holds dZ of layer l.
    for (int l = layers - 1; l >= 0; --l) {
      const int in = model_.widths[l], out = model_.widths[l + 1];
      const float* a = activations_[l].data();
      const float* dz = deltas_[l + 1].data();
      float* dw = gradients_.data() + model_.weight_offset(l);
      float* db = gradients_.data() + model_.bias_offset(l);
      openblas().sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, static_cast<int>(rows), 1.0f, a, in, dz, out, 0.0f,
                  dw, out);
      std::fill_n(db, out, 0.0f);
      for (int64_t r = 0; r < rows; ++r)
        for (int o = 0; o < out; ++o) db[o] += dz[r * out + o];
      if (l > 0) {
        float* da = deltas_[l].data();
        openblas().sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), in, out, 1.0f, dz, out,
                    parameters_.data() + model_.weight_offset(l), out, 0.0f, da, in);
        for (int64_t i = 0; i < rows * in; ++i) da[i] = autoencoder_rules::relu_backward(da[i], a[i]);
      }
    }
    return squared_error;
  }

  const float* rows_;
  AutoencoderModel model_;
  AutoencoderOptions options_;
  std::vector<float> parameters_;
  std::vector<float> gradients_;
  std::vector<float> first_moments_;
  std::vector<float> second_moments_;
  std::vector<std::vector<float>> activations_;  // [layers + 1][batch x width]
  std::vector<std::vector<float>> deltas_;       // gradients of the same shapes
};

}  // namespace

std::unique_ptr<AutoencoderTrainer> make_autoencoder_trainer(const Context& ctx, const float* rows, int64_t n,
                                                             const AutoencoderModel& initial,
                                                             const AutoencoderOptions& options) {
  return std::make_unique<CpuAutoencoderTrainer>(ctx, rows, n, initial, options);
}

std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const float* rows,
                                         int64_t n) {
  SingleThreadedBlas single_threaded;
  const int d = model.dims();
  std::vector<float> errors(static_cast<size_t>(n));
  const int64_t blocks = (n + kScoreRowsPerBlock - 1) / kScoreRowsPerBlock;
  parallel_for(blocks, resolve_thread_count(ctx.num_threads), [&](int64_t block) {
    const int64_t first = block * kScoreRowsPerBlock, count = std::min(n, first + kScoreRowsPerBlock) - first;
    std::vector<std::vector<float>> activations(static_cast<size_t>(model.layers()) + 1);
    for (size_t l = 0; l < activations.size(); ++l) activations[l].resize(static_cast<size_t>(count) * model.widths[l]);
    std::copy_n(rows + first * d, count * d, activations[0].data());
    forward(model, model.parameters.data(), count, activations);
    const float* y = activations.back().data();
    const float* x = activations[0].data();
    for (int64_t r = 0; r < count; ++r) {
      float sum = 0.0f;  // float, in column order: the GPU kernel sums the same way
      for (int c = 0; c < d; ++c) {
        const float diff = y[r * d + c] - x[r * d + c];
        sum += diff * diff;
      }
      errors[first + r] = sum / static_cast<float>(d);
    }
  });
  return errors;
}

}  // namespace jm::cpu_impl
