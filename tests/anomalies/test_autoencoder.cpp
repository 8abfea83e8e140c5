// The autoencoder core on plain matrices: the backward pass against finite differences of an
// independent double-precision forward pass, training reduces the loss on low-rank data, scoring
// matches a reference forward pass, runs are deterministic, bad input fails clearly, and the GPU
// twin reproduces the CPU (gradients, loss curves, scores) from the same initial weights and batches.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"

namespace {

using jm::Backend;

// Rows on a 3-dimensional linear subspace of `dims` dimensions plus small noise: an autoencoder
// with a bottleneck >= 3 can reconstruct them well.
std::vector<float> low_rank_rows(int64_t n, int dims, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> basis(3 * static_cast<size_t>(dims));
  for (double& b : basis) b = normal(rng);
  std::vector<float> rows(static_cast<size_t>(n) * dims);
  for (int64_t r = 0; r < n; ++r) {
    const double z[3] = {normal(rng), normal(rng), normal(rng)};
    for (int c = 0; c < dims; ++c)
      rows[r * dims + c] = static_cast<float>(z[0] * basis[c] + z[1] * basis[dims + c] + z[2] * basis[2 * dims + c] +
                                              0.05 * normal(rng));
  }
  return rows;
}

// Mean squared reconstruction error of `rows` under `parameters`, in double, written independently
// of the library (plain loops over the documented layout).
double reference_loss(const jm::AutoencoderModel& model, const std::vector<double>& parameters,
                      const std::vector<float>& rows, const std::vector<int64_t>& batch) {
  const int d = model.dims();
  double total = 0.0;
  for (int64_t r : batch) {
    std::vector<double> a(rows.begin() + r * d, rows.begin() + (r + 1) * d);
    for (int l = 0; l < model.layers(); ++l) {
      const int in = model.widths[l], out = model.widths[l + 1];
      std::vector<double> z(static_cast<size_t>(out));
      for (int o = 0; o < out; ++o) {
        double sum = parameters[model.bias_offset(l) + o];
        for (int i = 0; i < in; ++i) sum += a[i] * parameters[model.weight_offset(l) + int64_t{i} * out + o];
        z[o] = (l + 1 < model.layers()) ? std::max(sum, 0.0) : sum;
      }
      a = z;
    }
    for (int c = 0; c < d; ++c) total += (a[c] - rows[r * d + c]) * (a[c] - rows[r * d + c]);
  }
  return total / (static_cast<double>(batch.size()) * d);
}

std::unique_ptr<jm::AutoencoderTrainer> make_trainer(Backend backend, const float* rows, int64_t n,
                                                     const jm::AutoencoderModel& model,
                                                     const jm::AutoencoderOptions& options) {
  const jm::Context ctx = jm::make_context(backend, 2);
  return backend == Backend::Gpu ? jm::cuda_impl::make_autoencoder_trainer(ctx, rows, n, model, options)
                                 : jm::cpu_impl::make_autoencoder_trainer(ctx, rows, n, model, options);
}

class Autoencoder : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
    ctx_ = jm::make_context(GetParam(), 2);
  }
  jm::Context ctx_;
};

TEST(AutoencoderModel, LayoutAndInitialisation) {
  const jm::AutoencoderModel model = jm::init_autoencoder(5, {4, 2, 4}, 7);
  ASSERT_EQ(model.widths, (std::vector<int>{5, 4, 2, 4, 5}));
  EXPECT_EQ(model.layers(), 4);
  EXPECT_EQ(model.parameter_count(), (5 * 4 + 4) + (4 * 2 + 2) + (2 * 4 + 4) + (4 * 5 + 5));
  EXPECT_EQ(model.weight_offset(1), 24);
  EXPECT_EQ(model.bias_offset(1), 24 + 8);
  ASSERT_EQ(static_cast<int64_t>(model.parameters.size()), model.parameter_count());
  // Glorot-uniform weights within +-sqrt(6 / (fan_in + fan_out)), biases zero, and not all equal.
  for (int l = 0; l < model.layers(); ++l) {
    const double limit = std::sqrt(6.0 / (model.widths[l] + model.widths[l + 1]));
    for (int64_t i = 0; i < int64_t{model.widths[l]} * model.widths[l + 1]; ++i)
      EXPECT_LE(std::fabs(model.parameters[model.weight_offset(l) + i]), limit);
    for (int o = 0; o < model.widths[l + 1]; ++o) EXPECT_EQ(model.parameters[model.bias_offset(l) + o], 0.0f);
  }
  EXPECT_NE(model.parameters[0], model.parameters[1]);
  EXPECT_EQ(jm::init_autoencoder(5, {4, 2, 4}, 7).parameters, model.parameters);
  EXPECT_NE(jm::init_autoencoder(5, {4, 2, 4}, 8).parameters, model.parameters);
}

