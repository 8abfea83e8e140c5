// Journey anomaly scores of a run in batches (batched_anomalies.hpp).
#include "host/pipeline/batched_anomalies.hpp"

#include <algorithm>

#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr int64_t kBlockRows = 65536;  // rows read back and standardised at a time

}  // namespace

std::vector<float> ScaledRowsFromFile::gather(const std::vector<int64_t>& indices) const {
  std::vector<float> out = file_.read_rows(indices);
  standardise_rows(scaling_, out);
  return out;
}

void ScaledRowsFromFile::for_each_block(const BlockVisitor& visit) const {
  std::vector<float> rows;
  for (int64_t first = 0; first < file_.rows(); first += kBlockRows) {
    const int64_t count = std::min(kBlockRows, file_.rows() - first);
    file_.read_scaled(first, count, scaling_, rows);
    const HostDeviceVector<float> block(std::move(rows));
    visit(first, count, block);
    rows = {};
  }
}

std::unique_ptr<FeatureColumnsFile> make_anomaly_inputs(const std::string& directory, const FeatureSpec& spec,
                                                        const JourneyAnomalyOptions& options) {
  return std::make_unique<FeatureColumnsFile>(directory, ".jm-anomaly-rows", spec, anomaly_columns(spec, options),
                                              "anomalies");
}

JourneyAnomalies anomalies_in_batches(const Context& ctx, const FeatureColumnsFile& inputs,
                                      const JourneyAnomalyOptions& options) {
  const FeatureScaling scaling = inputs.scaling();
  JourneyAnomalies result = score_journey_anomalies(ctx, ScaledRowsFromFile(inputs, scaling), scaling, options);
  fill_reason_values(result, scaling, [&](const std::vector<int64_t>& rows) { return inputs.read_rows(rows); });
  return result;
}

void fill_reason_values(JourneyAnomalies& result, const FeatureScaling& scaling,
                        const std::function<std::vector<float>(const std::vector<int64_t>&)>& raw_rows) {
  std::vector<int64_t> top;
  for (const AnomalousJourney& item : result.top) top.push_back(item.journey);
  std::sort(top.begin(), top.end());
  top.erase(std::unique(top.begin(), top.end()), top.end());
  const std::vector<float> raw = raw_rows(top);
  const auto dims = static_cast<size_t>(scaling.dims());
  for (AnomalousJourney& item : result.top) {
    const auto row = static_cast<size_t>(std::lower_bound(top.begin(), top.end(), item.journey) - top.begin());
    for (AnomalyReason& reason : item.reasons) {
      const auto column = std::find(scaling.columns.begin(), scaling.columns.end(), reason.feature) - scaling.columns.begin();
      reason.value = raw[row * dims + static_cast<size_t>(column)];
    }
  }
}

}  // namespace jm
