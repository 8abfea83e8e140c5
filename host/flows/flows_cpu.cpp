// CPU twin of the flow counting passes. Journeys are split into fixed blocks; each block counts
// into its own counter array (flow_rules with plain increments) and the arrays are summed. Counts
// are integers, so the result does not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "host/flows/block_counts.hpp"
#include "journeymap/flow_rules.hpp"
#include "journeymap/flows.hpp"

namespace jm::cpu_impl {
namespace {

using flow_blocks::PlainIncrement;

}  // namespace

FlowCounts count_flows(const Context& ctx, const JourneySet& journeys, int32_t max_steps, double other_threshold,
                       const std::vector<int32_t>& funnel) {
  flow_rules::FlowShape shape = flow_rules::make_shape(journeys.touchpoints.size(), journeys.channels.size(), max_steps,
                                                       static_cast<int32_t>(funnel.size()));
  const flow_rules::FlowCounterLayout layout = flow_rules::make_layout(shape);
  const int64_t n_journeys = journeys.size();
  const int64_t* offsets = journeys.offsets.data();
  const int32_t* touchpoint = journeys.touchpoint.data();
  const int32_t* channel = journeys.channel.data();
  const uint8_t* converted = journeys.converted.data();

  FlowCounts result;
  result.counters = flow_blocks::count_dense(ctx, n_journeys, layout.total, [&](int64_t* counters, int64_t j) {
    flow_rules::count_journey(touchpoint + offsets[j], channel + offsets[j], offsets[j + 1] - offsets[j],
                              converted[j] != 0, shape, layout, counters, PlainIncrement{});
  });

  const std::vector<int64_t> step_visits(result.counters.begin() + layout.step_visits,
                                         result.counters.begin() + layout.step_conversions);
  FoldedNodes folded = fold_rare_nodes(step_visits, max_steps, shape.n_touchpoints, other_threshold);
  result.label_of = std::move(folded.label_of);
  result.label_touchpoint = std::move(folded.label_touchpoint);
  shape.n_link_labels = static_cast<int32_t>(result.label_touchpoint.size());
  const int32_t* label_of = result.label_of.data();
  result.links = flow_blocks::count_dense(ctx, n_journeys, flow_rules::n_link_counters(shape), [&](int64_t* links, int64_t j) {
    flow_rules::count_journey_links(touchpoint + offsets[j], offsets[j + 1] - offsets[j], converted[j] != 0,
                                    shape, label_of, links, PlainIncrement{});
  });

  flow_blocks::match_funnels(ctx, journeys, funnel, result.funnel_depth, result.funnel_time_ms);
  return result;
}

}  // namespace jm::cpu_impl
