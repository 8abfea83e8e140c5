// Flows and funnels: both backends against a straightforward reference written here, on random
// journey sets (ragged lengths, repeated touchpoints, several counting blocks). The GPU
// instantiation skips without a device; with one, it must give the reference's exact counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/flow_rules.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/outcome.hpp"

namespace {

using jm::Backend;
using jm::FlowOptions;
using jm::FlowResult;
using jm::JourneySet;

JourneySet random_journeys(uint64_t seed, int64_t n_journeys, int n_touchpoints = 6, int n_channels = 3,
                           int max_length = 12) {
  std::mt19937_64 rng(seed);
  JourneySet js;
  for (int t = 0; t < n_touchpoints; ++t) js.touchpoints.encode("tp" + std::to_string(t));
  for (int c = 0; c < n_channels; ++c) js.channels.encode("ch" + std::to_string(c));
  js.customers.encode("c0");
  js.offsets.push_back(0);
  for (int64_t j = 0; j < n_journeys; ++j) {
    // Skewed lengths and touchpoints: many short journeys, a few common touchpoints, some rare ones.
    const int length = 1 + static_cast<int>(std::min<uint64_t>(rng() % max_length, rng() % max_length));
    int64_t time = 1'700'000'000'000 + static_cast<int64_t>(rng() % 100000) * 1000;
    for (int i = 0; i < length; ++i) {
      const int t = static_cast<int>(std::min<uint64_t>(rng() % n_touchpoints, rng() % n_touchpoints));
      js.touchpoint.push_back(t);
      js.channel.push_back(static_cast<int32_t>(rng() % n_channels));
      time += static_cast<int64_t>(rng() % 600) * 1000;  // ties allowed (gap 0)
      js.timestamp_ms.push_back(time);
      js.value.push_back(0.0f);
    }
    js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
    js.customer.push_back(0);
    js.converted.push_back(rng() % 3 == 0);
    js.conversion_value.push_back(0.0f);
    js.start_ms.push_back(js.timestamp_ms[js.offsets[j]]);
    js.end_ms.push_back(js.timestamp_ms.back());
  }
  return js;
}

std::vector<int32_t> path_of(const JourneySet& js, int64_t j) {
  return std::vector<int32_t>(js.touchpoint.begin() + js.offsets[j], js.touchpoint.begin() + js.offsets[j + 1]);
}

// ---------------------------------------------------------------- reference
struct Reference {
  std::map<std::pair<int, int>, int64_t> transitions;
  std::map<std::pair<int, int>, int64_t> step_visits, step_conversions, heat_visits, heat_exits;
  std::map<std::pair<int, int>, int64_t> channel_visits, channel_exits;
  std::map<std::vector<int32_t>, std::pair<int64_t, int64_t>> variants;  // path -> (journeys, conversions)
  // Sankey links keyed by (step, source label, target) with labels as strings.
  std::map<std::tuple<int, std::string, std::string>, int64_t> links;
  std::vector<int64_t> funnel_reached;
  std::vector<double> funnel_median_seconds;
};

bool is_subsequence(const std::vector<int32_t>& needle, const std::vector<int32_t>& haystack) {
  size_t k = 0;
  for (int32_t x : haystack)
    if (k < needle.size() && x == needle[k]) ++k;
  return k == needle.size();
}

Reference reference(const JourneySet& js, int S, double threshold, const std::vector<int32_t>& funnel,
                    int32_t skipped_in_variants) {
  Reference r;
  const int T = js.touchpoints.size();
  const int start = T, conversion = T + 1, exit = T + 2;
  for (int64_t j = 0; j < js.size(); ++j) {
    const auto path = path_of(js, j);
    const bool conv = js.converted[j];
    int previous = start;
    for (size_t i = 0; i < path.size(); ++i) {
      ++r.transitions[{previous, path[i]}];
      previous = path[i];
      const int step = std::min<int>(static_cast<int>(i), S - 1);
      ++r.heat_visits[{step, path[i]}];
      ++r.channel_visits[{path[i], js.channel[js.offsets[j] + i]}];
      if (static_cast<int>(i) < S) {
        ++r.step_visits[{static_cast<int>(i), path[i]}];
        if (conv) ++r.step_conversions[{static_cast<int>(i), path[i]}];
      }
    }
    ++r.transitions[{previous, conv ? conversion : exit}];
    if (!conv) {
      const size_t last = path.size() - 1;
      ++r.heat_exits[{std::min<int>(static_cast<int>(last), S - 1), path[last]}];
      ++r.channel_exits[{path[last], js.channel[js.offsets[j] + last]}];
    }
    std::vector<int32_t> touches;
    for (int32_t t : path)
      if (t != skipped_in_variants) touches.push_back(t);
    auto& variant = r.variants[touches];
    ++variant.first;
    variant.second += conv;
  }
  // Folding: label by name; rare = visits < threshold * journeys at the step.
  std::map<int, int64_t> at_step;
  for (const auto& [key, n] : r.step_visits) at_step[key.first] += n;
  // ... and at most kMaxSankeyNodesPerStep nodes per step, the most visited (ties: lower id).
  std::map<int, std::set<int>> kept;
  {
    std::map<int, std::vector<std::pair<int64_t, int>>> candidates;  // step -> (-visits, touchpoint)
    for (const auto& [key, visits] : r.step_visits)
      if (visits > 0 && static_cast<double>(visits) >= threshold * static_cast<double>(at_step[key.first]))
        candidates[key.first].push_back({-visits, key.second});
    for (auto& [step, list] : candidates) {
      std::sort(list.begin(), list.end());
      for (size_t k = 0; k < list.size() && k < static_cast<size_t>(jm::kMaxSankeyNodesPerStep); ++k)
        kept[step].insert(list[k].second);
    }
  }
  auto label = [&](int i, int t) -> std::string { return kept[i].count(t) ? js.touchpoints.name(t) : "other"; };
  for (int64_t j = 0; j < js.size(); ++j) {
    const auto path = path_of(js, j);
    const int n = static_cast<int>(path.size());
    for (int i = 0; i < std::min(n, S); ++i) {
      std::string target = i + 1 == n ? (js.converted[j] ? "converted" : "exit")
                           : i + 1 == S ? "continues"
                                        : label(i + 1, path[i + 1]);
      ++r.links[{i, label(i, path[i]), target}];
    }
  }
  // Funnel: reached step k iff funnel[0..k] is a subsequence; times from the earliest matches.
  r.funnel_reached.assign(funnel.size(), 0);
  std::vector<std::vector<int64_t>> gaps(funnel.size());
  for (int64_t j = 0; j < js.size(); ++j) {
    const auto path = path_of(js, j);
    std::vector<int64_t> times;
    size_t k = 0;
    for (size_t i = 0; i < path.size() && k < funnel.size(); ++i)
      if (path[i] == funnel[k]) {
        times.push_back(js.timestamp_ms[js.offsets[j] + i]);
        ++k;
      }
    for (size_t s = 0; s < funnel.size(); ++s) {
      const bool reached = is_subsequence(std::vector<int32_t>(funnel.begin(), funnel.begin() + s + 1), path);
      EXPECT_EQ(reached, s < k);
      if (reached) {
        ++r.funnel_reached[s];
        if (s > 0) gaps[s].push_back(times[s] - times[s - 1]);
      }
    }
  }
  r.funnel_median_seconds.assign(funnel.size(), std::nan(""));
  for (size_t s = 1; s < funnel.size(); ++s) {
    auto& g = gaps[s];
    if (g.empty()) continue;
    std::sort(g.begin(), g.end());
    const size_t m = g.size();
    r.funnel_median_seconds[s] = (m % 2 ? g[m / 2] : 0.5 * (g[m / 2 - 1] + g[m / 2])) / 1000.0;
  }
  return r;
}

// ---------------------------------------------------------------- comparison
std::string node_name(const FlowResult& flows, const JourneySet& js, int32_t node) {
  const int32_t t = flows.nodes[node].touchpoint;
  if (t >= 0) return js.touchpoints.name(t);
  return t == jm::kNodeOther ? "other" : t == jm::kNodeConverted ? "converted" : t == jm::kNodeExit ? "exit" : "continues";
}

void expect_matches_reference(const FlowResult& flows, const JourneySet& js, const FlowOptions& options,
                              const std::vector<int32_t>& funnel) {
  const int S = options.max_steps, T = js.touchpoints.size(), C = js.channels.size();
  const Reference r = reference(js, S, options.other_threshold, funnel, /*skip_touchpoint=*/-1);
  // Transitions: the sparse list holds exactly the reference's non-zero pairs, sorted, and the
  // lookup finds each of them (and 0 for a pair that never happens).
  std::map<std::pair<int, int>, int64_t> listed;
  for (size_t k = 0; k < flows.transitions.size(); ++k) {
    const auto& t = flows.transitions[k];
    if (k > 0) EXPECT_LT(std::make_pair(flows.transitions[k - 1].from, flows.transitions[k - 1].to), std::make_pair(t.from, t.to));
    listed[{t.from, t.to}] = t.count;
  }
  EXPECT_EQ(listed, r.transitions);
  for (const auto& [pair, n] : r.transitions) EXPECT_EQ(flows.transition(pair.first, pair.second), n);
  EXPECT_EQ(flows.transition(T + 1, 0), 0);  // nothing leaves the conversion state
  auto get = [](const std::map<std::pair<int, int>, int64_t>& m, int a, int b) {
    auto found = m.find({a, b});
    return found == m.end() ? int64_t{0} : found->second;
  };
  for (int i = 0; i < S; ++i)
    for (int t = 0; t < T; ++t) {
      EXPECT_EQ(flows.heat_visits[i * T + t], get(r.heat_visits, i, t));
      EXPECT_EQ(flows.heat_exits[i * T + t], get(r.heat_exits, i, t));
    }
  for (int t = 0; t < T; ++t)
    for (int c = 0; c < C; ++c) {
      EXPECT_EQ(flows.channel_visits[t * C + c], get(r.channel_visits, t, c));
      EXPECT_EQ(flows.channel_exits[t * C + c], get(r.channel_exits, t, c));
    }
  // Sankey links, by readable names.
  std::map<std::tuple<int, std::string, std::string>, int64_t> links;
  for (const auto& link : flows.links)
    links[{flows.nodes[link.source].step, node_name(flows, js, link.source), node_name(flows, js, link.target)}] +=
        link.journeys;
  EXPECT_EQ(links, r.links);
  // Node journeys = what flows out of them; conversions of step nodes from the reference.
  std::vector<int64_t> out(flows.nodes.size(), 0), in(flows.nodes.size(), 0);
  for (const auto& link : flows.links) {
    out[link.source] += link.journeys;
    in[link.target] += link.journeys;
  }
  for (size_t k = 0; k < flows.nodes.size(); ++k) {
    const auto& node = flows.nodes[k];
    if (node.touchpoint >= jm::kNodeOther) EXPECT_EQ(out[k], node.journeys) << "node " << k;
    if (node.step > 0) EXPECT_EQ(in[k], node.journeys) << "node " << k;
    if (node.touchpoint >= 0) EXPECT_EQ(node.conversions, get(r.step_conversions, node.step, node.touchpoint));
  }
  // Variants: the stored ones carry the exact counts; every top-N by journeys is there.
  EXPECT_EQ(flows.n_distinct_variants, static_cast<int64_t>(r.variants.size()));
  for (const auto& v : flows.variants) {
    auto found = r.variants.find(v.touchpoints);
    ASSERT_NE(found, r.variants.end());
    EXPECT_EQ(v.journeys, found->second.first);
    EXPECT_EQ(v.conversions, found->second.second);
  }
  std::vector<int64_t> counts;
  for (const auto& [path, n] : r.variants) counts.push_back(n.first);
  std::sort(counts.rbegin(), counts.rend());
  for (int k = 0; k < std::min<int>(options.top_variants, static_cast<int>(counts.size())); ++k)
    EXPECT_EQ(flows.variants[k].journeys, counts[k]);
  // Funnel.
  EXPECT_EQ(flows.funnel.steps, funnel);
  EXPECT_EQ(flows.funnel.reached, r.funnel_reached);
  for (size_t s = 1; s < funnel.size(); ++s) {
    if (std::isnan(r.funnel_median_seconds[s])) EXPECT_TRUE(std::isnan(flows.funnel.median_seconds_from_previous[s]));
    else EXPECT_DOUBLE_EQ(flows.funnel.median_seconds_from_previous[s], r.funnel_median_seconds[s]);
  }
}

class Flows : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Gpu && !jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  }
  jm::Context context(int threads = 2) const {
    return jm::make_context(GetParam(), threads);
  }
};

