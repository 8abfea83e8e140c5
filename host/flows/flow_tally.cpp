// Counting a FlowTally, adding tallies, storing them, and the append's update (flow_tally.hpp).
// The finishing step (folding, ranking, medians) lives beside compute_flows in flows.cpp, which
// shares it with the GPU path.
#include "host/flows/flow_tally.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "host/flows/block_counts.hpp"
#include "journeymap/common.hpp"
#include "journeymap/flow_rules.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

// Unfolded Sankey links counted densely while (step, touchpoint, target) fits this many counters.
constexpr int64_t kMaxDenseLinkCounters = int64_t{1} << 21;

// A link target as one number: a touchpoint 0..T-1, then converts (T), exits (T+1), continues (T+2).
// The order of links in a tally: by step, source, then target with the terminals after every
// touchpoint (converted, exit, continues), as the counting keys sort them whatever T is.
std::tuple<int32_t, int32_t, int64_t> link_order(const StepLink& link) {
  const int64_t target = link.to >= 0 ? int64_t{link.to} : int64_t{INT32_MAX} + (kNodeConverted - link.to);
  return {link.step, link.from, target};
}
int32_t target_of_code(int64_t code, int32_t n_touchpoints) {
  return code < n_touchpoints        ? static_cast<int32_t>(code)
         : code == n_touchpoints     ? kNodeConverted
         : code == n_touchpoints + 1 ? kNodeExit
                                     : kNodeContinues;
}

// [rows x old_cols] -> [new_rows x new_cols], zeros in the new places.
std::vector<int64_t> regrown(const std::vector<int64_t>& data, int64_t rows, int64_t cols, int64_t new_rows, int64_t new_cols) {
  if (rows == new_rows && cols == new_cols) return data;
  std::vector<int64_t> out(static_cast<size_t>(new_rows * new_cols), 0);
  for (int64_t r = 0; r < rows; ++r)
    std::copy(data.begin() + r * cols, data.begin() + (r + 1) * cols, out.begin() + r * new_cols);
  return out;
}

void add_into(std::vector<int64_t>& total, const std::vector<int64_t>& part, int64_t sign, const char* what) {
  if (total.size() != part.size()) throw Error(fmt::format("flow tally: {} have different sizes", what));
  for (size_t k = 0; k < total.size(); ++k) {
    total[k] += sign * part[k];
    if (total[k] < 0) throw Error(fmt::format("flow tally: {} below zero (a part taken away that was never added)", what));
  }
}

// Merges two sorted sparse lists, adding sign x count for equal keys and dropping zeros.
template <typename Item, typename Key>
std::vector<Item> merged_sparse(const std::vector<Item>& total, const std::vector<Item>& part, int64_t sign, Key key,
                                const char* what) {
  std::vector<Item> out;
  out.reserve(total.size() + part.size());
  size_t a = 0, b = 0;
  auto push = [&](Item item) {
    if (item.count < 0) throw Error(fmt::format("flow tally: {} below zero (a part taken away that was never added)", what));
    if (item.count > 0) out.push_back(item);
  };
  while (a < total.size() || b < part.size()) {
    if (b == part.size() || (a < total.size() && key(total[a]) < key(part[b]))) {
      push(total[a++]);
    } else if (a == total.size() || key(part[b]) < key(total[a])) {
      Item item = part[b++];
      item.count *= sign;
      push(item);
    } else {
      Item item = total[a++];
      item.count += sign * part[b++].count;
      push(item);
    }
  }
  return out;
}

// (hash, sequence) order of variant i of x against variant k of y.
bool variant_less(const VariantTable& x, int64_t i, const VariantTable& y, int64_t k) {
  if (x.hashes[static_cast<size_t>(i)] != y.hashes[static_cast<size_t>(k)])
    return x.hashes[static_cast<size_t>(i)] < y.hashes[static_cast<size_t>(k)];
  const auto at = [](const VariantTable& t, int64_t v, int end) {
    return t.touchpoints.begin() + t.offsets[static_cast<size_t>(v) + end];
  };
  return std::lexicographical_compare(at(x, i, 0), at(x, i, 1), at(y, k, 0), at(y, k, 1));
}

