// Some feature columns of every journey, in journey order, in a scratch file, with the sums that fit
// their standardisation: what the k-means passes and the anomaly detectors of a run in batches read
// back, a block of rows at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/core/spool_file.hpp"
#include "host/features/feature_tallies.hpp"
#include "journeymap/features.hpp"

namespace jm {

class FeatureColumnsFile {
 public:
  /// `columns` of `spec` (ConfigError for unknown or categorical ones; `what` names the stage in
  /// the error when there are none); the scratch file goes to `directory`, named with `suffix`.
  FeatureColumnsFile(const std::string& directory, const std::string& suffix, const FeatureSpec& spec,
                     const std::vector<std::string>& columns, const std::string& what);
  /// The next journeys' features.
  void add(const FeatureMatrix& batch);

  int64_t rows() const { return rows_; }
  int dims() const { return static_cast<int>(columns_.size()); }
  /// Where each kept column is in a feature matrix row.
  const std::vector<int>& matrix_columns() const { return columns_; }
  /// The standardisation fitted on every row added (fit_scaling over the same rows).
  FeatureScaling scaling() const { return scaling_.finish(); }
  /// What scaling() is fitted from: summed over the processes of a run before scaling() is read.
  ScalingTally& scaling_tally() { return scaling_; }
  /// Rows [first, first + count), raw, [count x dims].
  void read(int64_t first, int64_t count, float* out) const;
  /// The raw rows at ascending `indices`, [indices.size() x dims] (runs of consecutive rows in one
  /// read each).
  std::vector<float> read_rows(const std::vector<int64_t>& indices) const;
  /// The same rows standardised by `scaling` (feature_rules::standardise, as apply_scaling does).
  void read_scaled(int64_t first, int64_t count, const FeatureScaling& scaling, std::vector<float>& out) const;

 private:
  std::unique_ptr<SpoolFile> file_;
  std::vector<int> columns_;
  ScalingTally scaling_;
  int64_t rows_ = 0;
};

/// Standardises rows [n x scaling.dims()] in place (feature_rules::standardise).
void standardise_rows(const FeatureScaling& scaling, std::vector<float>& rows);

}  // namespace jm
