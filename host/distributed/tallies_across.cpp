#include "host/distributed/tallies_across.hpp"

#include <string>
#include <utility>
#include <vector>

#include "host/core/records.hpp"
#include "host/distributed/process_group.hpp"
#include "host/distributed/combine_across.hpp"

namespace jm {
namespace {

// A tally kept as plain data: the first process's that tallied anything, the later ones added with
// `add` (total += part) in rank order.
template <typename Tally, typename Save, typename Read, typename Tallied, typename Add>
void sum_records(ProcessGroup& group, Tally& tally, Save save, Read read, Tallied tallied, Add add) {
  bool first = true;
  for (const std::string& part : group.all_gather(save(tally))) {
    Tally other = read(part);
    if (!tallied(other)) continue;
    if (first) tally = std::move(other);
    else add(tally, other);
    first = false;
  }
}

void save_funnel(RecordWriter& out, const FunnelTally& funnel) {
  out.values(funnel.steps);
  out.values(funnel.reached);
  out.values(funnel.converted);
  out.values(funnel.reached_by_channel);
  out.value<uint64_t>(funnel.gaps_ms.size());
  for (const std::vector<int64_t>& gaps : funnel.gaps_ms) out.values(gaps);
}

FunnelTally read_funnel(RecordReader& in) {
  FunnelTally funnel;
  funnel.steps = in.values<int32_t>();
  funnel.reached = in.values<int64_t>();
  funnel.converted = in.values<int64_t>();
  funnel.reached_by_channel = in.values<int64_t>();
  const auto steps = in.value<uint64_t>();
  if (steps > funnel.reached.size()) throw Error("flows: a saved funnel has more gap lists than steps");
  funnel.gaps_ms.resize(static_cast<size_t>(steps));
  for (std::vector<int64_t>& gaps : funnel.gaps_ms) gaps = in.values<int64_t>();
  return funnel;
}

bool funnel_tallied(const FunnelTally& funnel) { return !funnel.steps.empty() || !funnel.reached.empty(); }

}  // namespace

namespace tallies_across_detail {

std::string save_flow_tally(const FlowTally& tally) {
  RecordWriter out;
  out.values(std::vector<int32_t>{tally.n_touchpoints, tally.n_channels, tally.max_steps});
  out.values(std::vector<int64_t>{tally.n_journeys, tally.n_converted, tally.journeys_without_anchor});
  out.values(tally.transitions);
  for (const std::vector<int64_t>* counts : {&tally.step_visits, &tally.step_conversions, &tally.heat_visits,
                                             &tally.heat_exits, &tally.channel_visits, &tally.channel_exits})
    out.values(*counts);
  out.values(tally.links);
  const VariantTable& variants = tally.variants;
  out.values(variants.offsets);
  out.values(variants.touchpoints);
  out.values(variants.hashes);
  out.values(variants.journeys);
  out.values(variants.conversions);
  save_funnel(out, tally.funnel);
  return out.take();
}

FlowTally read_flow_tally_records(const std::string& bytes) {
  RecordReader in(bytes);
  FlowTally tally;
  const std::vector<int32_t> sizes = in.values<int32_t>();
  const std::vector<int64_t> journeys = in.values<int64_t>();
  if (sizes.size() != 3 || journeys.size() != 3) throw Error("flows: a saved tally's header is malformed");
  tally.n_touchpoints = sizes[0];
  tally.n_channels = sizes[1];
  tally.max_steps = sizes[2];
  tally.n_journeys = journeys[0];
  tally.n_converted = journeys[1];
  tally.journeys_without_anchor = journeys[2];
  tally.transitions = in.values<TransitionCount>();
  for (std::vector<int64_t>* counts : {&tally.step_visits, &tally.step_conversions, &tally.heat_visits,
                                       &tally.heat_exits, &tally.channel_visits, &tally.channel_exits})
    *counts = in.values<int64_t>();
  tally.links = in.values<StepLink>();
  VariantTable& variants = tally.variants;
  variants.offsets = in.values<int64_t>();
  variants.touchpoints = in.values<int32_t>();
  variants.hashes = in.values<uint64_t>();
  variants.journeys = in.values<int64_t>();
  variants.conversions = in.values<int64_t>();
  tally.funnel = read_funnel(in);
  if (!in.done()) throw Error("flows: a saved tally has bytes left over");
  return tally;
}

std::string save_alert_tally(const AlertTally& tally) {
  RecordWriter out;
  out.values(std::vector<int64_t>{tally.bucket_seconds, tally.n_touchpoints, tally.first_bucket});
  out.values(tally.started);
  out.values(tally.ended);
  out.values(tally.converted);
  out.values(tally.lengths);
  out.values(tally.touchpoint_events);
  out.values(tally.cells);
  return out.take();
}

AlertTally read_alert_tally_records(const std::string& bytes) {
  RecordReader in(bytes);
  AlertTally tally;
  const std::vector<int64_t> header = in.values<int64_t>();
  if (header.size() != 3) throw Error("alerts: a saved tally's header is malformed");
  tally.bucket_seconds = header[0];
  tally.n_touchpoints = static_cast<int32_t>(header[1]);
  tally.first_bucket = header[2];
  tally.started = in.values<int64_t>();
  tally.ended = in.values<int64_t>();
  tally.converted = in.values<int64_t>();
  tally.lengths = in.values<LengthCount>();
  tally.touchpoint_events = in.values<int64_t>();
  tally.cells = in.values<TouchpointBucket>();
  if (!in.done()) throw Error("alerts: a saved tally has bytes left over");
  return tally;
}

}  // namespace tallies_across_detail

void sum_over_processes(ProcessGroup& group, JourneySummaryTally& tally) {
  if (group.size() > 1) sum_saved(group, tally, JourneySummaryTally{});
}

void sum_over_processes(ProcessGroup& group, ProposalTally& tally) {
  if (group.size() > 1) sum_saved(group, tally, ProposalTally{});
}

void sum_over_processes(ProcessGroup& group, AttributionTally& tally, AttributionTally empty) {
  if (group.size() > 1) sum_saved(group, tally, std::move(empty));
}

void sum_over_processes(ProcessGroup& group, FeatureSpecTally& tally, const FeatureOptions& options) {
  if (group.size() > 1) sum_saved(group, tally, FeatureSpecTally(options));
}

void sum_over_processes(ProcessGroup& group, FeatureColumnStats& stats) {
  if (group.size() > 1) sum_saved(group, stats, FeatureColumnStats{});
}

void sum_over_processes(ProcessGroup& group, ScalingTally& tally) {
  if (group.size() > 1) sum_saved(group, tally, tally.without_rows());
}

void sum_over_processes(ProcessGroup& group, JourneyBuildStats& stats) {
  std::vector<int64_t> counts = {stats.input_events, stats.duplicates_dropped, stats.events_truncated};
  group.sum(counts);
  stats.input_events = counts[0];
  stats.duplicates_dropped = counts[1];
  stats.events_truncated = counts[2];
}

void sum_over_processes(ProcessGroup& group, FlowTally& tally) {
  if (group.size() == 1) return;
  sum_records(
      group, tally, tallies_across_detail::save_flow_tally, tallies_across_detail::read_flow_tally_records,
      [](const FlowTally& part) { return part.n_touchpoints > 0 || part.n_journeys > 0; },
      [](FlowTally& total, const FlowTally& part) { add_flow_tally(total, part, +1); });
  tally.funnel.journey_depth.clear();  // per journey of one process: a sum has none
}

void sum_over_processes(ProcessGroup& group, FunnelTally& tally) {
  if (group.size() == 1) return;
  sum_records(
      group, tally,
      [](const FunnelTally& funnel) {
        RecordWriter out;
        save_funnel(out, funnel);
        return out.take();
      },
      [](const std::string& bytes) {
        RecordReader in(bytes);
        FunnelTally funnel = read_funnel(in);
        if (!in.done()) throw Error("flows: a saved funnel has bytes left over");
        return funnel;
      },
      funnel_tallied, [](FunnelTally& total, const FunnelTally& part) { add_funnel_tally(total, part, +1); });
  tally.journey_depth.clear();
}

void sum_over_processes(ProcessGroup& group, AlertTally& tally) {
  if (group.size() == 1) return;
  sum_records(
      group, tally, tallies_across_detail::save_alert_tally, tallies_across_detail::read_alert_tally_records,
      [](const AlertTally& part) { return part.bucket_seconds > 0; },
      [](AlertTally& total, const AlertTally& part) { add_alert_tally(total, part, +1); });
}

}  // namespace jm