VariantTable merged_variants(const VariantTable& total, const VariantTable& part, int64_t sign) {
  VariantTable out;
  auto push = [&](const VariantTable& from, int64_t v, int64_t journeys, int64_t conversions) {
    if (journeys < 0 || conversions < 0 || conversions > journeys)
      throw Error("flow tally: a path variant's counts fell below zero (a part taken away that was never added)");
    if (journeys == 0) return;
    const auto u = static_cast<size_t>(v);
    out.touchpoints.insert(out.touchpoints.end(), from.touchpoints.begin() + from.offsets[u],
                           from.touchpoints.begin() + from.offsets[u + 1]);
    out.offsets.push_back(static_cast<int64_t>(out.touchpoints.size()));
    out.hashes.push_back(from.hashes[u]);
    out.journeys.push_back(journeys);
    out.conversions.push_back(conversions);
  };
  int64_t a = 0, b = 0;
  while (a < total.size() || b < part.size()) {
    const auto ua = static_cast<size_t>(a), ub = static_cast<size_t>(b);
    if (b == part.size() || (a < total.size() && variant_less(total, a, part, b))) {
      push(total, a, total.journeys[ua], total.conversions[ua]);
      ++a;
    } else if (a == total.size() || variant_less(part, b, total, a)) {
      push(part, b, sign * part.journeys[ub], sign * part.conversions[ub]);
      ++b;
    } else {
      push(total, a, total.journeys[ua] + sign * part.journeys[ub], total.conversions[ua] + sign * part.conversions[ub]);
      ++a, ++b;
    }
  }
  return out;
}

// Sorted multiset sum (sign +1) or difference (sign -1, every value of `part` must be in `total`).
std::vector<int64_t> merged_values(const std::vector<int64_t>& total, const std::vector<int64_t>& part, int64_t sign) {
  std::vector<int64_t> out;
  if (sign > 0) {
    out.resize(total.size() + part.size());
    std::merge(total.begin(), total.end(), part.begin(), part.end(), out.begin());
    return out;
  }
  out.reserve(total.size());
  size_t b = 0;
  for (const int64_t value : total) {
    if (b < part.size() && part[b] == value) {
      ++b;
      continue;
    }
    if (b < part.size() && part[b] < value) break;
    out.push_back(value);
  }
  if (b != part.size()) throw Error("flow tally: a funnel time taken away was never added");
  return out;
}

// The tally grown to a larger vocabulary: names numbered after the tally's (ids kept).
void grow(FlowTally& tally, int32_t n_touchpoints, int32_t n_channels) {
  const int32_t T = tally.n_touchpoints, C = tally.n_channels, S = tally.max_steps;
  if (n_touchpoints == T && n_channels == C) return;
  if (n_touchpoints < T || n_channels < C) throw Error("flow tally: cannot shrink the vocabulary");
  for (TransitionCount& t : tally.transitions) {  // start, conversion and exit follow the touchpoints
    if (t.from >= T) t.from += n_touchpoints - T;
    if (t.to >= T) t.to += n_touchpoints - T;
  }
  for (auto* counts : {&tally.step_visits, &tally.step_conversions, &tally.heat_visits, &tally.heat_exits})
    *counts = regrown(*counts, S, T, S, n_touchpoints);
  for (auto* counts : {&tally.channel_visits, &tally.channel_exits}) *counts = regrown(*counts, T, C, n_touchpoints, n_channels);
  const auto F = static_cast<int64_t>(tally.funnel.steps.size());
  tally.funnel.reached_by_channel = regrown(tally.funnel.reached_by_channel, C, F, n_channels, F);
  tally.n_touchpoints = n_touchpoints;
  tally.n_channels = n_channels;
}

}  // namespace

