// The journey anomaly detectors over rows that need not all be in memory (internal header): the
// standardised columns as a ScaledRows (every row in memory for a run at once; blocks read back from
// a scratch file for a run in batches), training samples fetched by row index, scores block by
// block. Both kinds of run go through score_journey_anomalies, so they compute the same thing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/anomalies/isolation_forest_driver.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/host_device_vector.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

/// Rows at ascending indices, [indices.size() x dims].
using RowGather = std::function<std::vector<float>(const std::vector<int64_t>& indices)>;

/// The standardised anomaly columns of every journey.
class ScaledRows {
 public:
  using BlockVisitor = std::function<void(int64_t first, int64_t count, const HostDeviceVector<float>& block)>;
  virtual ~ScaledRows() = default;
  virtual int64_t rows() const = 0;
  virtual int dims() const = 0;
  /// Rows at ascending `indices`, [indices.size() x dims].
  virtual std::vector<float> gather(const std::vector<int64_t>& indices) const = 0;
  /// visit(first, count, block) for consecutive blocks in row order that cover every row.
  virtual void for_each_block(const BlockVisitor& visit) const = 0;
  /// The autoencoder's reconstruction error of every row: block by block over for_each_block (a
  /// ScaledRows whose rows live in other processes has them scored there).
  virtual std::vector<float> autoencoder_errors(const Context& ctx, const AutoencoderModel& model) const;
  /// The forest's score of every row, likewise.
  virtual std::vector<float> forest_scores(const Context& ctx, const anomalies_detail::FlatForest& forest) const;
};

/// Every row in one HostDeviceVector [n x dims] (on the GPU it stays on the device for every pass).
class ScaledRowsInMemory final : public ScaledRows {
 public:
  ScaledRowsInMemory(const HostDeviceVector<float>& values, int64_t n, int dims) : values_(values), n_(n), dims_(dims) {}
  int64_t rows() const override { return n_; }
  int dims() const override { return dims_; }
  std::vector<float> gather(const std::vector<int64_t>& indices) const override;
  void for_each_block(const BlockVisitor& visit) const override;

 private:
  const HostDeviceVector<float>& values_;
  int64_t n_;
  int dims_;
};

/// train_autoencoder over `n` rows fetched by `gather`: only the rows it trains on (all, or its
/// seeded sample of max_train_rows) are held. The same training as train_autoencoder on the rows.
AutoencoderTraining train_autoencoder(const Context& ctx, int64_t n, int dims, const RowGather& gather,
                                      const AutoencoderModel& initial, const AutoencoderOptions& options);

/// Reconstruction error of every row of `rows`, block by block.
std::vector<float> reconstruction_errors(const Context& ctx, const AutoencoderModel& model, const ScaledRows& rows);

/// The isolation forest isolation_forest_scores builds on `n` rows, from the few rows its trees
/// sample (fetched by `gather`).
anomalies_detail::FlatForest fit_isolation_forest(int64_t n, int dims, const IsolationForestOptions& options,
                                                  int num_threads, const RowGather& gather);

/// The forest's score of every row of `rows`, block by block.
std::vector<float> isolation_forest_scores(const Context& ctx, const anomalies_detail::FlatForest& forest,
                                           const ScaledRows& rows);

/// detect_journey_anomalies on standardised rows (scaled by `scaling`): scores, thresholds, flags,
/// the detectors' comparison and the top journeys with their reasons, except what needs the
/// journeys or the raw features: each reason's raw value, each top journey's path, customer and
/// length (describe_top_journeys and the caller fill them).
JourneyAnomalies score_journey_anomalies(const Context& ctx, const ScaledRows& rows, FeatureScaling scaling,
                                         const JourneyAnomalyOptions& options);

/// Fills path, customer and length of the top journeys that are in `journeys`, a set whose first
/// journey is journey `first_journey` of the result.
void describe_top_journeys(JourneyAnomalies& result, const JourneySet& journeys, int64_t first_journey, int path_events);

/// The anomaly columns of `options` under `spec` (the default columns when none are named).
std::vector<std::string> anomaly_columns(const FeatureSpec& spec, const JourneyAnomalyOptions& options);

}  // namespace jm