TEST_P(Autoencoder, BackwardPassMatchesFiniteDifferences) {
  const int dims = 4;
  const std::vector<float> rows = low_rank_rows(7, dims, 3);
  jm::AutoencoderModel model = jm::init_autoencoder(dims, {5, 3}, 11);
  // Non-zero biases so that their gradients are exercised away from the initial state.
  for (int l = 0; l < model.layers(); ++l)
    for (int o = 0; o < model.widths[l + 1]; ++o) model.parameters[model.bias_offset(l) + o] = 0.05f * (o + 1) - 0.1f;
  jm::AutoencoderOptions options;
  options.batch_size = 7;
  auto trainer = make_trainer(GetParam(), rows.data(), 7, model, options);
  const std::vector<int64_t> batch = {6, 0, 3, 1, 5, 2, 4};
  std::vector<float> gradients;
  const double loss = trainer->loss_and_gradients(batch, gradients);
  ASSERT_EQ(static_cast<int64_t>(gradients.size()), model.parameter_count());

  std::vector<double> parameters(model.parameters.begin(), model.parameters.end());
  EXPECT_NEAR(loss, reference_loss(model, parameters, rows, batch), 1e-5 * reference_loss(model, parameters, rows, batch));
  // Central differences of the double-precision loss: truncation error O(h^2) ~ 1e-10, far below
  // the float rounding of the analytic gradient (~1e-6 relative). ReLU kinks closer than h to a
  // pre-activation would break this; with these weights none is (checked by the tolerance).
  const double h = 1e-5;
  for (size_t p = 0; p < parameters.size(); ++p) {
    std::vector<double> plus = parameters, minus = parameters;
    plus[p] += h;
    minus[p] -= h;
    const double numeric =
        (reference_loss(model, plus, rows, batch) - reference_loss(model, minus, rows, batch)) / (2.0 * h);
    EXPECT_NEAR(gradients[p], numeric, 1e-4 * std::max(1.0, std::fabs(numeric))) << "parameter " << p;
  }
}

TEST_P(Autoencoder, TrainingReducesTheLossOnLowRankData) {
  const int dims = 12;
  const int64_t n = 2000;
  const std::vector<float> rows = low_rank_rows(n, dims, 5);
  jm::AutoencoderOptions options;
  options.hidden = {32, 4, 32};
  options.epochs = 15;
  options.batch_size = 64;
  options.learning_rate = 3e-3f;
  const jm::AutoencoderModel initial = jm::init_autoencoder(dims, options.hidden, options.seed);
  const jm::AutoencoderTraining training = jm::train_autoencoder(ctx_, rows.data(), n, dims, initial, options);
  ASSERT_EQ(training.loss_per_epoch.size(), 15u);
  EXPECT_EQ(training.train_rows, n);
  EXPECT_LT(training.loss_per_epoch.back(), 0.1 * training.loss_per_epoch.front());

  // Scores: mean squared error per row, equal to an independent reference forward pass.
  const std::vector<float> errors = jm::reconstruction_errors(ctx_, training.model, rows.data(), n);
  const std::vector<float> reconstructed = jm::reconstruct_rows(training.model, rows.data(), n);
  ASSERT_EQ(errors.size(), static_cast<size_t>(n));
  double mean_error = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    double expected = 0.0;
    for (int c = 0; c < dims; ++c)
      expected += (reconstructed[r * dims + c] - rows[r * dims + c]) * (reconstructed[r * dims + c] - rows[r * dims + c]);
    expected /= dims;
    // Float GEMMs sum in a different order than the reference loops: a few ulp of each activation.
    EXPECT_NEAR(errors[r], expected, 1e-4 * expected + 1e-6) << "row " << r;
    mean_error += errors[r];
  }
  // The last epoch's loss is measured during training (before each update); the final scores
  // are of the final weights and of the same order.
  EXPECT_LT(mean_error / n, 2.0 * training.loss_per_epoch.back());
}

TEST_P(Autoencoder, SameSeedSameResultAndSampledTraining) {
  const int dims = 6;
  const std::vector<float> rows = low_rank_rows(500, dims, 9);
  jm::AutoencoderOptions options;
  options.hidden = {8, 3, 8};
  options.epochs = 3;
  options.batch_size = 50;
  options.max_train_rows = 300;
  const jm::AutoencoderModel initial = jm::init_autoencoder(dims, options.hidden, 1);
  const auto a = jm::train_autoencoder(ctx_, rows.data(), 500, dims, initial, options);
  const auto b = jm::train_autoencoder(ctx_, rows.data(), 500, dims, initial, options);
  EXPECT_EQ(a.train_rows, 300);
  EXPECT_EQ(a.loss_per_epoch, b.loss_per_epoch);
  EXPECT_EQ(a.model.parameters, b.model.parameters);
}

