// CPU twin of feature extraction: the shared per-journey formulas (feature_rules.hpp) in a
// parallel loop over fixed-size chunks of journeys.
#include <algorithm>

#include "host/core/thread_pool.hpp"
#include "host/features/feature_tables.hpp"
#include "journeymap/features.hpp"

namespace jm::cpu_impl {

FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureSpec& spec) {
  feature_detail::FeatureTables tables = feature_detail::make_tables(journeys, spec, ctx.num_threads);
  feature_rules::FeatureLayout layout = tables.layout;
  layout.touchpoint_slot = tables.touchpoint_slot.data();
  layout.channel_slot = tables.channel_slot.data();
  layout.touchpoint_hash = tables.touchpoint_hash.data();
  layout.next_same_touchpoint = tables.next_same_touchpoint.data();
  layout.next_same_channel = tables.next_same_channel.data();
  layout.first_occurrence = tables.first_occurrence.data();

  FeatureMatrix out;
  out.spec = spec;
  out.n_rows = journeys.size();
  const int64_t f = out.num_features();
  std::vector<float>& values = out.values.host_mut();
  values.assign(static_cast<size_t>(out.n_rows * f), 0.0f);

  constexpr int64_t kJourneysPerTask = 4096;
  const int64_t n_tasks = (out.n_rows + kJourneysPerTask - 1) / kJourneysPerTask;
  parallel_for(n_tasks, ctx.num_threads, [&](int64_t task) {
    const int64_t first = task * kJourneysPerTask, last = std::min(out.n_rows, first + kJourneysPerTask);
    for (int64_t j = first; j < last; ++j) {
      const int64_t begin = journeys.offsets[j];
      const int64_t end = feature_rules::feature_window_end(journeys.timestamp_ms.data(), begin,
                                                            journeys.offsets[j + 1], layout);
      feature_rules::journey_features(journeys.touchpoint.data(), journeys.channel.data(), journeys.timestamp_ms.data(),
                                      begin, end, tables.customer_journey_number[j], layout, values.data() + j * f);
    }
  });
  return out;
}

}  // namespace jm::cpu_impl