std::vector<StepLink> count_step_links(const Context& ctx, const JourneySet& journeys, int32_t max_steps) {
  const auto T = static_cast<int64_t>(journeys.touchpoints.size());
  const int64_t targets = T + 3;
  const int64_t key_space = max_steps * T * targets;
  const auto emit = [&](auto&& add, int64_t j) {
    const int32_t* touchpoint = journeys.touchpoint.data() + journeys.offsets[j];
    const int64_t length = journeys.offsets[j + 1] - journeys.offsets[j];
    const int64_t shown = std::min<int64_t>(length, max_steps);
    for (int64_t i = 0; i < shown; ++i) {
      // The same targets as flow_rules::count_journey_links, before folding.
      int64_t target;
      if (i + 1 == length) target = journeys.converted[j] ? T : T + 1;
      else if (i + 1 == max_steps) target = T + 2;
      else target = touchpoint[i + 1];
      add((i * T + touchpoint[i]) * targets + target);
    }
  };
  std::vector<std::pair<int64_t, int64_t>> counts;
  if (key_space <= kMaxDenseLinkCounters) {
    const std::vector<int64_t> dense = flow_blocks::count_dense(ctx, journeys.size(), key_space, [&](int64_t* c, int64_t j) {
      emit([&](int64_t key) { ++c[key]; }, j);
    });
    for (int64_t key = 0; key < key_space; ++key)
      if (dense[static_cast<size_t>(key)] != 0) counts.push_back({key, dense[static_cast<size_t>(key)]});
  } else {
    counts = flow_blocks::count_sparse(ctx, journeys.size(), [&](std::vector<int64_t>& keys, int64_t j) {
      emit([&](int64_t key) { keys.push_back(key); }, j);
    });
  }
  std::vector<StepLink> links;
  links.reserve(counts.size());
  for (const auto& [key, count] : counts) {
    const int64_t source = key / targets;
    links.push_back(StepLink{static_cast<int32_t>(source / T), static_cast<int32_t>(source % T),
                             target_of_code(key % targets, static_cast<int32_t>(T)), count});
  }
  return links;
}

FunnelTally tally_funnel(const Context& ctx, const JourneySet& view, const std::vector<int32_t>& funnel) {
  std::vector<uint8_t> depth;
  std::vector<int64_t> step_time_ms;
  flow_blocks::match_funnels(ctx, view, funnel, depth, step_time_ms);
  return funnel_tally_of_matches(view, funnel, std::move(depth), step_time_ms);
}

void take_pass_one_counts(const Context& ctx, const JourneySet& journeys, const std::vector<int64_t>& counters,
                          const flow_rules::FlowShape& shape, FlowTally& tally) {
  const flow_rules::FlowCounterLayout layout = flow_rules::make_layout(shape);
  tally.transitions.clear();
  if (shape.dense_transitions) {
    const int32_t states = flow_rules::n_states(shape);
    for (int64_t k = layout.transitions; k < layout.step_visits; ++k)
      if (counters[static_cast<size_t>(k)] != 0)
        tally.transitions.push_back(TransitionCount{static_cast<int32_t>(k / states), static_cast<int32_t>(k % states),
                                                    counters[static_cast<size_t>(k)]});
  } else {
    tally.transitions = count_sparse_transitions(ctx, journeys);
  }
  const auto slice = [&](int64_t begin, int64_t end) {
    return std::vector<int64_t>(counters.begin() + begin, counters.begin() + end);
  };
  tally.step_visits = slice(layout.step_visits, layout.step_conversions);
  tally.step_conversions = slice(layout.step_conversions, layout.heat_visits);
  tally.heat_visits = slice(layout.heat_visits, layout.heat_exits);
  tally.heat_exits = slice(layout.heat_exits, layout.channel_visits);
  tally.channel_visits = slice(layout.channel_visits, layout.channel_exits);
  tally.channel_exits = slice(layout.channel_exits, layout.total);
}

FlowTally tally_flows(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                      const std::vector<int32_t>* funnel) {
  validate_flow_options(options);
  if (follows_a_view(options)) {
    const JourneySet view = flow_view(journeys, options, nullptr);
    FlowOptions plain = options;
    plain.anchor.clear();
    plain.anchor_at_end = false;
    plain.collapse_repeats = false;
    FlowTally tally = tally_flows(ctx, view, plain, funnel);
    tally.journeys_without_anchor = journeys.size() - view.size();
    return tally;
  }
  const int64_t n = journeys.size();
  FlowTally tally;
  tally.n_touchpoints = journeys.touchpoints.size();
  tally.n_channels = journeys.channels.size();
  tally.max_steps = options.max_steps;
  tally.n_journeys = n;
  tally.n_converted = std::accumulate(journeys.converted.begin(), journeys.converted.end(), int64_t{0});

  // Pass 1 of the flow rules: transitions (dense while small), step, heatmap and channel counts.
  const flow_rules::FlowShape shape = flow_rules::make_shape(tally.n_touchpoints, tally.n_channels, options.max_steps, 0);
  const flow_rules::FlowCounterLayout layout = flow_rules::make_layout(shape);
  const std::vector<int64_t> counters = flow_blocks::count_dense(ctx, n, layout.total, [&](int64_t* c, int64_t j) {
    const int64_t begin = journeys.offsets[j];
    flow_rules::count_journey(journeys.touchpoint.data() + begin, journeys.channel.data() + begin,
                              journeys.offsets[j + 1] - begin, journeys.converted[j] != 0, shape, layout, c,
                              flow_blocks::PlainIncrement{});
  });
  take_pass_one_counts(ctx, journeys, counters, shape, tally);

  tally.links = count_step_links(ctx, journeys, options.max_steps);
  tally.variants = count_variant_table(ctx, journeys);
  tally.funnel = tally_funnel(ctx, journeys, funnel != nullptr ? *funnel : resolve_funnel(options, journeys, tally.variants));
  return tally;
}