TEST(AutoencoderErrors, BadInputFailsClearly) {
  jm::Context ctx;
  const std::vector<float> rows(20, 1.0f);
  const jm::AutoencoderModel model = jm::init_autoencoder(4, {3}, 1);
  jm::AutoencoderOptions options;
  EXPECT_THROW(jm::train_autoencoder(ctx, rows.data(), 5, 5, model, options), jm::ConfigError);  // dims mismatch
  options.batch_size = 0;
  EXPECT_THROW(jm::train_autoencoder(ctx, rows.data(), 5, 4, model, options), jm::ConfigError);
  options = jm::AutoencoderOptions{};
  options.learning_rate = 0.0f;
  EXPECT_THROW(jm::train_autoencoder(ctx, rows.data(), 5, 4, model, options), jm::ConfigError);
  EXPECT_THROW(jm::init_autoencoder(0, {3}, 1), jm::ConfigError);
  EXPECT_THROW(jm::init_autoencoder(4, {3, 0}, 1), jm::ConfigError);
  // Empty input: nothing to train or score.
  const auto empty = jm::train_autoencoder(ctx, rows.data(), 0, 4, model, jm::AutoencoderOptions{});
  EXPECT_TRUE(empty.loss_per_epoch.empty());
  EXPECT_TRUE(jm::reconstruction_errors(ctx, model, rows.data(), 0).empty());
#ifndef JM_WITH_CUDA
  ctx.backend = Backend::Gpu;
  EXPECT_THROW(jm::reconstruction_errors(ctx, model, rows.data(), 5), jm::GpuUnavailableError);
#endif
}

// The GPU twin against the CPU oracle: same initial weights, same shuffled batches.
TEST(AutoencoderParity, GpuReproducesCpu) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device";
  const int dims = 20;
  const int64_t n = 3000;
  const std::vector<float> rows = low_rank_rows(n, dims, 21);
  jm::AutoencoderOptions options;
  options.hidden = {64, 16, 64};
  options.epochs = 5;
  options.batch_size = 128;
  const jm::AutoencoderModel initial = jm::init_autoencoder(dims, options.hidden, 4);

  // One batch: gradients agree to float rounding of GEMMs with different summation orders.
  std::vector<int64_t> batch(128);
  std::iota(batch.begin(), batch.end(), 100);
  std::vector<float> cpu_gradients, gpu_gradients;
  const double cpu_loss = make_trainer(Backend::Cpu, rows.data(), n, initial, options)->loss_and_gradients(batch, cpu_gradients);
  const double gpu_loss = make_trainer(Backend::Gpu, rows.data(), n, initial, options)->loss_and_gradients(batch, gpu_gradients);
  EXPECT_NEAR(gpu_loss, cpu_loss, 1e-5 * cpu_loss);
  ASSERT_EQ(cpu_gradients.size(), gpu_gradients.size());
  double max_gradient = 0.0;
  for (float g : cpu_gradients) max_gradient = std::max(max_gradient, static_cast<double>(std::fabs(g)));
  for (size_t p = 0; p < cpu_gradients.size(); ++p)
    EXPECT_NEAR(gpu_gradients[p], cpu_gradients[p], 1e-4 * max_gradient) << "parameter " << p;

  // Loss curves: 5 epochs x 24 Adam steps. Rounding differences grow slowly through training;
  // 1e-3 relative per epoch is two orders of magnitude above what float GEMM reordering causes
  // and two below the epoch-to-epoch change of the loss.
  const jm::Context cpu = jm::make_context(Backend::Cpu, 2), gpu = jm::make_context(Backend::Gpu, 2);
  const auto on_cpu = jm::train_autoencoder(cpu, rows.data(), n, dims, initial, options);
  const auto on_gpu = jm::train_autoencoder(gpu, rows.data(), n, dims, initial, options);
  ASSERT_EQ(on_cpu.loss_per_epoch.size(), on_gpu.loss_per_epoch.size());
  for (size_t e = 0; e < on_cpu.loss_per_epoch.size(); ++e)
    EXPECT_NEAR(on_gpu.loss_per_epoch[e], on_cpu.loss_per_epoch[e], 1e-3 * on_cpu.loss_per_epoch[e]) << "epoch " << e;

  // Scores of the same model: per-row float sums, identical order; GEMMs differ by rounding only.
  const std::vector<float> cpu_scores = jm::reconstruction_errors(cpu, on_cpu.model, rows.data(), n);
  const std::vector<float> gpu_scores = jm::reconstruction_errors(gpu, on_cpu.model, rows.data(), n);
  ASSERT_EQ(cpu_scores.size(), gpu_scores.size());
  for (int64_t r = 0; r < n; ++r) EXPECT_NEAR(gpu_scores[r], cpu_scores[r], 1e-4 * cpu_scores[r] + 1e-7) << "row " << r;
}

INSTANTIATE_TEST_SUITE_P(Backends, Autoencoder, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return std::string(jm::to_string(info.param)); });

}  // namespace