TEST_P(Flows, MatchesReferenceOnRandomJourneys) {
  const JourneySet js = random_journeys(11, 3000);
  FlowOptions options;
  options.max_steps = 5;
  options.other_threshold = 0.08;  // folds the rare touchpoints at every step
  options.top_variants = 15;
  options.funnel = {"tp0", "tp1", "tp0", "tp2"};
  const FlowResult flows = jm::compute_flows(context(), js, options);
  expect_matches_reference(flows, js, options, {0, 1, 0, 2});
  bool folded = false;
  for (const auto& node : flows.nodes) folded |= node.touchpoint == jm::kNodeOther;
  EXPECT_TRUE(folded) << "the threshold should fold some nodes into 'other'";
}

// Thousands of touchpoints (page URLs, product ids): transitions are counted sparsely and the
// Sankey counts only the labels kept after folding, so memory does not grow with T^2.
TEST_P(Flows, LargeVocabularyMatchesReference) {
  // Also the node cap: deep steps hold few journeys, so the threshold alone would keep hundreds.
  const int T = 3000;
  ASSERT_GT(T + 3, jm::flow_rules::kMaxDenseTransitionStates);
  const JourneySet js = random_journeys(31, 20000, T, 3, 15);
  FlowOptions options;
  options.max_steps = 4;
  options.funnel = {"tp0", "tp1"};
  const FlowResult flows = jm::compute_flows(context(), js, options);
  expect_matches_reference(flows, js, options, {0, 1});
}

