// Flows and funnels: how journeys move between touchpoints, where they convert and where they drop.
//
//   jm::FlowOptions options;  options.funnel = {"product_view", "add_to_cart", "checkout", "purchase"};
//   jm::FlowResult flows = jm::compute_flows(ctx, journeys, options);
//   jm::write_flows_results(writer, flows, journeys);   // the /flows group (docs/flows.md)
//   std::cout << jm::format_flows_summary(flows, journeys);
//
// The counting passes (transitions, step flows, heatmaps, funnel matching) run on the backend of
// `ctx` and give identical counts on both. Path variants and the final assembly (folding rare
// nodes, medians, rates) are host code shared by both backends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultWriter;

struct FlowOptions {
  /// Steps shown in the Sankey and the step heatmap (the heatmap's last column collects later steps).
  int max_steps = 6;
  /// A (step, touchpoint) node with fewer than this share of the journeys at that step is folded
  /// into "other" in the Sankey. 0 keeps every node.
  double other_threshold = 0.02;
  /// Path variants kept: the top N by journeys, the top N by conversions and the top N by
  /// abandonments (their union is stored).
  int top_variants = 20;
  /// Ordered funnel of touchpoint names (gaps allowed between steps). Empty: derived from the data
  /// as the distinct touchpoints, in order, of the path variant with most conversions. Journeys hold
  /// no outcome events (outcome.hpp), so a funnel ends at the last touch before the outcome.
  std::vector<std::string> funnel;
  /// When set, every journey is followed from its first event at this touchpoint (the Sankey's
  /// first step); journeys that never reach it are left out of the flows.
  std::string anchor;
  /// With `anchor_at_end`, the flows look back from the anchor instead: each journey up to its first
  /// event at the anchor, reversed (step 1 is the anchor, step 2 the event before it, ...), so the
  /// Sankey shows where journeys came from; a terminal after the last step is where the journey
  /// began, converted or not by its outcome.
  bool anchor_at_end = false;
  /// A run of consecutive events at one touchpoint counts as one step (page reloads, repeated opens).
  bool collapse_repeats = false;
};

/// The journeys the flows follow under `options`: from the anchor on, with repeated steps
/// collapsed. `kept_rows` receives the input row of every journey kept.
JourneySet flow_view(const JourneySet& journeys, const FlowOptions& options, std::vector<int64_t>* kept_rows);
/// True when `options` make the flows follow a view of the journeys (an anchor, collapsed repeats)
/// rather than the journeys themselves.
bool follows_a_view(const FlowOptions& options);

/// One distinct complete journey (its sequence of touches) with exact counts.
struct PathVariant {
  std::vector<int32_t> touchpoints;
  int64_t journeys = 0;
  int64_t conversions = 0;
};

/// A node of the step-indexed Sankey: a touchpoint (or "other") at a step, or a terminal.
struct SankeyNode {
  int32_t step = 0;        ///< 0-based step; terminals sit at the step after their source
  int32_t touchpoint = 0;  ///< touchpoint id, or one of the kNode* codes below
  int64_t journeys = 0;    ///< journeys passing through the node
  int64_t conversions = 0; ///< of those, converted journeys
};
constexpr int32_t kNodeOther = -1;      ///< rare touchpoints folded together
constexpr int32_t kNodeConverted = -2;  ///< the journey converted after the previous step
constexpr int32_t kNodeExit = -3;       ///< the journey ended without converting
constexpr int32_t kNodeContinues = -4;  ///< the journey goes on beyond the last step shown

struct SankeyLink {
  int32_t source = 0;  ///< index into FlowResult::nodes
  int32_t target = 0;
  int64_t journeys = 0;
};

struct FunnelResult {
  std::vector<int32_t> steps;    ///< [F] touchpoint ids
  std::vector<int64_t> reached;  ///< [F] journeys reaching step k in order (gaps allowed)
  std::vector<int64_t> converted;             ///< [F] of those, converted journeys
  std::vector<double> median_seconds_from_previous;  ///< [F] median time from step k-1 to k (NaN for k = 0 or none)
  std::vector<int64_t> reached_by_channel;    ///< [C x F] by the journey's entry channel (first event)
  std::vector<int64_t> reached_by_segment;    ///< [n_segments x F]; empty when no segments were given
  int32_t n_segments = 0;
};

struct TransitionCount {
  int32_t from = 0;
  int32_t to = 0;
  int64_t count = 0;
  bool operator==(const TransitionCount& other) const {
    return from == other.from && to == other.to && count == other.count;
  }
};

struct FlowResult {
  int32_t n_touchpoints = 0, n_channels = 0, max_steps = 0;
  int64_t n_journeys = 0, n_converted = 0;
  double other_threshold = 0.0;
  std::string backend;  ///< "cpu" or "gpu": which backend did the counting
  std::string anchor;                  ///< FlowOptions::anchor ("" = none)
  bool anchor_at_end = false;          ///< FlowOptions::anchor_at_end
  bool collapse_repeats = false;       ///< FlowOptions::collapse_repeats
  int64_t journeys_without_anchor = 0; ///< left out because they never reach the anchor

