// The flows stage as counts that add up: a FlowTally holds everything the flow views are made of
// (transitions, step and heatmap counts, Sankey links before rare nodes are folded, every distinct
// path variant, funnel reach and the funnel's step-to-step times) in a form where the tally of two
// sets of journeys is the sum of their tallies, and a set's tally can be taken away again.
// finish_flows turns a tally into the FlowResult that compute_flows gives for the same journeys:
// the folding of rare nodes, the ranking of variants and the medians are done on the sums.
//
// Why: `run --append` updates a stored tally with the journeys it adds and replaces instead of
// counting the history again, and a run split into batches sums one tally per batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/flow_rules.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultReader;
class ResultWriter;

constexpr int kMaxFlowSteps = 64;    ///< most Sankey / heatmap steps (FlowOptions::max_steps)
constexpr int kMaxFunnelSteps = 32;  ///< most funnel steps

/// Every distinct touch sequence with its journeys and conversions (CSR), ordered by (hash,
/// sequence): the order the counting groups them in, so no sort of all sequences is needed.
struct VariantTable {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> touchpoints;
  std::vector<uint64_t> hashes;  ///< variant_hash of each sequence (not stored: recomputed on reading)
  std::vector<int64_t> journeys, conversions;
  int64_t size() const { return static_cast<int64_t>(journeys.size()); }
};

/// One Sankey link before folding: step `step` at touchpoint `from`, then touchpoint `to` at the
/// next step, or a terminal (kNodeConverted, kNodeExit, kNodeContinues).
struct StepLink {
  int32_t step = 0, from = 0, to = 0;
  int64_t count = 0;
};

struct FunnelTally {
  std::vector<int32_t> steps;                         ///< [F] touchpoint ids
  std::vector<int64_t> reached, converted;            ///< [F]
  std::vector<int64_t> reached_by_channel;            ///< [C x F] by entry channel
  std::vector<std::vector<int64_t>> gaps_ms;          ///< [F] ascending: step k-1 to k of each journey reaching k
  /// Per journey of the counted set, the steps matched; kept only by a tally that counted its
  /// journeys itself (a sum has none), for the breakdown by segment.
  std::vector<uint8_t> journey_depth;
};

struct FlowTally {
  int32_t n_touchpoints = 0, n_channels = 0, max_steps = 0;
  int64_t n_journeys = 0, n_converted = 0;
  int64_t journeys_without_anchor = 0;  ///< journeys left out of the view (never reach the anchor)
  std::vector<TransitionCount> transitions;  ///< sorted by (from, to); states as in FlowResult
  std::vector<int64_t> step_visits, step_conversions;  ///< [S x T] journeys at touchpoint t at step i
  std::vector<int64_t> heat_visits, heat_exits;        ///< [S x T] as FlowResult
  std::vector<int64_t> channel_visits, channel_exits;  ///< [T x C] as FlowResult
  std::vector<StepLink> links;                         ///< sorted by (step, from, to)
  VariantTable variants;
  FunnelTally funnel;
};

/// compute_flows, also giving the tally of the same journeys when `tally` is not null (counted on
/// the host; on the CPU the result is finished from that tally).
FlowResult compute_flows_with_tally(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                                    const std::vector<int32_t>& journey_segment, int32_t n_segments, FlowTally* tally);

/// Every distinct path variant of `journeys`, in (hash, sequence) order.
VariantTable count_variant_table(const Context& ctx, const JourneySet& journeys);
/// The hash that orders a VariantTable.
uint64_t variant_hash(const int32_t* touchpoints, int64_t length);

/// The funnel tally of a view's matches: `depth` [n] steps matched, `step_time_ms` [n x F].
FunnelTally funnel_tally_of_matches(const JourneySet& view, const std::vector<int32_t>& funnel,
                                    std::vector<uint8_t> depth, const std::vector<int64_t>& step_time_ms);