TEST_P(Flows, ManyBlocksAndThreadCountsGiveTheSameCounts) {
  // 70 000 journeys span two CPU counting blocks and many GPU blocks.
  const JourneySet js = random_journeys(5, 70000, 9, 4, 20);
  FlowOptions options;
  options.funnel = {"tp1", "tp3", "tp5"};
  const FlowResult one = jm::compute_flows(context(1), js, options);
  expect_matches_reference(one, js, options, {1, 3, 5});
  const FlowResult four = jm::compute_flows(context(4), js, options);
  EXPECT_EQ(one.transitions, four.transitions);
  EXPECT_EQ(one.heat_visits, four.heat_visits);
  EXPECT_EQ(one.funnel.reached, four.funnel.reached);
}

TEST_P(Flows, BackendsAgreeExactly) {
  if (!jm::gpu_available()) GTEST_SKIP() << "needs both backends: " << jm::gpu_description();
  const JourneySet js = random_journeys(23, 20000, 14, 5, 30);
  FlowOptions options;
  options.max_steps = 7;
  const jm::Context cpu = jm::make_context(Backend::Cpu, 2), gpu = jm::make_context(Backend::Gpu, 2);
  const FlowResult a = jm::compute_flows(cpu, js, options), b = jm::compute_flows(gpu, js, options);
  EXPECT_EQ(a.transitions, b.transitions);
  EXPECT_EQ(a.heat_visits, b.heat_visits);
  EXPECT_EQ(a.heat_exits, b.heat_exits);
  EXPECT_EQ(a.channel_visits, b.channel_visits);
  EXPECT_EQ(a.channel_exits, b.channel_exits);
  ASSERT_EQ(a.links.size(), b.links.size());
  for (size_t k = 0; k < a.links.size(); ++k) {
    EXPECT_EQ(a.links[k].source, b.links[k].source);
    EXPECT_EQ(a.links[k].target, b.links[k].target);
    EXPECT_EQ(a.links[k].journeys, b.links[k].journeys);
  }
  EXPECT_EQ(a.funnel.reached, b.funnel.reached);
  EXPECT_EQ(a.funnel.reached_by_channel, b.funnel.reached_by_channel);
}