FunnelTally tally_followed_funnel(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                                  const std::vector<int32_t>& funnel, std::vector<int64_t>* kept_rows) {
  if (follows_a_view(options)) return tally_funnel(ctx, flow_view(journeys, options, kept_rows), funnel);
  if (kept_rows != nullptr) {
    kept_rows->resize(static_cast<size_t>(journeys.size()));
    std::iota(kept_rows->begin(), kept_rows->end(), int64_t{0});
  }
  return tally_funnel(ctx, journeys, funnel);
}

void add_flow_tally(FlowTally& total, const FlowTally& part, int64_t sign) {
  if (sign != 1 && sign != -1) throw Error("flow tally: sign must be +1 or -1");
  if (total.max_steps != part.max_steps)
    throw Error(fmt::format("flow tally: {} steps cannot be added to {} steps", part.max_steps, total.max_steps));
  if (total.funnel.steps != part.funnel.steps) throw Error("flow tally: the parts follow different funnels");
  grow(total, std::max(total.n_touchpoints, part.n_touchpoints), std::max(total.n_channels, part.n_channels));
  FlowTally grown_part;
  const FlowTally* p = &part;
  if (part.n_touchpoints != total.n_touchpoints || part.n_channels != total.n_channels) {
    grown_part = part;
    grow(grown_part, total.n_touchpoints, total.n_channels);
    p = &grown_part;
  }
  total.n_journeys += sign * p->n_journeys;
  total.n_converted += sign * p->n_converted;
  total.journeys_without_anchor += sign * p->journeys_without_anchor;
  if (total.n_journeys < 0 || total.n_converted < 0 || total.journeys_without_anchor < 0)
    throw Error("flow tally: journeys below zero (a part taken away that was never added)");
  total.transitions = merged_sparse(total.transitions, p->transitions, sign,
                                    [](const TransitionCount& t) { return std::make_pair(t.from, t.to); }, "transitions");
  add_into(total.step_visits, p->step_visits, sign, "step visits");
  add_into(total.step_conversions, p->step_conversions, sign, "step conversions");
  add_into(total.heat_visits, p->heat_visits, sign, "heatmap visits");
  add_into(total.heat_exits, p->heat_exits, sign, "heatmap exits");
  add_into(total.channel_visits, p->channel_visits, sign, "channel visits");
  add_into(total.channel_exits, p->channel_exits, sign, "channel exits");
  total.links = merged_sparse(total.links, p->links, sign,
                              link_order, "Sankey links");
  total.variants = merged_variants(total.variants, p->variants, sign);
  add_funnel_tally(total.funnel, p->funnel, sign);
}

void add_funnel_tally(FunnelTally& total, const FunnelTally& part, int64_t sign) {
  if (total.steps != part.steps) throw Error("funnel tally: the parts follow different funnels");
  if (total.reached_by_channel.size() != part.reached_by_channel.size())
    throw Error("funnel tally: the parts know different channels");
  add_into(total.reached, part.reached, sign, "funnel reach");
  add_into(total.converted, part.converted, sign, "funnel conversions");
  add_into(total.reached_by_channel, part.reached_by_channel, sign, "funnel reach by channel");
  for (size_t k = 0; k < total.gaps_ms.size(); ++k) total.gaps_ms[k] = merged_values(total.gaps_ms[k], part.gaps_ms[k], sign);
  total.journey_depth.clear();  // a sum has no journeys of its own
}

