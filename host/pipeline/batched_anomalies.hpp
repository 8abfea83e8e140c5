// Journey anomaly scores of a run in batches: the anomaly columns of every journey kept in a scratch
// file in the second pass (with the sums of their standardisation), then the detectors of a run at
// once (score_journey_anomalies) over rows read back a block at a time. The autoencoder trains on
// at most [anomalies] max_train_rows rows and each tree of the forest on its sample_size rows, as at
// once, so only those rows and a few numbers per journey (scores, flags) are held: the same result
// as a run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/anomalies/anomaly_parts.hpp"
#include "host/features/feature_columns_file.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/context.hpp"

namespace jm {

/// The rows of a FeatureColumnsFile standardised by `scaling`, read back in blocks.
class ScaledRowsFromFile final : public ScaledRows {
 public:
  ScaledRowsFromFile(const FeatureColumnsFile& file, const FeatureScaling& scaling) : file_(file), scaling_(scaling) {}
  int64_t rows() const override { return file_.rows(); }
  int dims() const override { return file_.dims(); }
  std::vector<float> gather(const std::vector<int64_t>& indices) const override;
  void for_each_block(const BlockVisitor& visit) const override;

 private:
  const FeatureColumnsFile& file_;
  const FeatureScaling& scaling_;
};

/// The scratch file of the anomaly columns of `options` under `spec`, in `directory`.
std::unique_ptr<FeatureColumnsFile> make_anomaly_inputs(const std::string& directory, const FeatureSpec& spec,
                                                        const JourneyAnomalyOptions& options);

/// detect_journey_anomalies over every row of `inputs`: all but the top journeys' paths, customers
/// and lengths (describe_top_journeys, batch by batch).
JourneyAnomalies anomalies_in_batches(const Context& ctx, const FeatureColumnsFile& inputs,
                                      const JourneyAnomalyOptions& options);

/// Each top journey's reasons' raw values, from its row of the anomaly columns: `raw_rows` returns
/// the raw rows at ascending journey indices, [indices.size() x scaling.dims()].
void fill_reason_values(JourneyAnomalies& result, const FeatureScaling& scaling,
                        const std::function<std::vector<float>(const std::vector<int64_t>&)>& raw_rows);

}  // namespace jm