// Anchored and collapsed flows are the flows of the journeys transformed by hand: each from its
// first "tp2" (journeys without one left out), consecutive repeats merged.
// An empty journey set with the vocabularies of `js`.
JourneySet empty_like(const JourneySet& js) {
  JourneySet out;
  out.touchpoints = js.touchpoints;
  out.channels = js.channels;
  out.customers = js.customers;
  out.offsets.push_back(0);
  return out;
}

// Appends journey j of `js` to `out` with only the given events of it, in the given order and at
// the given times; the journey keeps its outcome and span.
void append_journey(JourneySet& out, const JourneySet& js, int64_t j, const std::vector<size_t>& events,
                    const std::vector<int64_t>& times) {
  for (size_t k = 0; k < events.size(); ++k) {
    out.touchpoint.push_back(js.touchpoint[events[k]]);
    out.channel.push_back(js.channel[events[k]]);
    out.timestamp_ms.push_back(times[k]);
    out.value.push_back(0.0f);
  }
  out.offsets.push_back(static_cast<int64_t>(out.touchpoint.size()));
  out.customer.push_back(0);
  out.converted.push_back(js.converted[j]);
  out.conversion_value.push_back(0.0f);
  out.start_ms.push_back(js.start_ms[j]);
  out.end_ms.push_back(js.end_ms[j]);
}