FlowResult update_flows(const Context& ctx, const FlowTally& base, const JourneySet& removed, const JourneySet& added,
                        const JourneySet& merged, const FlowOptions& options, const std::vector<int32_t>& journey_segment,
                        int32_t n_segments, FlowTally* tally, std::vector<std::string>* notes) {
  validate_segment_labels(journey_segment, merged.size(), n_segments);
  FlowTally total = base;
  add_flow_tally(total, tally_flows(ctx, removed, options, &base.funnel.steps), -1);
  add_flow_tally(total, tally_flows(ctx, added, options, &base.funnel.steps), +1);
  grow(total, merged.touchpoints.size(), merged.channels.size());
  if (total.n_journeys + total.journeys_without_anchor != merged.size())
    throw Error(fmt::format("--append: the flows of the base and the new journeys add up to {} journeys, the merged "
                            "set has {}",
                            total.n_journeys + total.journeys_without_anchor, merged.size()));

  // What a sum cannot give: a derived funnel that moved, and each journey's depth for the
  // breakdown by segment (segments are recomputed over all journeys).
  const std::vector<int32_t> funnel = resolve_funnel(options, merged, total.variants);
  const bool funnel_moved = funnel != total.funnel.steps;
  if (funnel_moved || !journey_segment.empty()) {
    std::vector<int64_t> rows;
    const bool viewed = follows_a_view(options);
    total.funnel = tally_followed_funnel(ctx, merged, options, funnel, &rows);
    if (notes != nullptr)
      notes->push_back(fmt::format("flows: updated from the base's flow tally ({} journeys replaced, {} added), "
                                   "except the funnel: {}",
                                   removed.size(), added.size(),
                                   funnel_moved ? "the derived funnel changed with the new journeys, so its counts were "
                                                  "taken again over all merged journeys"
                                                : "its breakdown by segment was counted again over all merged journeys "
                                                  "(segments are recomputed)"));
    std::vector<int32_t> view_segment;
    if (viewed && !journey_segment.empty())
      for (const int64_t j : rows) view_segment.push_back(journey_segment[static_cast<size_t>(j)]);
    FlowResult result = finish_flows(total, options, viewed ? view_segment : journey_segment, n_segments);
    if (tally != nullptr) {
      total.funnel.journey_depth.clear();
      *tally = std::move(total);
    }
    return result;
  }
  if (notes != nullptr)
    notes->push_back(fmt::format("flows: updated from the base's flow tally ({} journeys replaced, {} added), not "
                                 "counted again",
                                 removed.size(), added.size()));
  FlowResult result = finish_flows(total, options);
  if (tally != nullptr) *tally = std::move(total);
  return result;
}

void write_flow_tally(ResultWriter& writer, const FlowTally& tally) {
  const std::string g = "/flows/tally";
  std::vector<int32_t> from, to, step, link_from, link_to;
  std::vector<int64_t> count, link_count;
  for (const TransitionCount& t : tally.transitions) from.push_back(t.from), to.push_back(t.to), count.push_back(t.count);
  for (const StepLink& l : tally.links)
    step.push_back(l.step), link_from.push_back(l.from), link_to.push_back(l.to), link_count.push_back(l.count);
  writer.write(g + "/shape", std::vector<int64_t>{tally.n_touchpoints, tally.n_channels, tally.max_steps, tally.n_journeys,
                                                  tally.n_converted, tally.journeys_without_anchor});
  writer.write(g + "/transition_from", from);
  writer.write(g + "/transition_to", to);
  writer.write(g + "/transition_count", count);
  writer.write(g + "/step_visits", tally.step_visits);
  writer.write(g + "/step_conversions", tally.step_conversions);
  writer.write(g + "/heat_visits", tally.heat_visits);
  writer.write(g + "/heat_exits", tally.heat_exits);
  writer.write(g + "/channel_visits", tally.channel_visits);
  writer.write(g + "/channel_exits", tally.channel_exits);
  writer.write(g + "/link_step", step);
  writer.write(g + "/link_from", link_from);
  writer.write(g + "/link_to", link_to);
  writer.write(g + "/link_count", link_count);
  writer.write(g + "/variant_offsets", tally.variants.offsets);
  writer.write(g + "/variant_touchpoints", tally.variants.touchpoints);
  writer.write(g + "/variant_journeys", tally.variants.journeys);
  writer.write(g + "/variant_conversions", tally.variants.conversions);
  const FunnelTally& funnel = tally.funnel;
  std::vector<int64_t> gap_offsets{0}, gaps;
  for (const auto& values : funnel.gaps_ms) {
    gaps.insert(gaps.end(), values.begin(), values.end());
    gap_offsets.push_back(static_cast<int64_t>(gaps.size()));
  }
  writer.write(g + "/funnel_steps", funnel.steps);
  writer.write(g + "/funnel_reached", funnel.reached);
  writer.write(g + "/funnel_converted", funnel.converted);
  writer.write(g + "/funnel_reached_by_channel", funnel.reached_by_channel);
  writer.write(g + "/funnel_gap_offsets", gap_offsets);
  writer.write(g + "/funnel_gaps_ms", gaps);
}