  /// First-order transition counts, the non-zero ones, sorted by (from, to); states: touchpoints,
  /// start (T), conversion (T+1), exit (T+2).
  std::vector<TransitionCount> transitions;

  std::vector<SankeyNode> nodes;  ///< step-ordered Sankey nodes (with terminals)
  std::vector<SankeyLink> links;

  std::vector<PathVariant> variants;  ///< union of the top variants, most journeys first
  int64_t n_distinct_variants = 0;

  FunnelResult funnel;

  std::vector<int64_t> heat_visits;  ///< [S x T] events by (step, touchpoint); step S-1 collects later steps
  std::vector<int64_t> heat_exits;   ///< [S x T] abandoning journeys whose last event is there
  std::vector<int64_t> channel_visits;  ///< [T x C] events by (touchpoint, channel)
  std::vector<int64_t> channel_exits;   ///< [T x C]

  int32_t n_states() const { return n_touchpoints + 3; }
  /// Journeys making the transition from -> to (0 when none).
  int64_t transition(int32_t from, int32_t to) const;
};

/// Computes every flow view. `journey_segment` (optional, [n_journeys], values 0..n_segments-1)
/// adds the funnel breakdown by segment. Throws ConfigError on bad options (unknown funnel
/// touchpoint, non-positive max_steps, ...) and GpuUnavailableError when the GPU is unusable.
FlowResult compute_flows(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                         const std::vector<int32_t>& journey_segment = {}, int32_t n_segments = 0);

/// The exact path variants of the journeys (every distinct touchpoint sequence), most frequent
/// first, ties broken by the sequence itself. Host code, shared by both backends.
std::vector<PathVariant> count_path_variants(const Context& ctx, const JourneySet& journeys);

/// Writes the /flows group (see docs/flows.md). Names come from the journeys' vocabularies.
void write_flows_results(ResultWriter& writer, const FlowResult& flows, const JourneySet& journeys);

/// Readable block for the run summary: transitions, best converting paths, funnel, worst drop-offs.
std::string format_flows_summary(const FlowResult& flows, const JourneySet& journeys);

/// Raw counters of the two counting passes, identical on both backends.
struct FlowCounts {
  std::vector<int64_t> counters;     ///< pass 1, laid out by flow_rules::make_layout
  std::vector<int32_t> label_of;     ///< [S x T] Sankey node label of (step, touchpoint) after folding
  std::vector<int32_t> label_touchpoint;  ///< [L] touchpoint of each label; the last, -1, is "other"
  std::vector<int64_t> links;        ///< pass 2, [S x L x (L+3)]
  std::vector<uint8_t> funnel_depth; ///< [n_journeys] funnel steps matched
  std::vector<int64_t> funnel_time_ms;  ///< [n_journeys x F] time of matched step k (valid for k < depth)
};

/// Sankey labels after folding rare nodes (see fold_rare_nodes).
struct FoldedNodes {
  std::vector<int32_t> label_of;          ///< [S x T] label of (step, touchpoint)
  std::vector<int32_t> label_touchpoint;  ///< [L] touchpoint of each label, ascending; last: -1 ("other")
};

/// Most Sankey nodes a step keeps besides "other".
constexpr int32_t kMaxSankeyNodesPerStep = 40;

/// Folds rare Sankey nodes: (step i, touchpoint t) keeps its own label when step_visits[i][t] >=
/// threshold x journeys at step i (and > 0), and it is among the kMaxSankeyNodesPerStep most visited
/// of that step (ties: lower id); else it becomes "other". Labels are numbered densely over the
/// touchpoints kept at any step, so pass 2 has at most L x (L+3) counters per step, L <= S x 40 + 1,
/// however large T is. Shared by both backends between their two passes.
FoldedNodes fold_rare_nodes(const std::vector<int64_t>& step_visits, int32_t max_steps, int32_t n_touchpoints,
                            double other_threshold);

/// Transition counts (sparse, sorted by (from, to)) counted on the host: how both backends get
/// them when the matrix is too large for pass 1 (FlowShape::dense_transitions is false).
std::vector<TransitionCount> count_sparse_transitions(const Context& ctx, const JourneySet& journeys);

namespace cpu_impl {
FlowCounts count_flows(const Context& ctx, const JourneySet& journeys, int32_t max_steps, double other_threshold,
                       const std::vector<int32_t>& funnel);
}  // namespace cpu_impl

namespace cuda_impl {
/// GPU twin: reads the journeys' device columns (uploading each at most once), runs both passes
/// with block-privatised counters.
FlowCounts count_flows(const Context& ctx, const JourneySet& journeys, int32_t max_steps, double other_threshold,
                       const std::vector<int32_t>& funnel);
}  // namespace cuda_impl

}  // namespace jm