TEST_P(Flows, AnchorAndCollapsedRepeatsEqualFlowsOfTransformedJourneys) {
  const JourneySet js = random_journeys(31, 3000, 6, 3, 15);
  JourneySet expected = empty_like(js);
  int64_t without_anchor = 0;
  for (int64_t j = 0; j < js.size(); ++j) {
    const std::vector<int32_t> path = path_of(js, j);
    const auto anchor = std::find(path.begin(), path.end(), 2);
    if (anchor == path.end()) {
      ++without_anchor;
      continue;
    }
    std::vector<size_t> events;
    std::vector<int64_t> times;
    for (auto it = anchor; it != path.end(); ++it) {
      if (it != anchor && *it == *(it - 1)) continue;
      events.push_back(static_cast<size_t>(js.offsets[j] + (it - path.begin())));
      times.push_back(js.timestamp_ms[events.back()]);
    }
    append_journey(expected, js, j, events, times);
  }
  ASSERT_GT(without_anchor, 0);
  FlowOptions options;
  const FlowResult want = jm::compute_flows(context(), expected, options);
  options.anchor = "tp2";
  options.collapse_repeats = true;
  const FlowResult got = jm::compute_flows(context(), js, options);
  EXPECT_EQ(got.journeys_without_anchor, without_anchor);
  EXPECT_EQ(got.n_journeys, expected.size());
  EXPECT_EQ(got.transitions, want.transitions);
  EXPECT_EQ(got.heat_visits, want.heat_visits);
  EXPECT_EQ(got.funnel.reached, want.funnel.reached);
  ASSERT_EQ(got.links.size(), want.links.size());
  for (size_t k = 0; k < got.links.size(); ++k) EXPECT_EQ(got.links[k].journeys, want.links[k].journeys) << k;
  ASSERT_EQ(got.variants.size(), want.variants.size());
  for (size_t k = 0; k < got.variants.size(); ++k) EXPECT_EQ(got.variants[k].touchpoints, want.variants[k].touchpoints);
  options.anchor = "no such page";
  EXPECT_THROW(jm::compute_flows(context(), js, options), jm::ConfigError);

  // Looking back: each journey up to its first "tp2", repeats merged, reversed.
  JourneySet backward = empty_like(js);
  for (int64_t j = 0; j < js.size(); ++j) {
    const std::vector<int32_t> path = path_of(js, j);
    const auto anchor = std::find(path.begin(), path.end(), 2);
    if (anchor == path.end()) continue;
    std::vector<size_t> events;
    for (auto it = path.begin(); it != anchor + 1; ++it)
      if (it == path.begin() || *it != *(it - 1)) events.push_back(static_cast<size_t>(js.offsets[j] + (it - path.begin())));
    std::reverse(events.begin(), events.end());
    std::vector<int64_t> times(events.size());
    std::iota(times.begin(), times.end(), int64_t{0});
    append_journey(backward, js, j, events, times);
  }
  const FlowResult want_back = jm::compute_flows(context(), backward, FlowOptions{});
  options.anchor = "tp2";
  options.anchor_at_end = true;
  const FlowResult got_back = jm::compute_flows(context(), js, options);
  EXPECT_EQ(got_back.journeys_without_anchor, without_anchor);
  EXPECT_EQ(got_back.transitions, want_back.transitions);
  EXPECT_EQ(got_back.funnel.reached, want_back.funnel.reached);
  ASSERT_EQ(got_back.links.size(), want_back.links.size());
  for (size_t k = 0; k < got_back.links.size(); ++k) EXPECT_EQ(got_back.links[k].journeys, want_back.links[k].journeys);
  ASSERT_EQ(got_back.variants.size(), want_back.variants.size());
  for (size_t k = 0; k < got_back.variants.size(); ++k)
    EXPECT_EQ(got_back.variants[k].touchpoints, want_back.variants[k].touchpoints);
  FlowOptions no_anchor;
  no_anchor.anchor_at_end = true;
  EXPECT_THROW(jm::compute_flows(context(), js, no_anchor), jm::ConfigError);
}