FlowTally read_flow_tally(const ResultReader& reader, const std::string& file, int32_t n_touchpoints, int32_t n_channels,
                          int64_t n_journeys, int64_t n_events) {
  const std::string g = "/flows/tally";
  const std::vector<int64_t> shape = reader.read_int64(g + "/shape");
  const auto fail = [&](const std::string& what) { return Error(file + ": " + g + "/" + what); };
  if (shape.size() != 6) throw fail("shape: expected 6 values");
  if (shape[0] != n_touchpoints || shape[1] != n_channels)
    throw fail(fmt::format("shape: {} touchpoints and {} channels, the vocabularies have {} and {}", shape[0], shape[1],
                           n_touchpoints, n_channels));
  if (shape[2] < 1 || shape[2] > kMaxFlowSteps || shape[3] < 0 || shape[4] < 0 || shape[4] > shape[3] || shape[5] < 0 ||
      shape[3] > n_journeys || shape[3] + shape[5] != n_journeys)
    throw fail(fmt::format("shape: steps or journey counts out of range (the base holds {} journeys)", n_journeys));
  FlowTally tally;
  tally.n_touchpoints = n_touchpoints;
  tally.n_channels = n_channels;
  tally.max_steps = static_cast<int32_t>(shape[2]);
  tally.n_journeys = shape[3];
  tally.n_converted = shape[4];
  tally.journeys_without_anchor = shape[5];
  const int64_t T = tally.n_touchpoints, C = tally.n_channels, S = tally.max_steps, states = T + 3;
  // No count can pass the journeys' events and journeys together, so sums of them cannot overflow.
  const int64_t most = n_events + n_journeys;
  const auto read_sized = [&](const std::string& name, int64_t size) {
    std::vector<int64_t> values = reader.read_int64(g + "/" + name);
    if (static_cast<int64_t>(values.size()) != size) throw fail(name + fmt::format(": expected {} values", size));
    for (const int64_t v : values)
      if (v < 0 || v > most) throw fail(name + fmt::format(": a count outside [0, {}]", most));
    return values;
  };
  tally.step_visits = read_sized("step_visits", S * T);
  tally.step_conversions = read_sized("step_conversions", S * T);
  tally.heat_visits = read_sized("heat_visits", S * T);
  tally.heat_exits = read_sized("heat_exits", S * T);
  tally.channel_visits = read_sized("channel_visits", T * C);
  tally.channel_exits = read_sized("channel_exits", T * C);

  const std::vector<int32_t> from = reader.read_int32(g + "/transition_from"), to = reader.read_int32(g + "/transition_to");
  const std::vector<int64_t> count = read_sized("transition_count", static_cast<int64_t>(from.size()));
  if (to.size() != from.size()) throw fail("transition_to: not one per transition");
  for (size_t k = 0; k < from.size(); ++k) {
    if (from[k] < 0 || from[k] >= states || to[k] < 0 || to[k] >= states) throw fail("transition_from/to: a state out of range");
    if (k > 0 && std::make_pair(from[k - 1], to[k - 1]) >= std::make_pair(from[k], to[k]))
      throw fail("transition_from/to: not sorted");
    tally.transitions.push_back(TransitionCount{from[k], to[k], count[k]});
  }
  const std::vector<int32_t> step = reader.read_int32(g + "/link_step"), link_from = reader.read_int32(g + "/link_from"),
                             link_to = reader.read_int32(g + "/link_to");
  const std::vector<int64_t> link_count = read_sized("link_count", static_cast<int64_t>(step.size()));
  if (link_from.size() != step.size() || link_to.size() != step.size()) throw fail("link_*: not one per link");
  for (size_t k = 0; k < step.size(); ++k) {
    if (step[k] < 0 || step[k] >= S || link_from[k] < 0 || link_from[k] >= T) throw fail("link_step, link_from: out of range");
    const bool to_ok = link_to[k] >= 0 ? link_to[k] < T && int64_t{step[k]} + 1 < S
                                       : link_to[k] == kNodeConverted || link_to[k] == kNodeExit || link_to[k] == kNodeContinues;
    if (!to_ok) throw fail("link_to: out of range");
    const StepLink link{step[k], link_from[k], link_to[k], link_count[k]};
    if (!tally.links.empty() && link_order(tally.links.back()) >= link_order(link)) throw fail("link_*: not sorted");
    tally.links.push_back(link);
  }

  VariantTable& variants = tally.variants;
  variants.offsets = reader.read_int64(g + "/variant_offsets");
  variants.touchpoints = reader.read_int32(g + "/variant_touchpoints");
  if (variants.offsets.empty() || variants.offsets.front() != 0 ||
      !std::is_sorted(variants.offsets.begin(), variants.offsets.end()) ||
      variants.offsets.back() != static_cast<int64_t>(variants.touchpoints.size()))
    throw fail("variant_offsets: not the offsets of variant_touchpoints");
  for (const int32_t t : variants.touchpoints)
    if (t < 0 || t >= T) throw fail("variant_touchpoints: a touchpoint out of range");
  for (size_t v = 0; v + 1 < variants.offsets.size(); ++v) {
    variants.hashes.push_back(variant_hash(variants.touchpoints.data() + variants.offsets[v],
                                           variants.offsets[v + 1] - variants.offsets[v]));
    if (v > 0 && !variant_less(variants, static_cast<int64_t>(v) - 1, variants, static_cast<int64_t>(v)))
      throw fail("variant_touchpoints: the variants are not distinct and in their order");
  }
  variants.journeys = read_sized("variant_journeys", static_cast<int64_t>(variants.offsets.size()) - 1);
  variants.conversions = read_sized("variant_conversions", static_cast<int64_t>(variants.offsets.size()) - 1);
  int64_t variant_journeys = 0, variant_conversions = 0;
  for (size_t v = 0; v < variants.journeys.size(); ++v) {
    if (variants.journeys[v] == 0 || variants.conversions[v] > variants.journeys[v])
      throw fail("variant_journeys, variant_conversions: an empty variant or more conversions than journeys");
    variant_journeys += variants.journeys[v];
    variant_conversions += variants.conversions[v];
  }
  if (variant_journeys != tally.n_journeys || variant_conversions != tally.n_converted)
    throw fail("variant_journeys, variant_conversions: not the tally's journeys and conversions");

  FunnelTally& funnel = tally.funnel;
  funnel.steps = reader.read_int32(g + "/funnel_steps");
  const auto F = static_cast<int64_t>(funnel.steps.size());
  if (F > kMaxFunnelSteps) throw fail(fmt::format("funnel_steps: more than {} steps", kMaxFunnelSteps));
  for (const int32_t t : funnel.steps)
    if (t < 0 || t >= T) throw fail("funnel_steps: a touchpoint out of range");
  funnel.reached = read_sized("funnel_reached", F);
  funnel.converted = read_sized("funnel_converted", F);
  funnel.reached_by_channel = read_sized("funnel_reached_by_channel", C * F);
  const std::vector<int64_t> gap_offsets = reader.read_int64(g + "/funnel_gap_offsets");
  const std::vector<int64_t> gaps = reader.read_int64(g + "/funnel_gaps_ms");
  if (static_cast<int64_t>(gap_offsets.size()) != F + 1 || gap_offsets.front() != 0 ||
      !std::is_sorted(gap_offsets.begin(), gap_offsets.end()) || gap_offsets.back() != static_cast<int64_t>(gaps.size()))
    throw fail("funnel_gap_offsets: not the offsets of funnel_gaps_ms");
  for (int64_t k = 0; k < F; ++k) {
    funnel.gaps_ms.emplace_back(gaps.begin() + gap_offsets[static_cast<size_t>(k)],
                                gaps.begin() + gap_offsets[static_cast<size_t>(k) + 1]);
    if (!std::is_sorted(funnel.gaps_ms.back().begin(), funnel.gaps_ms.back().end()))
      throw fail("funnel_gaps_ms: a step's times are not sorted");
    // Every journey reaching step k > 0 has one time from step k-1; step 0 has none.
    if (static_cast<int64_t>(funnel.gaps_ms.back().size()) != (k == 0 ? 0 : funnel.reached[static_cast<size_t>(k)]))
      throw fail("funnel_gaps_ms: not one time per journey reaching a step");
  }
  return tally;
}

}  // namespace jm