/// Sets the tally's transitions, step, heatmap and channel counts from the pass-1 counters of
/// flow_rules (laid out by make_layout(shape)); transitions too many to count densely are counted
/// sparsely from `journeys`. Shared by the CPU tally and the GPU's counts.
void take_pass_one_counts(const Context& ctx, const JourneySet& journeys, const std::vector<int64_t>& counters,
                          const flow_rules::FlowShape& shape, FlowTally& tally);

/// ConfigError unless `journey_segment` is empty or holds one label in [0, n_segments) per journey.
void validate_segment_labels(const std::vector<int32_t>& journey_segment, int64_t n_journeys, int32_t n_segments);

/// The flows' checks of `options` (ranges, funnel size), shared by compute_flows and the tally.
void validate_flow_options(const FlowOptions& options);

/// The tally of `journeys` under `options` (anchor and repeats applied: flow_view). The funnel is
/// `funnel` when given (touchpoint ids), else resolved from `options` and the journeys' variants
/// as compute_flows does. Counted on the host, in parallel.
FlowTally tally_flows(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                      const std::vector<int32_t>* funnel = nullptr);

/// The Sankey links of a flow view's first `max_steps` steps before folding, sorted as in a tally.
std::vector<StepLink> count_step_links(const Context& ctx, const JourneySet& view, int32_t max_steps);

/// The funnel counts of the journeys of a flow view: what a tally holds for `funnel`.
FunnelTally tally_funnel(const Context& ctx, const JourneySet& view, const std::vector<int32_t>& funnel);
/// The funnel counts of the journeys the flows follow under `options` (their flow_view when they
/// follow one); `kept_rows`, when given, receives the journey of each counted row.
FunnelTally tally_followed_funnel(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                                  const std::vector<int32_t>& funnel, std::vector<int64_t>* kept_rows = nullptr);

/// total += sign x part (sign +1 or -1). The part may know more touchpoints or channels (names a
/// later batch brought, numbered after the total's); both must share max_steps and the funnel.
/// Throws Error when a count would fall below zero (the part was never in the total).
void add_flow_tally(FlowTally& total, const FlowTally& part, int64_t sign);

/// total += sign x part for the funnel counts alone (same steps, same channels).
void add_funnel_tally(FunnelTally& total, const FunnelTally& part, int64_t sign);

/// The funnel compute_flows derives from the variants (or names in `options`), for `vocabulary`.
std::vector<int32_t> resolve_funnel(const FlowOptions& options, const JourneySet& vocabulary, const VariantTable& variants);

/// The FlowResult of a tally. `journey_segment` (per journey of the tallied view) needs the tally's
/// journey_depth. Equal to compute_flows on the tallied journeys.
FlowResult finish_flows(const FlowTally& tally, const FlowOptions& options,
                        const std::vector<int32_t>& journey_segment = {}, int32_t n_segments = 0);

/// /flows/tally: the tally a later `run --append` continues from.
void write_flow_tally(ResultWriter& writer, const FlowTally& tally);
/// Reads /flows/tally, checking that its arrays agree with each other and with the journeys it must
/// stand for (vocabulary sizes, journey and event counts); Error naming the dataset otherwise.
FlowTally read_flow_tally(const ResultReader& reader, const std::string& file, int32_t n_touchpoints, int32_t n_channels,
                          int64_t n_journeys, int64_t n_events);

/// The flows of `merged` (the base's journeys with `removed` replaced by `added`) from the base's
/// tally: the tally of the replaced journeys taken away and that of the added ones put in. What a
/// sum cannot give (a derived funnel that moved, the funnel by segment) is counted again over the
/// merged journeys and named in `notes`. `tally` receives the merged tally.
FlowResult update_flows(const Context& ctx, const FlowTally& base, const JourneySet& removed, const JourneySet& added,
                        const JourneySet& merged, const FlowOptions& options, const std::vector<int32_t>& journey_segment,
                        int32_t n_segments, FlowTally* tally, std::vector<std::string>* notes);

}  // namespace jm