TEST_P(Flows, EmptyAndSingleJourney) {
  JourneySet empty = random_journeys(1, 0);
  const FlowResult none = jm::compute_flows(context(), empty, FlowOptions{});
  EXPECT_EQ(none.n_journeys, 0);
  EXPECT_TRUE(none.nodes.empty());
  EXPECT_TRUE(none.variants.empty());
  EXPECT_TRUE(none.funnel.steps.empty());  // nothing to derive a funnel from

  JourneySet one = random_journeys(2, 1);
  one.converted.host_mut()[0] = 1;
  const FlowResult flows = jm::compute_flows(context(), one, FlowOptions{});
  expect_matches_reference(flows, one, FlowOptions{}, flows.funnel.steps);
  ASSERT_EQ(flows.variants.size(), 1u);
  // Journeys hold no outcome event: the variant is the whole path, and the derived funnel ends
  // with the converting path's last distinct touch.
  EXPECT_EQ(flows.variants[0].touchpoints, path_of(one, 0));
  EXPECT_EQ(flows.variants[0].conversions, 1);
  for (int64_t reached : flows.funnel.reached) EXPECT_EQ(reached, 1);
}

TEST_P(Flows, HandComputedSmallExample) {
  // a > b > c converts; a > b exits; b exits. States a=0, b=1, c=2, start=3, conversion=4, exit=5.
  JourneySet js;
  for (const char* t : {"a", "b", "c"}) js.touchpoints.encode(t);
  js.channels.encode("web");
  js.customers.encode("x");
  js.offsets = {0, 3, 5, 6};
  js.touchpoint = {0, 1, 2, 0, 1, 1};
  js.channel.assign(6, 0);
  js.timestamp_ms = {0, 60000, 180000, 0, 120000, 0};
  js.value.assign(6, 0.0f);
  js.customer.assign(3, 0);
  js.converted = {1, 0, 0};
  js.conversion_value.assign(3, 0.0f);
  js.start_ms = {0, 0, 0};
  js.end_ms = {180000, 120000, 0};
  FlowOptions options;
  options.funnel = {"a", "b", "c"};
  const FlowResult flows = jm::compute_flows(context(), js, options);
  EXPECT_EQ(flows.transition(3, 0), 2);
  EXPECT_EQ(flows.transition(3, 1), 1);
  EXPECT_EQ(flows.transition(0, 1), 2);
  EXPECT_EQ(flows.transition(1, 2), 1);
  EXPECT_EQ(flows.transition(1, 5), 2);
  EXPECT_EQ(flows.transition(2, 4), 1);
  EXPECT_EQ(flows.funnel.reached, (std::vector<int64_t>{2, 2, 1}));
  EXPECT_DOUBLE_EQ(flows.funnel.median_seconds_from_previous[1], 90.0);  // (60 + 120) / 2
  EXPECT_DOUBLE_EQ(flows.funnel.median_seconds_from_previous[2], 120.0);
  // b is the last event of two abandoned journeys (at steps 1 and 0) and visited three times.
  EXPECT_EQ(flows.heat_exits[0 * 3 + 1] + flows.heat_exits[1 * 3 + 1], 2);
  EXPECT_EQ(flows.channel_visits[1], 3);
  EXPECT_EQ(flows.channel_exits[1], 2);
}

TEST_P(Flows, BadOptionsAreConfigErrors) {
  const JourneySet js = random_journeys(3, 10);
  FlowOptions options;
  options.funnel = {"tp0", "no_such_touchpoint"};
  EXPECT_THROW(jm::compute_flows(context(), js, options), jm::ConfigError);
  options = FlowOptions{};
  options.max_steps = 0;
  EXPECT_THROW(jm::compute_flows(context(), js, options), jm::ConfigError);
  options = FlowOptions{};
  options.other_threshold = 1.5;
  EXPECT_THROW(jm::compute_flows(context(), js, options), jm::ConfigError);
  EXPECT_THROW(jm::compute_flows(context(), js, FlowOptions{}, std::vector<int32_t>(3, 0), 1), jm::ConfigError);
}

