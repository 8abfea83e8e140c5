// Autoencoder: model layout, initialisation, the training driver shared by both backends (sampling,
// shuffling, epochs) and the dispatch of scoring. The heavy step (one epoch of mini-batches) is the
// backend's AutoencoderTrainer.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "host/anomalies/autoencoder_driver.hpp"
#include "host/core/splitmix64.hpp"
#include "host/anomalies/anomaly_parts.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/autoencoder_rules.hpp"
#include "journeymap/common.hpp"

namespace jm {


int64_t AutoencoderModel::weight_offset(int layer) const {
  int64_t offset = 0;
  for (int l = 0; l < layer; ++l) offset += int64_t{widths[l]} * widths[l + 1] + widths[l + 1];
  return offset;
}

int64_t AutoencoderModel::bias_offset(int layer) const {
  return weight_offset(layer) + int64_t{widths[layer]} * widths[layer + 1];
}

int64_t AutoencoderModel::parameter_count() const { return layers() <= 0 ? 0 : weight_offset(layers()); }

AutoencoderModel init_autoencoder(int dims, const std::vector<int>& hidden, uint64_t seed) {
  if (dims < 1) throw ConfigError("autoencoder: the input needs at least one column (got " + std::to_string(dims) + ")");
  AutoencoderModel model;
  model.widths.push_back(dims);
  for (int width : hidden) {
    if (width < 1) throw ConfigError("autoencoder: hidden layer widths must be >= 1 (got " + std::to_string(width) + ")");
    model.widths.push_back(width);
  }
  model.widths.push_back(dims);
  model.parameters.assign(static_cast<size_t>(model.parameter_count()), 0.0f);
  SplitMix64 rng(seed ^ 0xA5A5A5A55A5A5A5Aull);
  for (int l = 0; l < model.layers(); ++l) {
    // Glorot-uniform: U(-sqrt(6 / (fan_in + fan_out)), +sqrt(6 / (fan_in + fan_out))).
    const double limit = std::sqrt(6.0 / (model.widths[l] + model.widths[l + 1]));
    float* w = model.parameters.data() + model.weight_offset(l);
    for (int64_t i = 0, count = int64_t{model.widths[l]} * model.widths[l + 1]; i < count; ++i)
      w[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * limit);
  }
  return model;
}

namespace {

void validate(const AutoencoderOptions& options) {
  if (options.epochs < 0) throw ConfigError("autoencoder: epochs must be >= 0");
  if (options.batch_size < 1) throw ConfigError("autoencoder: batch_size must be >= 1");
  if (!(options.learning_rate > 0.0f)) throw ConfigError("autoencoder: learning_rate must be > 0");
  if (!(options.beta1 >= 0.0f && options.beta1 < 1.0f) || !(options.beta2 >= 0.0f && options.beta2 < 1.0f))
    throw ConfigError("autoencoder: beta1 and beta2 must be in [0, 1)");
  if (!(options.epsilon > 0.0f)) throw ConfigError("autoencoder: epsilon must be > 0");
  if (options.max_train_rows < 0) throw ConfigError("autoencoder: max_train_rows must be >= 0 (0 = all rows)");
}

std::unique_ptr<AutoencoderTrainer> make_trainer(const Context& ctx, const float* rows, int64_t n,
                                                 const AutoencoderModel& initial, const AutoencoderOptions& options) {
  return ctx.backend == Backend::Gpu ? cuda_impl::make_autoencoder_trainer(ctx, rows, n, initial, options)
                                     : cpu_impl::make_autoencoder_trainer(ctx, rows, n, initial, options);
}

}  // namespace

namespace {

void check_initial(const AutoencoderModel& initial, int dims, int64_t n) {
  if (initial.layers() < 1 || initial.dims() != dims || initial.widths.back() != dims ||
      static_cast<int64_t>(initial.parameters.size()) != initial.parameter_count())
    throw ConfigError("autoencoder: the initial model does not match " + std::to_string(dims) + " input columns");
  if (n < 0) throw ConfigError("autoencoder: negative row count");
}

// The rows of n that train: empty for all of them, else a seeded uniform sample of max_train_rows
// in input order. `rng` goes on from the draw to the epochs' shuffles.
std::vector<int64_t> training_sample(int64_t n, const AutoencoderOptions& options, SplitMix64& rng) {
  if (options.max_train_rows <= 0 || n <= options.max_train_rows) return {};
  std::vector<int64_t> chosen(static_cast<size_t>(n));
  std::iota(chosen.begin(), chosen.end(), 0);
  for (int64_t i = 0; i < options.max_train_rows; ++i)  // partial Fisher-Yates
    std::swap(chosen[i], chosen[i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)))]);
  chosen.resize(static_cast<size_t>(options.max_train_rows));
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

