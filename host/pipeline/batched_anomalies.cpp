// Journey anomaly scores of a run in batches (batched_anomalies.hpp).
#include "host/pipeline/batched_anomalies.hpp"

#include <algorithm>

#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr int64_t kBlockRows = 65536;  // rows read back and standardised at a time

}  // namespace

std::vector<float> ScaledRowsFromFile::gather(const std::vector<int64_t>& indices) const {
  const auto dims = static_cast<size_t>(file_.dims());
  std::vector<float> out(indices.size() * dims);
  // Runs of consecutive rows in one read each.
  for (size_t begin = 0; begin < indices.size();) {
    size_t end = begin + 1;
    while (end < indices.size() && indices[end] == indices[end - 1] + 1) ++end;
    file_.read(indices[begin], static_cast<int64_t>(end - begin), out.data() + begin * dims);
    begin = end;
  }
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
  // Each reason's raw value, read back from the top journeys' rows.
  std::vector<float> raw(static_cast<size_t>(inputs.dims()));
  for (AnomalousJourney& item : result.top) {
    inputs.read(item.journey, 1, raw.data());
    for (AnomalyReason& reason : item.reasons) {
      const auto column = std::find(scaling.columns.begin(), scaling.columns.end(), reason.feature) - scaling.columns.begin();
      reason.value = raw[static_cast<size_t>(column)];
    }
  }
  return result;
}

}  // namespace jm