TEST_P(Flows, FunnelBreakdownBySegmentAndChannel) {
  const JourneySet js = random_journeys(9, 500);
  std::vector<int32_t> segment(js.size());
  for (int64_t j = 0; j < js.size(); ++j) segment[j] = static_cast<int32_t>(j % 3);
  FlowOptions options;
  options.funnel = {"tp0", "tp1"};
  const FlowResult flows = jm::compute_flows(context(), js, options, segment, 3);
  ASSERT_EQ(flows.funnel.n_segments, 3);
  for (int k = 0; k < 2; ++k) {
    int64_t by_segment = 0, by_channel = 0;
    for (int s = 0; s < 3; ++s) by_segment += flows.funnel.reached_by_segment[s * 2 + k];
    for (int c = 0; c < js.channels.size(); ++c) by_channel += flows.funnel.reached_by_channel[c * 2 + k];
    EXPECT_EQ(by_segment, flows.funnel.reached[k]);
    EXPECT_EQ(by_channel, flows.funnel.reached[k]);
  }
  // Segment 0 by brute force.
  int64_t reached_first = 0;
  for (int64_t j = 0; j < js.size(); j += 3) {
    const auto path = path_of(js, j);
    reached_first += std::find(path.begin(), path.end(), 0) != path.end();
  }
  EXPECT_EQ(flows.funnel.reached_by_segment[0], reached_first);
}

TEST_P(Flows, OutcomeEventsNeverReachTheFlows) {
  // "buy" is the outcome event: the outcome cut removes it, so no variant, funnel step or Sankey
  // node shows it, and every converting journey still counts as converted.
  jm::EventTable events;
  const std::vector<std::vector<std::string>> paths{{"home", "search", "cart", "buy"}, {"home", "cart", "buy"},
                                                    {"home", "search"}, {"search", "cart"}};
  for (size_t c = 0; c < paths.size(); ++c) {
    const auto customer = static_cast<uint32_t>(events.customers.encode("c" + std::to_string(c)));
    for (size_t e = 0; e < paths[c].size(); ++e)
      events.push_back(customer, static_cast<int64_t>(e) * 60000, events.touchpoints.encode(paths[c][e]),
                       events.channels.encode("web"), 0.0f, false);
  }
  jm::OutcomeDefinition outcome;
  outcome.events = {{"buy", "converted"}};
  const jm::OutcomeJourneys built = jm::build_outcome_journeys(context(), events, jm::JourneyOptions{}, outcome);
  const JourneySet& js = built.journeys;
  ASSERT_EQ(js.size(), 4);
  const FlowResult flows = jm::compute_flows(context(), js, FlowOptions{});
  expect_matches_reference(flows, js, FlowOptions{}, flows.funnel.steps);
  const int32_t buy = js.touchpoints.find("buy");
  EXPECT_EQ(flows.n_converted, 2);
  for (const auto& v : flows.variants) EXPECT_EQ(std::count(v.touchpoints.begin(), v.touchpoints.end(), buy), 0);
  for (int32_t step : flows.funnel.steps) EXPECT_NE(step, buy);
  for (const auto& node : flows.nodes) EXPECT_NE(node.touchpoint, buy);
}

INSTANTIATE_TEST_SUITE_P(Backends, Flows, ::testing::Values(Backend::Cpu, Backend::Gpu),
                         [](const auto& info) { return info.param == Backend::Cpu ? "Cpu" : "Gpu"; });

TEST(FlowsVariants, ExactCountsWithTiesOrderedBySequence) {
  const JourneySet js = random_journeys(17, 5000, 3, 2, 4);
  jm::Context ctx;
  ctx.num_threads = 3;
  const auto variants = jm::count_path_variants(ctx, js);
  std::map<std::vector<int32_t>, int64_t> reference;
  for (int64_t j = 0; j < js.size(); ++j) ++reference[path_of(js, j)];
  ASSERT_EQ(variants.size(), reference.size());
  int64_t total = 0;
  for (size_t k = 0; k < variants.size(); ++k) {
    EXPECT_EQ(variants[k].journeys, reference.at(variants[k].touchpoints));
    total += variants[k].journeys;
    if (k > 0) {
      EXPECT_GE(variants[k - 1].journeys, variants[k].journeys);
      if (variants[k - 1].journeys == variants[k].journeys) EXPECT_LT(variants[k - 1].touchpoints, variants[k].touchpoints);
    }
  }
  EXPECT_EQ(total, js.size());
}

}  // namespace
