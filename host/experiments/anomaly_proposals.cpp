// Proposed experiments from anomaly clusters: flagged journeys grouped by the feature that carries
// most of their reconstruction error and its direction (far above or below what the autoencoder
// expects), where such a group converts worse than ordinary journeys.
#include <map>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "journeymap/anomalies.hpp"
#include "journeymap/proposals.hpp"

namespace jm {

void add_anomaly_cluster_proposals(ProposalResult& result, const std::vector<uint8_t>& converted,
                                   const JourneyAnomalies& anomalies, const ProposalOptions& options) {
  validate(options);
  const auto n = static_cast<int64_t>(converted.size());
  if (static_cast<int64_t>(anomalies.flagged_feature.size()) != n || n == 0) return;
  struct Counts {
    int64_t journeys = 0, converted = 0;
  };
  std::map<std::pair<int32_t, int8_t>, Counts> clusters;  // (feature, direction) -> counts; ordered, so ties are stable
  Counts ordinary;
  for (int64_t j = 0; j < n; ++j) {
    const int32_t feature = anomalies.flagged_feature[static_cast<size_t>(j)];
    Counts& counts = feature >= 0 ? clusters[{feature, anomalies.flagged_direction[static_cast<size_t>(j)]}] : ordinary;
    ++counts.journeys;
    counts.converted += converted[static_cast<size_t>(j)] != 0;
  }
  if (ordinary.journeys == 0) return;
  const double ordinary_lost = 1.0 - static_cast<double>(ordinary.converted) / static_cast<double>(ordinary.journeys);
  const double mde = options.minimum_detectable_effect;
  for (const auto& [key, counts] : clusters) {
    if (counts.journeys < options.min_journeys) continue;
    const double lost = 1.0 - static_cast<double>(counts.converted) / static_cast<double>(counts.journeys);
    if (lost <= ordinary_lost) continue;  // not friction: the cluster converts at least as well
    Proposal p;
    p.kind = "anomaly cluster";
    p.from = anomalies.scaling.columns[static_cast<size_t>(key.first)];
    p.to = key.second > 0 ? "above" : "below";
    p.baseline_rate = lost;
    p.target_rate = lost * (1.0 - mde);
    const double per_day = static_cast<double>(counts.journeys) / result.data_days;
    // A journey no longer lost is a conversion: the outcome is what the rate counts.
    p.extra_conversions_per_day = per_day * (p.baseline_rate - p.target_rate);
    size_proposal_test(p, per_day, options);
    p.hypothesis = fmt::format(
        "Find and fix what drives the {} anomalous journeys whose {} is far {} normal: {:.1f}% of them do not convert "
        "against {:.1f}% of ordinary journeys; {:.1f}% would add about {:.1f} conversions a day",
        counts.journeys, p.from, p.to == "above" ? "above" : "below", 100.0 * lost, 100.0 * ordinary_lost,
        100.0 * p.target_rate, p.extra_conversions_per_day);
    result.proposals.push_back(std::move(p));
  }
  rank_proposals(result.proposals, options);
}

}  // namespace jm
