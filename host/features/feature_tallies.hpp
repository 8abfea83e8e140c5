// The parts of the features that depend on every journey, added up over batches of journeys in
// journey order, so a run in batches fits the same spec and writes the same /features statistics
// as a run over all journeys at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/core/records.hpp"
#include "journeymap/features.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

/// fit_feature_spec over batches: the latest event time and the events per touchpoint and channel
/// inside the feature windows add up.
class FeatureSpecTally {
 public:
  explicit FeatureSpecTally(const FeatureOptions& options);  ///< ConfigError on invalid options
  void add(const JourneySet& journeys);
  /// The spec, naming columns from `vocabulary`'s touchpoints and channels and fitting its case
  /// attributes, custom dimensions and covariates (a batched run has only covariates).
  FeatureSpec finish(const JourneySet& vocabulary) const;
  /// The tally as records, and another's records added as if its journeys came after these (a run
  /// across processes).
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);

 private:
  FeatureOptions options_;
  int64_t journeys_ = 0;
  int64_t last_event_ = 0;
  std::vector<int64_t> touchpoint_events_, channel_events_;
};

/// Mean, standard deviation, minimum and maximum of every feature column over the values present,
/// each column summed row by row in journey order.
class FeatureColumnStats {
 public:
  void add(const FeatureMatrix& features);
  /// /features without the matrix: names, kinds, the statistics, the top names and the attributes.
  void write(ResultWriter& writer, const FeatureSpec& spec) const;
  int64_t rows() const { return rows_; }
  /// Sum of column c over the rows where it is present.
  double sum(int64_t c) const { return sum_[static_cast<size_t>(c)]; }
  /// As FeatureSpecTally's.
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);

 private:
  void start_columns(size_t columns);  ///< sizes the statistics for the first rows added

  int64_t rows_ = 0;
  std::vector<double> sum_, sum_sq_, minimum_, maximum_;
  std::vector<int64_t> present_;
};

/// The features block of the run summary, from the column statistics.
std::string format_features_summary(const FeatureSpec& spec, const FeatureColumnStats& stats);

/// fit_scaling over batches: every column's sums of f(x) and f(x)^2, added row by row in journey order.
class ScalingTally {
 public:
  /// `columns` of `spec` to standardise (empty: every numeric one); ConfigError for unknown or
  /// categorical ones.
  ScalingTally(const FeatureSpec& spec, const std::vector<std::string>& columns);
  /// Where each scaled column is in a row of the feature matrix.
  const std::vector<int>& matrix_columns() const { return matrix_columns_; }
  /// The next `n` rows of `stride` values; scaled column i is at row[columns[i]].
  void add(const float* values, int64_t n, int64_t stride, const std::vector<int>& columns);
  FeatureScaling finish() const;
  /// As FeatureSpecTally's; without_rows(): the same columns with nothing added yet.
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);
  ScalingTally without_rows() const;

 private:
  FeatureScaling scaling_;  ///< columns and transforms
  std::vector<int> matrix_columns_;
  std::vector<double> sum_, sum_sq_;
  int64_t rows_ = 0;
};

}  // namespace jm
