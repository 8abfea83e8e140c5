// The per-journey counting rules of the flows stage, written once for both backends.
// The CPU twin calls them in a loop over journeys with plain increments; the GPU kernels call them
// once per thread with atomic increments. Both therefore count exactly the same things.
//
// All counters live in ONE flat int64 array whose sub-arrays are placed by FlowCounterLayout, so a
// kernel can privatise the whole set in shared memory and flush it with one loop.
#pragma once

#include <cstdint>

#include "journeymap/common.hpp"

namespace jm {
namespace flow_rules {

/// Sizes that shape the counters: T touchpoints, C channels, S Sankey/heatmap steps, F funnel steps.
struct FlowShape {
  int32_t n_touchpoints = 0;
  int32_t n_channels = 0;
  int32_t max_steps = 0;
  int32_t n_funnel = 0;
  /// Pass 1 counts the (T+3) x (T+3) transition matrix only while it is small; with thousands of
  /// touchpoints (page URLs, product ids) it would take gigabytes per counter copy, so the
  /// transitions are then counted sparsely on the host (count_sparse_transitions).
  bool dense_transitions = true;
  /// Sankey node labels of pass 2: the touchpoints kept at some step, then "other" (the last
  /// label). 0 means every touchpoint plus "other" (T + 1), before folding has run.
  int32_t n_link_labels = 0;
};

/// Largest transition matrix (states per side) counted densely in pass 1: 1024^2 int64 = 8 MiB.
constexpr int32_t kMaxDenseTransitionStates = 1024;

/// The shape both backends count with.
inline FlowShape make_shape(int32_t n_touchpoints, int32_t n_channels, int32_t max_steps, int32_t n_funnel) {
  FlowShape s;
  s.n_touchpoints = n_touchpoints;
  s.n_channels = n_channels;
  s.max_steps = max_steps;
  s.n_funnel = n_funnel;
  s.dense_transitions = n_touchpoints + 3 <= kMaxDenseTransitionStates;
  return s;
}

// States of the transition matrix: touchpoints 0..T-1, then start, conversion, exit.
JM_HD inline int32_t start_state(const FlowShape& s) { return s.n_touchpoints; }
JM_HD inline int32_t conversion_state(const FlowShape& s) { return s.n_touchpoints + 1; }
JM_HD inline int32_t exit_state(const FlowShape& s) { return s.n_touchpoints + 2; }
JM_HD inline int32_t n_states(const FlowShape& s) { return s.n_touchpoints + 3; }

// Sankey node labels at one step: the kept touchpoints and "other" (the last label, folded rare
// touchpoints); see FlowShape::n_link_labels.
JM_HD inline int32_t n_labels(const FlowShape& s) { return s.n_link_labels > 0 ? s.n_link_labels : s.n_touchpoints + 1; }
JM_HD inline int32_t other_label(const FlowShape& s) { return n_labels(s) - 1; }
// Sankey link targets from step i: a label at step i+1, or the journey converts, exits, or goes on
// beyond the last step shown.
JM_HD inline int32_t converts_target(const FlowShape& s) { return n_labels(s); }
JM_HD inline int32_t exits_target(const FlowShape& s) { return n_labels(s) + 1; }
JM_HD inline int32_t continues_target(const FlowShape& s) { return n_labels(s) + 2; }
JM_HD inline int32_t n_link_targets(const FlowShape& s) { return n_labels(s) + 3; }

/// Where each counter array starts inside the flat counter buffer, and its size.
struct FlowCounterLayout {
  int64_t transitions = 0;       ///< [n_states x n_states] (from, to); empty unless dense_transitions
  int64_t step_visits = 0;       ///< [S x T] journeys whose event i (i < S) is touchpoint t
  int64_t step_conversions = 0;  ///< [S x T] the same, counting converted journeys only
  int64_t heat_visits = 0;       ///< [S x T] events by (min(i, S-1), touchpoint)
  int64_t heat_exits = 0;        ///< [S x T] non-converted journeys whose last event is there
  int64_t channel_visits = 0;    ///< [T x C] events by (touchpoint, channel)
  int64_t channel_exits = 0;     ///< [T x C] non-converted journeys whose last event is there
  int64_t total = 0;             ///< counters in pass 1
};

JM_HD inline FlowCounterLayout make_layout(const FlowShape& s) {
  FlowCounterLayout l;
  const int64_t st = int64_t{s.max_steps} * s.n_touchpoints;
  const int64_t tc = int64_t{s.n_touchpoints} * s.n_channels;
  l.transitions = 0;
  l.step_visits = l.transitions + (s.dense_transitions ? int64_t{n_states(s)} * n_states(s) : 0);
  l.step_conversions = l.step_visits + st;
  l.heat_visits = l.step_conversions + st;
  l.heat_exits = l.heat_visits + st;
  l.channel_visits = l.heat_exits + st;
  l.channel_exits = l.channel_visits + tc;
  l.total = l.channel_exits + tc;
  return l;
}

/// Size of the Sankey link counters (pass 2): [S x n_labels x n_link_targets].
JM_HD inline int64_t n_link_counters(const FlowShape& s) {
  return int64_t{s.max_steps} * n_labels(s) * n_link_targets(s);
}

/// Pass 1 for one journey of `length` events: transitions, step visits, heatmap and channel
/// counters. `increment(counters, index)` adds one to counters[index] (plain or atomic).
template <typename Counter, typename Increment>
JM_HD inline void count_journey(const int32_t* touchpoint, const int32_t* channel, int64_t length, bool converted,
                                const FlowShape& s, const FlowCounterLayout& l, Counter* counters,
                                Increment increment) {
  const int64_t states = n_states(s);
  int32_t previous = start_state(s);
  for (int64_t i = 0; i < length; ++i) {
    const int32_t t = touchpoint[i];
    if (s.dense_transitions) increment(counters, l.transitions + previous * states + t);
    previous = t;
    const int64_t step = i < s.max_steps ? i : s.max_steps - 1;
    increment(counters, l.heat_visits + step * s.n_touchpoints + t);
    increment(counters, l.channel_visits + int64_t{t} * s.n_channels + channel[i]);
    if (i < s.max_steps) {
      increment(counters, l.step_visits + i * s.n_touchpoints + t);
      if (converted) increment(counters, l.step_conversions + i * s.n_touchpoints + t);
    }
  }
  if (s.dense_transitions)
    increment(counters, l.transitions + previous * states + (converted ? conversion_state(s) : exit_state(s)));
  if (!converted && length > 0) {
    const int64_t last = length - 1;
    const int32_t t = touchpoint[last];
    const int64_t step = last < s.max_steps ? last : s.max_steps - 1;
    increment(counters, l.heat_exits + step * s.n_touchpoints + t);
    increment(counters, l.channel_exits + int64_t{t} * s.n_channels + channel[last]);
  }
}

/// Pass 2 for one journey: the Sankey links of its first S steps. `label_of` [S x T] maps a
/// (step, touchpoint) to its node label (a kept touchpoint's label, or other_label when folded).
template <typename Counter, typename Increment>
JM_HD inline void count_journey_links(const int32_t* touchpoint, int64_t length, bool converted, const FlowShape& s,
                                      const int32_t* label_of, Counter* links, Increment increment) {
  const int64_t targets = n_link_targets(s), labels = n_labels(s);
  const int64_t shown = length < s.max_steps ? length : s.max_steps;
  for (int64_t i = 0; i < shown; ++i) {
    const int32_t source = label_of[i * s.n_touchpoints + touchpoint[i]];
    int32_t target;
    if (i + 1 == length)
      target = converted ? converts_target(s) : exits_target(s);
    else if (i + 1 == s.max_steps)
      target = continues_target(s);
    else
      target = label_of[(i + 1) * s.n_touchpoints + touchpoint[i + 1]];
    increment(links, (i * labels + source) * targets + target);
  }
}

/// Funnel matching for one journey: the funnel steps are matched in order, gaps allowed, each at
/// its first occurrence after the previous match (greedy, which maximises the depth reached).
/// Writes the time of each matched step to step_time_ms[k] and returns how many steps matched.
JM_HD inline int32_t match_funnel(const int32_t* touchpoint, const int64_t* timestamp_ms, int64_t length,
                                  const int32_t* funnel, int32_t n_funnel, int64_t* step_time_ms) {
  int32_t depth = 0;
  for (int64_t i = 0; i < length && depth < n_funnel; ++i) {
    if (touchpoint[i] == funnel[depth]) {
      step_time_ms[depth] = timestamp_ms[i];
      ++depth;
    }
  }
  return depth;
}

}  // namespace flow_rules
}  // namespace jm