// The epochs over the training rows [n_train x dims].
AutoencoderTraining run_epochs(const Context& ctx, const float* train, int64_t n_train, const AutoencoderModel& initial,
                               const AutoencoderOptions& options, SplitMix64& rng) {
  AutoencoderTraining training;
  training.model = initial;
  training.train_rows = n_train;
  const int dims = initial.dims();
  std::unique_ptr<AutoencoderTrainer> trainer = make_trainer(ctx, train, n_train, initial, options);
  std::vector<int64_t> order(static_cast<size_t>(n_train));
  const int64_t batches_per_epoch = (n_train + options.batch_size - 1) / options.batch_size;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    report_progress(ctx, "autoencoder epochs", static_cast<double>(epoch) / options.epochs);
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    const double squared_error = trainer->run_epoch(order, options.batch_size, int64_t{epoch} * batches_per_epoch);
    training.loss_per_epoch.push_back(squared_error / (static_cast<double>(n_train) * dims));
  }
  training.model.parameters = trainer->parameters();
  return training;
}

}  // namespace

AutoencoderTraining train_autoencoder(const Context& ctx, const float* rows, int64_t n, int dims,
                                      const AutoencoderModel& initial, const AutoencoderOptions& options) {
  validate(options);
  check_initial(initial, dims, n);
  if (n == 0 || options.epochs == 0) return AutoencoderTraining{initial, {}, 0};
  SplitMix64 rng(options.seed);
  const std::vector<int64_t> chosen = training_sample(n, options, rng);
  if (chosen.empty()) return run_epochs(ctx, rows, n, initial, options, rng);
  std::vector<float> sample(chosen.size() * dims);
  for (size_t i = 0; i < chosen.size(); ++i) std::copy_n(rows + chosen[i] * dims, dims, sample.data() + i * dims);
  return run_epochs(ctx, sample.data(), static_cast<int64_t>(chosen.size()), initial, options, rng);
}

AutoencoderTraining train_autoencoder(const Context& ctx, int64_t n, int dims, const RowGather& gather,
                                      const AutoencoderModel& initial, const AutoencoderOptions& options) {
  validate(options);
  check_initial(initial, dims, n);
  if (n == 0 || options.epochs == 0) return AutoencoderTraining{initial, {}, 0};
  SplitMix64 rng(options.seed);
  std::vector<int64_t> chosen = training_sample(n, options, rng);
  if (chosen.empty()) {
    chosen.resize(static_cast<size_t>(n));
    std::iota(chosen.begin(), chosen.end(), 0);
  }
  const std::vector<float> sample = gather(chosen);
  return run_epochs(ctx, sample.data(), static_cast<int64_t>(chosen.size()), initial, options, rng);
}

std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const float* rows,
                                         int64_t n) {
  if (model.layers() < 1 || static_cast<int64_t>(model.parameters.size()) != model.parameter_count())
    throw ConfigError("autoencoder: malformed model");
  if (n <= 0) return {};
  return ctx.backend == Backend::Gpu ? cuda_impl::reconstruction_errors(ctx, model, rows, n)
                                     : cpu_impl::reconstruction_errors(ctx, model, rows, n);
}

std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model,
                                         const HostDeviceVector<float>& rows, int64_t n) {
  if (ctx.backend != Backend::Gpu || n <= 0) return reconstruction_errors(ctx, model, rows.host().data(), n);
  if (model.layers() < 1 || static_cast<int64_t>(model.parameters.size()) != model.parameter_count())
    throw ConfigError("autoencoder: malformed model");
  return cuda_impl::reconstruction_errors(ctx, model, rows.device_view(ctx), n);
}

std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const ScaledRows& rows) {
  std::vector<float> errors(static_cast<size_t>(rows.rows()));
  rows.for_each_block([&](int64_t first, int64_t count, const HostDeviceVector<float>& block) {
    const std::vector<float> part = reconstruction_errors(ctx, model, block, count);
    std::copy(part.begin(), part.end(), errors.begin() + first);
  });
  return errors;
}

std::vector<float> reconstruct_rows(const AutoencoderModel& model, const float* rows, int64_t n) {
  const int d = model.dims();
  std::vector<float> out(static_cast<size_t>(std::max<int64_t>(n, 0)) * d);
  std::vector<float> current, next;
  for (int64_t r = 0; r < n; ++r) {
    current.assign(rows + r * d, rows + (r + 1) * d);
    for (int l = 0; l < model.layers(); ++l) {
      const int in = model.widths[l], width = model.widths[l + 1];
      const float* w = model.parameters.data() + model.weight_offset(l);
      const float* b = model.parameters.data() + model.bias_offset(l);
      next.assign(static_cast<size_t>(width), 0.0f);
      for (int i = 0; i < in; ++i)
        for (int o = 0; o < width; ++o) next[o] += current[i] * w[int64_t{i} * width + o];
      const bool relu = l + 1 < model.layers();
      for (int o = 0; o < width; ++o) next[o] = autoencoder_rules::bias_activation(next[o], b[o], relu);
      current.swap(next);
    }
    std::copy(current.begin(), current.end(), out.begin() + r * d);
  }
  return out;
}

}  // namespace jm
