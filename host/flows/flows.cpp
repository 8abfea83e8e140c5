// Public entry of the flows stage: validates, counts on the chosen backend, then assembles the
// views (Sankey nodes, funnel medians, variants) with host code shared by both backends.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "host/core/splitmix64.hpp"
#include "host/core/statistics.hpp"
#include "host/core/thread_pool.hpp"
#include "host/flows/block_counts.hpp"
#include "host/flows/flow_tally.hpp"
#include "journeymap/common.hpp"
#include "journeymap/flow_rules.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {


uint64_t sequence_hash(const int32_t* touchpoint, int64_t length) {
  uint64_t h = splitmix64_mix(static_cast<uint64_t>(length) + 0x9e3779b97f4a7c15ULL);
  for (int64_t i = 0; i < length; ++i)
    h = splitmix64_mix(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(touchpoint[i])) + 1));
  return h;
}


// Nodes and links of the Sankey: `links` [S x L x (L+3)] counted with the folded labels.
void assemble_sankey(const std::vector<int64_t>& step_visits, const std::vector<int64_t>& step_conversions,
                     const FoldedNodes& folded, const std::vector<int64_t>& links, int32_t T, int32_t S,
                     FlowResult& result) {
  flow_rules::FlowShape shape = flow_rules::make_shape(T, 0, S, 0);
  shape.n_link_labels = static_cast<int32_t>(folded.label_touchpoint.size());
  const int32_t labels = flow_rules::n_labels(shape), targets = flow_rules::n_link_targets(shape);
  // node_of[(step, label)] for steps 0..S-1; terminal nodes are found by (source step, target code).
  std::vector<int32_t> node_of(static_cast<size_t>(S) * labels, -1);
  std::vector<int32_t> terminal_of(static_cast<size_t>(S) * 3, -1);
  for (int32_t i = 0; i < S; ++i) {
    std::vector<int64_t> journeys(labels, 0), conversions(labels, 0);
    for (int32_t t = 0; t < T; ++t) {
      const int32_t label = folded.label_of[static_cast<size_t>(i) * T + t];
      journeys[label] += step_visits[static_cast<size_t>(i) * T + t];
      conversions[label] += step_conversions[static_cast<size_t>(i) * T + t];
    }
    std::vector<int32_t> order;
    for (int32_t label = 0; label < labels; ++label)
      if (journeys[label] > 0) order.push_back(label);
    // Largest first, "other" last: the order Sankey layouts stack nodes in (ties keep the label
    // order, which is touchpoint order).
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      const bool a_other = a == flow_rules::other_label(shape), b_other = b == flow_rules::other_label(shape);
      if (a_other != b_other) return b_other;
      return journeys[a] > journeys[b];
    });
    for (int32_t label : order) {
      node_of[static_cast<size_t>(i) * labels + label] = static_cast<int32_t>(result.nodes.size());
      result.nodes.push_back(SankeyNode{i, label == flow_rules::other_label(shape) ? kNodeOther : folded.label_touchpoint[label],
                                        journeys[label], conversions[label]});
    }
  }
  for (int32_t i = 0; i < S; ++i) {
    for (int32_t source = 0; source < labels; ++source) {
      for (int32_t target = 0; target < targets; ++target) {
        const int64_t n = links[(static_cast<int64_t>(i) * labels + source) * targets + target];
        if (n == 0) continue;
        int32_t target_node;
        if (target < labels) {
          target_node = node_of[static_cast<size_t>(i + 1) * labels + target];
        } else {
          const int32_t kind = target - labels;  // 0 converts, 1 exits, 2 continues
          int32_t& slot = terminal_of[static_cast<size_t>(i) * 3 + kind];
          if (slot < 0) {
            slot = static_cast<int32_t>(result.nodes.size());
            const int32_t code = kind == 0 ? kNodeConverted : kind == 1 ? kNodeExit : kNodeContinues;
            result.nodes.push_back(SankeyNode{i + 1, code, 0, 0});
          }
          target_node = slot;
          result.nodes[slot].journeys += n;
          if (kind == 0) result.nodes[slot].conversions += n;
        }
        result.links.push_back(SankeyLink{node_of[static_cast<size_t>(i) * labels + source], target_node, n});
      }
    }
  }
  // Journeys that go on beyond the last step: their conversions are those at step S-1 that did
  // not convert right there.
  const int32_t continues = terminal_of[static_cast<size_t>(S - 1) * 3 + 2];
  if (continues >= 0) {
    int64_t conversions_at_last = 0, converted_at_last = 0;
    for (const auto& node : result.nodes)
      if (node.step == S - 1 && node.touchpoint >= kNodeOther) conversions_at_last += node.conversions;
    const int32_t converted_node = terminal_of[static_cast<size_t>(S - 1) * 3 + 0];
    if (converted_node >= 0) converted_at_last = result.nodes[converted_node].journeys;
    result.nodes[continues].conversions = conversions_at_last - converted_at_last;
  }
}

void assemble_funnel(const FunnelTally& tally, const std::vector<int32_t>& journey_segment, int32_t n_segments,
                     FunnelResult& out) {
  const auto F = static_cast<int32_t>(tally.steps.size());
  out.steps = tally.steps;
  out.reached = tally.reached;
  out.converted = tally.converted;
  out.reached_by_channel = tally.reached_by_channel;
  out.n_segments = journey_segment.empty() ? 0 : n_segments;
  out.reached_by_segment.assign(static_cast<size_t>(out.n_segments) * F, 0);
  if (out.n_segments > 0) {
    if (tally.journey_depth.size() != journey_segment.size())
      throw Error(fmt::format("flows: the funnel by segment needs each journey's funnel depth ({} segment labels, {} "
                              "depths)", journey_segment.size(), tally.journey_depth.size()));
    for (size_t j = 0; j < journey_segment.size(); ++j)
      for (int32_t k = 0; k < tally.journey_depth[j]; ++k)
        ++out.reached_by_segment[static_cast<size_t>(journey_segment[j]) * F + k];
  }
  out.median_seconds_from_previous.assign(F, std::numeric_limits<double>::quiet_NaN());
  for (int32_t k = 1; k < F; ++k) out.median_seconds_from_previous[k] = median_of(tally.gaps_ms[k]) / 1000.0;
}

// Lexicographic order of the sequences of variants a and b.
bool variant_sequence_less(const VariantTable& table, int64_t a, int64_t b) {
  const auto at = [&](int64_t v, int end) { return table.touchpoints.begin() + table.offsets[static_cast<size_t>(v) + end]; };
  return std::lexicographical_compare(at(a, 0), at(a, 1), at(b, 0), at(b, 1));
}

// Indices of the `top` variants by key (descending), ties by sequence.
template <typename Key>
std::vector<int64_t> top_variants_by(const VariantTable& table, size_t top, Key key) {
  std::vector<int64_t> index(static_cast<size_t>(table.size()));
  std::iota(index.begin(), index.end(), 0);
  top = std::min(top, index.size());
  std::partial_sort(index.begin(), index.begin() + static_cast<int64_t>(top), index.end(), [&](int64_t a, int64_t b) {
    const int64_t ka = key(a), kb = key(b);
    return ka != kb ? ka > kb : variant_sequence_less(table, a, b);
  });
  index.resize(top);
  return index;
}

PathVariant variant_at(const VariantTable& table, int64_t v) {
  const auto begin = table.touchpoints.begin() + table.offsets[static_cast<size_t>(v)];
  const auto end = table.touchpoints.begin() + table.offsets[static_cast<size_t>(v) + 1];
  return PathVariant{std::vector<int32_t>(begin, end), table.journeys[static_cast<size_t>(v)],
                     table.conversions[static_cast<size_t>(v)]};
}

std::vector<PathVariant> sorted_by_journeys(std::vector<PathVariant> variants) {
  std::sort(variants.begin(), variants.end(), [](const PathVariant& a, const PathVariant& b) {
    if (a.journeys != b.journeys) return a.journeys > b.journeys;
    return a.touchpoints < b.touchpoints;
  });
  return variants;
}

// The union of the top variants by journeys, by conversions and by abandonments, most journeys first.
std::vector<PathVariant> select_variants(const VariantTable& table, int32_t top_variants) {
  const auto top = static_cast<size_t>(top_variants);
  const auto journeys = [&](int64_t v) { return table.journeys[static_cast<size_t>(v)]; };
  const auto conversions = [&](int64_t v) { return table.conversions[static_cast<size_t>(v)]; };
  const auto abandonments = [&](int64_t v) { return journeys(v) - conversions(v); };
  std::vector<uint8_t> keep(static_cast<size_t>(table.size()), 0);
  for (int64_t v : top_variants_by(table, top, journeys)) keep[static_cast<size_t>(v)] = 1;
  for (int64_t v : top_variants_by(table, top, conversions))
    if (conversions(v) > 0) keep[static_cast<size_t>(v)] = 1;
  for (int64_t v : top_variants_by(table, top, abandonments))
    if (abandonments(v) > 0) keep[static_cast<size_t>(v)] = 1;
  std::vector<PathVariant> kept;
  for (size_t v = 0; v < keep.size(); ++v)
    if (keep[v]) kept.push_back(variant_at(table, static_cast<int64_t>(v)));
  return sorted_by_journeys(std::move(kept));
}

std::string percent(double x) { return std::isfinite(x) ? fmt::format("{:.1f}%", 100.0 * x) : std::string("n/a"); }

std::string path_text(const std::vector<int32_t>& touchpoints, const JourneySet& journeys) {
  if (touchpoints.empty()) return "(no touches)";
  std::string text;
  for (size_t i = 0; i < touchpoints.size(); ++i) {
    if (i > 0) text += " > ";
    text += journeys.touchpoints.name(touchpoints[i]);
  }
  return text;
}

double ratio(int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

// Row-major 2-D counts: flattened int64 with the shape as attributes (ResultWriter's 2-D datasets are float).
void write_counts_2d(ResultWriter& writer, const std::string& path, const std::vector<int64_t>& data, int64_t rows,
                     int64_t cols) {
  writer.write(path, data);
  writer.write_attribute(path, "rows", rows);
  writer.write_attribute(path, "cols", cols);
}

std::vector<float> rate_matrix(const std::vector<int64_t>& numerator, const std::vector<int64_t>& denominator) {
  std::vector<float> rates(numerator.size(), std::numeric_limits<float>::quiet_NaN());
  for (size_t k = 0; k < numerator.size(); ++k)
    if (denominator[k] > 0) rates[k] = static_cast<float>(ratio(numerator[k], denominator[k]));
  return rates;
}

}  // namespace

FoldedNodes fold_rare_nodes(const std::vector<int64_t>& step_visits, int32_t max_steps, int32_t n_touchpoints,
                            double other_threshold) {
  constexpr int32_t kRare = -1;
  FoldedNodes folded;
  folded.label_of.assign(static_cast<size_t>(max_steps) * n_touchpoints, kRare);
  std::vector<uint8_t> kept_somewhere(static_cast<size_t>(n_touchpoints), 0);
  std::vector<int32_t> frequent;
  for (int32_t i = 0; i < max_steps; ++i) {
    const auto row = step_visits.begin() + static_cast<int64_t>(i) * n_touchpoints;
    const int64_t at_step = std::accumulate(row, row + n_touchpoints, int64_t{0});
    frequent.clear();
    for (int32_t t = 0; t < n_touchpoints; ++t)
      // Integer-exact comparison of visits >= threshold * at_step (both backends call this).
      if (row[t] > 0 && static_cast<double>(row[t]) >= other_threshold * static_cast<double>(at_step)) frequent.push_back(t);
    // Deep steps hold few journeys, so the threshold alone would keep every touchpoint there: with
    // thousands of them the link counters would grow with T^2. Keep the most visited (ties: lower id).
    if (frequent.size() > static_cast<size_t>(kMaxSankeyNodesPerStep)) {
      std::stable_sort(frequent.begin(), frequent.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
      frequent.resize(static_cast<size_t>(kMaxSankeyNodesPerStep));
    }
    for (int32_t t : frequent) {
      folded.label_of[static_cast<size_t>(i) * n_touchpoints + t] = t;
      kept_somewhere[t] = 1;
    }
  }
  // Dense labels: kept touchpoints in ascending order, then "other".
  std::vector<int32_t> label_of_touchpoint(static_cast<size_t>(n_touchpoints), kRare);
  for (int32_t t = 0; t < n_touchpoints; ++t) {
    if (!kept_somewhere[t]) continue;
    label_of_touchpoint[t] = static_cast<int32_t>(folded.label_touchpoint.size());
    folded.label_touchpoint.push_back(t);
  }
  const auto other = static_cast<int32_t>(folded.label_touchpoint.size());
  folded.label_touchpoint.push_back(-1);
  for (int32_t& label : folded.label_of) label = label == kRare ? other : label_of_touchpoint[label];
  return folded;
}

std::vector<TransitionCount> count_sparse_transitions(const Context& ctx, const JourneySet& journeys) {
  const auto T = static_cast<int64_t>(journeys.touchpoints.size());
  const int64_t states = T + 3, start = T, conversion = T + 1, exit = T + 2;
  const auto counts = flow_blocks::count_sparse(ctx, journeys.size(), [&](std::vector<int64_t>& keys, int64_t j) {
    int64_t previous = start;
    for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e) {
      keys.push_back(previous * states + journeys.touchpoint[e]);
      previous = journeys.touchpoint[e];
    }
    keys.push_back(previous * states + (journeys.converted[j] ? conversion : exit));
  });
  std::vector<TransitionCount> transitions;
  transitions.reserve(counts.size());
  for (const auto& [key, count] : counts)
    transitions.push_back(TransitionCount{static_cast<int32_t>(key / states), static_cast<int32_t>(key % states), count});
  return transitions;
}

int64_t FlowResult::transition(int32_t from, int32_t to) const {
  const auto at = std::lower_bound(transitions.begin(), transitions.end(), std::make_pair(from, to),
                                   [](const TransitionCount& t, const std::pair<int32_t, int32_t>& key) {
                                     return std::make_pair(t.from, t.to) < key;
                                   });
  return at != transitions.end() && at->from == from && at->to == to ? at->count : 0;
}

namespace {

// Distinct touch sequences as groups of journeys: the counting half of the path variants, without
// materialising a sequence per group (there can be millions; only the top few are kept).
class VariantGroups {
 public:
  struct Group {
    int64_t representative = 0;  // a journey with this sequence
    uint64_t hash = 0;           // sequence_hash of the sequence
    int64_t journeys = 0;
    int64_t conversions = 0;
  };

  VariantGroups(const Context& ctx, const JourneySet& journeys) : journeys_(journeys) {
    const int64_t n = journeys.size();
    const int64_t* offsets = this->offsets();
    const int32_t* touchpoint = this->touchpoints();
    std::vector<uint64_t> hash(n);
    const int64_t block = 1 << 16, n_blocks = (n + block - 1) / block;
    parallel_for(n_blocks, ctx.num_threads, [&](int64_t b) {
      for (int64_t j = b * block; j < std::min(n, (b + 1) * block); ++j)
        hash[j] = sequence_hash(touchpoint + offsets[j], offsets[j + 1] - offsets[j]);
    });
    // Bucket journeys by the top hash bits, then sort each bucket by (hash, sequence): equal
    // sequences end up adjacent whatever the hash does, so the counts are exact.
    constexpr int kBucketBits = 8;
    std::vector<int64_t> bucket_start((1 << kBucketBits) + 1, 0);
    for (int64_t j = 0; j < n; ++j) ++bucket_start[(hash[j] >> (64 - kBucketBits)) + 1];
    std::partial_sum(bucket_start.begin(), bucket_start.end(), bucket_start.begin());
    std::vector<int64_t> order(n);
    {
      std::vector<int64_t> fill(bucket_start.begin(), bucket_start.end() - 1);
      for (int64_t j = 0; j < n; ++j) order[fill[hash[j] >> (64 - kBucketBits)]++] = j;
    }
    auto less = [&](int64_t a, int64_t b) { return hash[a] != hash[b] ? hash[a] < hash[b] : sequence_less(a, b); };
    auto same = [&](int64_t a, int64_t b) {
      return hash[a] == hash[b] && std::equal(touchpoint + offsets[a], touchpoint + offsets[a + 1],
                                              touchpoint + offsets[b], touchpoint + offsets[b + 1]);
    };
    std::vector<std::vector<Group>> per_bucket(1 << kBucketBits);
    parallel_for(1 << kBucketBits, ctx.num_threads, [&](int64_t k) {
      std::sort(order.begin() + bucket_start[k], order.begin() + bucket_start[k + 1], less);
      for (int64_t p = bucket_start[k]; p < bucket_start[k + 1]; ++p) {
        const int64_t j = order[p];
        if (p == bucket_start[k] || !same(order[p - 1], j)) per_bucket[k].push_back(Group{j, hash[j], 0, 0});
        per_bucket[k].back().journeys += 1;
        per_bucket[k].back().conversions += journeys.converted[j];
      }
    });
    for (auto& bucket : per_bucket) groups.insert(groups.end(), bucket.begin(), bucket.end());
  }

  const int64_t* offsets() const { return journeys_.offsets.data(); }
  const int32_t* touchpoints() const { return journeys_.touchpoint.data(); }

  // Lexicographic order of the sequences of journeys a and b.
  bool sequence_less(int64_t a, int64_t b) const {
    const int64_t* o = offsets();
    const int32_t* t = touchpoints();
    return std::lexicographical_compare(t + o[a], t + o[a + 1], t + o[b], t + o[b + 1]);
  }

  std::vector<Group> groups;

 private:
  const JourneySet& journeys_;
};

}  // namespace

uint64_t variant_hash(const int32_t* touchpoints, int64_t length) { return sequence_hash(touchpoints, length); }

VariantTable count_variant_table(const Context& ctx, const JourneySet& journeys) {
  // The groups come out in (hash, sequence) order: buckets by the hash's top bits, each sorted.
  const VariantGroups variant_groups(ctx, journeys);
  const size_t n = variant_groups.groups.size();
  VariantTable table;
  table.offsets.resize(n + 1, 0);
  table.hashes.resize(n);
  table.journeys.resize(n);
  table.conversions.resize(n);
  for (size_t v = 0; v < n; ++v) {
    const VariantGroups::Group& g = variant_groups.groups[v];
    table.offsets[v + 1] = table.offsets[v] + journeys.offsets[g.representative + 1] - journeys.offsets[g.representative];
    table.hashes[v] = g.hash;
    table.journeys[v] = g.journeys;
    table.conversions[v] = g.conversions;
  }
  table.touchpoints.resize(static_cast<size_t>(table.offsets[n]));
  parallel_for(static_cast<int64_t>(n), ctx.num_threads, [&](int64_t v) {
    const int64_t from = journeys.offsets[variant_groups.groups[static_cast<size_t>(v)].representative];
    std::copy(journeys.touchpoint.begin() + from,
              journeys.touchpoint.begin() + from + (table.offsets[static_cast<size_t>(v) + 1] - table.offsets[static_cast<size_t>(v)]),
              table.touchpoints.begin() + table.offsets[static_cast<size_t>(v)]);
  });
  return table;
}

std::vector<PathVariant> count_path_variants(const Context& ctx, const JourneySet& journeys) {
  const VariantTable table = count_variant_table(ctx, journeys);
  std::vector<PathVariant> variants;
  variants.reserve(static_cast<size_t>(table.size()));
  for (int64_t v = 0; v < table.size(); ++v) variants.push_back(variant_at(table, v));
  return sorted_by_journeys(std::move(variants));
}

std::vector<int32_t> resolve_funnel(const FlowOptions& options, const JourneySet& vocabulary, const VariantTable& variants) {
  std::vector<int32_t> funnel;
  if (!options.funnel.empty()) {
    for (const auto& name : options.funnel) {
      const int32_t id = vocabulary.touchpoints.find(name);
      if (id < 0) throw ConfigError("flows.funnel: unknown touchpoint '" + name + "' (not in the data)");
      funnel.push_back(id);
    }
    return funnel;
  }
  if (variants.size() == 0) return funnel;
  // Derived funnel: the distinct touchpoints, in order, of the path variant with most conversions
  // (or, without conversions, the most frequent one); ties: the first sequence.
  int64_t best = top_variants_by(variants, 1, [&](int64_t v) { return variants.conversions[static_cast<size_t>(v)]; })[0];
  if (variants.conversions[static_cast<size_t>(best)] == 0)
    best = top_variants_by(variants, 1, [&](int64_t v) { return variants.journeys[static_cast<size_t>(v)]; })[0];
  std::unordered_set<int32_t> seen;
  for (int64_t e = variants.offsets[static_cast<size_t>(best)]; e < variants.offsets[static_cast<size_t>(best) + 1]; ++e) {
    const int32_t t = variants.touchpoints[static_cast<size_t>(e)];
    if (seen.insert(t).second && static_cast<int>(funnel.size()) < 7) funnel.push_back(t);
  }
  return funnel;
}

FunnelTally funnel_tally_of_matches(const JourneySet& view, const std::vector<int32_t>& funnel,
                                    std::vector<uint8_t> depth, const std::vector<int64_t>& step_time_ms) {
  const auto F = static_cast<int32_t>(funnel.size());
  FunnelTally tally;
  tally.steps = funnel;
  tally.reached.assign(F, 0);
  tally.converted.assign(F, 0);
  tally.reached_by_channel.assign(static_cast<size_t>(view.channels.size()) * F, 0);
  tally.gaps_ms.assign(F, {});
  for (int64_t j = 0; j < view.size(); ++j) {
    const int32_t entry_channel = view.channel[view.offsets[j]];
    const int64_t* times = step_time_ms.data() + j * F;
    for (int32_t k = 0; k < depth[j]; ++k) {
      ++tally.reached[k];
      tally.converted[k] += view.converted[j];
      ++tally.reached_by_channel[static_cast<size_t>(entry_channel) * F + k];
      if (k > 0) tally.gaps_ms[k].push_back(times[k] - times[k - 1]);
    }
  }
  for (auto& gaps : tally.gaps_ms) std::sort(gaps.begin(), gaps.end());
  tally.journey_depth = std::move(depth);
  return tally;
}

void validate_segment_labels(const std::vector<int32_t>& journey_segment, int64_t n_journeys, int32_t n_segments) {
  if (journey_segment.empty()) return;
  if (static_cast<int64_t>(journey_segment.size()) != n_journeys)
    throw ConfigError(fmt::format("segment labels: {} labels for {} journeys", journey_segment.size(), n_journeys));
  for (int32_t s : journey_segment)
    if (s < 0 || s >= n_segments) throw ConfigError(fmt::format("segment label {} outside [0, {})", s, n_segments));
}

void validate_flow_options(const FlowOptions& options) {
  if (options.max_steps < 1 || options.max_steps > kMaxFlowSteps)
    throw ConfigError(fmt::format("flows.max_steps must be in [1, {}], got {}", kMaxFlowSteps, options.max_steps));
  if (!(options.other_threshold >= 0.0 && options.other_threshold < 1.0))
    throw ConfigError(fmt::format("flows.other_threshold must be in [0, 1), got {}", options.other_threshold));
  if (options.top_variants < 0) throw ConfigError("flows.top_variants must be >= 0");
  if (options.funnel.size() > static_cast<size_t>(kMaxFunnelSteps))
    throw ConfigError(fmt::format("flows.funnel has {} steps; at most {} are supported", options.funnel.size(),
                                  kMaxFunnelSteps));
}

namespace {

// Everything of the FlowResult of a tally but the Sankey, which the GPU folds while it counts.
FlowResult result_without_sankey(const FlowTally& tally, const FlowOptions& options,
                                 const std::vector<int32_t>& journey_segment, int32_t n_segments) {
  const int32_t T = tally.n_touchpoints, S = tally.max_steps;
  FlowResult result;
  result.n_touchpoints = T;
  result.n_channels = tally.n_channels;
  result.max_steps = S;
  result.other_threshold = options.other_threshold;
  result.n_journeys = tally.n_journeys;
  result.n_converted = tally.n_converted;
  result.backend = "cpu";
  result.anchor = options.anchor;
  result.anchor_at_end = options.anchor_at_end;
  result.collapse_repeats = options.collapse_repeats;
  result.journeys_without_anchor = tally.journeys_without_anchor;
  result.transitions = tally.transitions;
  result.heat_visits = tally.heat_visits;
  result.heat_exits = tally.heat_exits;
  result.channel_visits = tally.channel_visits;
  result.channel_exits = tally.channel_exits;
  result.n_distinct_variants = tally.variants.size();
  result.variants = select_variants(tally.variants, options.top_variants);
  assemble_funnel(tally.funnel, journey_segment, n_segments, result.funnel);
  return result;
}

}  // namespace

FlowResult finish_flows(const FlowTally& tally, const FlowOptions& options, const std::vector<int32_t>& journey_segment,
                        int32_t n_segments) {
  const int32_t T = tally.n_touchpoints, S = tally.max_steps;
  FlowResult result = result_without_sankey(tally, options, journey_segment, n_segments);
  // Fold the rare nodes of the summed step visits, then put each link under its folded labels.
  const FoldedNodes folded = fold_rare_nodes(tally.step_visits, S, T, options.other_threshold);
  const auto labels = static_cast<int64_t>(folded.label_touchpoint.size()), targets = labels + 3;
  std::vector<int64_t> links(static_cast<size_t>(S * labels * targets), 0);
  for (const StepLink& link : tally.links) {
    const int64_t source = folded.label_of[static_cast<size_t>(link.step) * T + link.from];
    const int64_t target = link.to >= 0                   ? folded.label_of[static_cast<size_t>(link.step + 1) * T + link.to]
                           : link.to == kNodeConverted ? labels
                           : link.to == kNodeExit      ? labels + 1
                                                       : labels + 2;
    links[static_cast<size_t>((link.step * labels + source) * targets + target)] += link.count;
  }
  assemble_sankey(tally.step_visits, tally.step_conversions, folded, links, T, S, result);
  return result;
}

bool follows_a_view(const FlowOptions& options) {
  return !options.anchor.empty() || options.collapse_repeats || options.anchor_at_end;
}

JourneySet flow_view(const JourneySet& journeys, const FlowOptions& options, std::vector<int64_t>* kept_rows) {
  int32_t anchor = -1;
  if (!options.anchor.empty()) {
    anchor = journeys.touchpoints.find(options.anchor);
    if (anchor < 0) throw ConfigError("flows.anchor: the data has no touchpoint '" + options.anchor + "'");
  }
  if (options.anchor_at_end && anchor < 0) throw ConfigError("flows.anchor_at_end needs flows.anchor");
  // The journeys kept and the event range each one's flow covers.
  std::vector<int64_t> rows, first_event, end_event;
  for (int64_t j = 0; j < journeys.size(); ++j) {
    int64_t begin = journeys.offsets[j];
    int64_t end = journeys.offsets[j + 1];
    if (anchor >= 0) {
      int64_t at = begin;
      while (at < end && journeys.touchpoint[static_cast<size_t>(at)] != anchor) ++at;
      if (at == end) continue;
      if (options.anchor_at_end) end = at + 1;  // up to the anchor
      else begin = at;                           // from the anchor
    }
    rows.push_back(j);
    first_event.push_back(begin);
    end_event.push_back(end);
  }
  JourneySet view = select_journeys(journeys, rows);  // per-journey fields of the kept journeys
  // The event columns are rebuilt on the host.
  std::vector<int64_t>& offsets = view.offsets.host_mut();
  std::vector<int32_t>& touchpoint = view.touchpoint.host_mut();
  std::vector<int32_t>& channel = view.channel.host_mut();
  std::vector<int64_t>& timestamp_ms = view.timestamp_ms.host_mut();
  std::vector<float>& value = view.value.host_mut();
  offsets.assign(1, 0);
  touchpoint.clear();
  channel.clear();
  timestamp_ms.clear();
  value.clear();
  for (size_t r = 0; r < rows.size(); ++r) {
    const size_t first_kept = touchpoint.size();
    for (int64_t e = first_event[r]; e < end_event[r]; ++e) {
      const auto i = static_cast<size_t>(e);
      if (options.collapse_repeats && e > first_event[r] && journeys.touchpoint[i] == journeys.touchpoint[i - 1]) continue;
      touchpoint.push_back(journeys.touchpoint[i]);
      channel.push_back(journeys.channel[i]);
      timestamp_ms.push_back(journeys.timestamp_ms[i]);
      value.push_back(journeys.value[i]);
    }
    if (options.anchor_at_end) {  // looking back: the anchor first, then the events before it
      std::reverse(touchpoint.begin() + first_kept, touchpoint.end());
      std::reverse(channel.begin() + first_kept, channel.end());
      std::reverse(value.begin() + first_kept, value.end());
      // Times stay increasing along the view (the steps' spacing mirrored), as the counting expects.
      const int64_t last = timestamp_ms.back();
      std::reverse(timestamp_ms.begin() + first_kept, timestamp_ms.end());
      const int64_t anchor_time = timestamp_ms[first_kept];
      for (size_t i = first_kept; i < timestamp_ms.size(); ++i)
        timestamp_ms[i] = last + (anchor_time - timestamp_ms[i]);
    }
    offsets.push_back(static_cast<int64_t>(touchpoint.size()));
  }
  if (kept_rows != nullptr) *kept_rows = std::move(rows);
  return view;
}

FlowResult compute_flows_with_tally(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                                    const std::vector<int32_t>& journey_segment, int32_t n_segments, FlowTally* tally) {
  if (follows_a_view(options)) {
    // Both backends count the same view: the journeys from their anchor, repeats collapsed.
    std::vector<int64_t> rows;
    const JourneySet view = flow_view(journeys, options, &rows);
    std::vector<int32_t> view_segment;
    if (!journey_segment.empty() && static_cast<int64_t>(journey_segment.size()) == journeys.size())
      for (const int64_t j : rows) view_segment.push_back(journey_segment[static_cast<size_t>(j)]);
    FlowOptions plain = options;
    plain.anchor.clear();
    plain.anchor_at_end = false;
    plain.collapse_repeats = false;
    FlowResult result = compute_flows_with_tally(ctx, view, plain, view_segment, n_segments, tally);
    result.anchor = options.anchor;
    result.anchor_at_end = options.anchor_at_end;
    result.collapse_repeats = options.collapse_repeats;
    result.journeys_without_anchor = journeys.size() - view.size();
    if (tally != nullptr) tally->journeys_without_anchor = result.journeys_without_anchor;
    return result;
  }
  validate_flow_options(options);
  validate_segment_labels(journey_segment, journeys.size(), n_segments);
  if (journeys.offsets.empty()) throw ConfigError("flows: the journey set has no offsets array");

  if (ctx.backend != Backend::Gpu) {
    // The CPU counts the tally and finishes it: the same path as an appended or batched run.
    FlowTally counted = tally_flows(ctx, journeys, options);
    FlowResult result = finish_flows(counted, options, journey_segment, n_segments);
    if (tally != nullptr) {
      counted.funnel.journey_depth.clear();
      *tally = std::move(counted);
    }
    return result;
  }

  // The GPU counts the passes and matches the funnel; the same tally fields and finishing follow,
  // except the Sankey, whose links the GPU folds while it counts.
  FlowTally counted;
  counted.n_touchpoints = journeys.touchpoints.size();
  counted.n_channels = journeys.channels.size();
  counted.max_steps = options.max_steps;
  counted.n_journeys = journeys.size();
  counted.n_converted = std::accumulate(journeys.converted.begin(), journeys.converted.end(), int64_t{0});
  counted.variants = count_variant_table(ctx, journeys);
  const std::vector<int32_t> funnel = resolve_funnel(options, journeys, counted.variants);
  FlowCounts counts = cuda_impl::count_flows(ctx, journeys, options.max_steps, options.other_threshold, funnel);
  const flow_rules::FlowShape shape = flow_rules::make_shape(counted.n_touchpoints, counted.n_channels,
                                                             options.max_steps, static_cast<int32_t>(funnel.size()));
  take_pass_one_counts(ctx, journeys, counts.counters, shape, counted);
  counted.funnel = funnel_tally_of_matches(journeys, funnel, std::move(counts.funnel_depth), counts.funnel_time_ms);
  FlowResult result = result_without_sankey(counted, options, journey_segment, n_segments);
  result.backend = to_string(ctx.backend);
  const FoldedNodes folded{std::move(counts.label_of), std::move(counts.label_touchpoint)};
  assemble_sankey(counted.step_visits, counted.step_conversions, folded, counts.links, counted.n_touchpoints,
                  options.max_steps, result);
  if (tally != nullptr) {
    // Only the links are counted again, on the host: a tally keeps them unfolded.
    counted.links = count_step_links(ctx, journeys, options.max_steps);
    counted.funnel.journey_depth.clear();
    *tally = std::move(counted);
  }
  return result;
}

FlowResult compute_flows(const Context& ctx, const JourneySet& journeys, const FlowOptions& options,
                         const std::vector<int32_t>& journey_segment, int32_t n_segments) {
  return compute_flows_with_tally(ctx, journeys, options, journey_segment, n_segments, nullptr);
}

void write_flows_results(ResultWriter& writer, const FlowResult& flows, const JourneySet& journeys) {
  const int32_t T = flows.n_touchpoints, C = flows.n_channels, S = flows.max_steps;
  const int32_t states = flows.n_states();
  std::vector<std::string> state_names = journeys.touchpoints.names();
  state_names.insert(state_names.end(), {"(start)", "(conversion)", "(exit)"});
  writer.write("/flows/state_names", state_names);
  writer.write_attribute("/flows", "n_journeys", flows.n_journeys);
  writer.write_attribute("/flows", "n_converted", flows.n_converted);
  writer.write_attribute("/flows", "max_steps", static_cast<int64_t>(S));
  writer.write_attribute("/flows", "other_threshold", flows.other_threshold);
  writer.write_attribute("/flows", "n_distinct_variants", flows.n_distinct_variants);
  writer.write_attribute("/flows", "backend", flows.backend);
  writer.write_attribute("/flows", "anchor", flows.anchor);
  writer.write_attribute("/flows", "collapse_repeats", int64_t{flows.collapse_repeats});
  writer.write_attribute("/flows", "anchor_at_end", int64_t{flows.anchor_at_end});
  writer.write_attribute("/flows", "journeys_without_anchor", flows.journeys_without_anchor);

  // Transitions, sparse (non-zero entries only), with the row-normalised probability.
  std::vector<int32_t> from, to;
  std::vector<int64_t> count;
  std::vector<double> probability;
  std::vector<int64_t> row_total(static_cast<size_t>(states), 0);
  for (const TransitionCount& t : flows.transitions) row_total[t.from] += t.count;
  for (const TransitionCount& t : flows.transitions) {
    from.push_back(t.from);
    to.push_back(t.to);
    count.push_back(t.count);
    probability.push_back(ratio(t.count, row_total[t.from]));
  }
  writer.write("/flows/transitions/from", from);
  writer.write("/flows/transitions/to", to);
  writer.write("/flows/transitions/count", count);
  writer.write("/flows/transitions/probability", probability);

  // Sankey.
  std::vector<int32_t> node_step, node_touchpoint, link_source, link_target;
  std::vector<int64_t> node_journeys, node_conversions, link_journeys;
  std::vector<double> node_rate;
  std::vector<std::string> node_label;
  for (const auto& node : flows.nodes) {
    node_step.push_back(node.step);
    node_touchpoint.push_back(node.touchpoint);
    node_journeys.push_back(node.journeys);
    node_conversions.push_back(node.conversions);
    node_rate.push_back(ratio(node.conversions, node.journeys));
    node_label.push_back(node.touchpoint >= 0             ? journeys.touchpoints.name(node.touchpoint)
                         : node.touchpoint == kNodeOther     ? std::string("other")
                         : node.touchpoint == kNodeConverted ? std::string("converted")
                         : node.touchpoint == kNodeExit      ? std::string("exit")
                                                             : std::string("continues"));
  }
  for (const auto& link : flows.links) {
    link_source.push_back(link.source);
    link_target.push_back(link.target);
    link_journeys.push_back(link.journeys);
  }
  writer.write("/flows/sankey/node_step", node_step);
  writer.write("/flows/sankey/node_touchpoint", node_touchpoint);
  writer.write("/flows/sankey/node_label", node_label);
  writer.write("/flows/sankey/node_journeys", node_journeys);
  writer.write("/flows/sankey/node_conversions", node_conversions);
  writer.write("/flows/sankey/node_conversion_rate", node_rate);
  writer.write("/flows/sankey/link_source", link_source);
  writer.write("/flows/sankey/link_target", link_target);
  writer.write("/flows/sankey/link_journeys", link_journeys);

  // Variants (CSR of touchpoint sequences).
  std::vector<int64_t> variant_offsets{0}, variant_journeys, variant_conversions;
  std::vector<int32_t> variant_touchpoints;
  std::vector<double> variant_rate;
  std::vector<std::string> variant_path;
  for (const auto& variant : flows.variants) {
    variant_touchpoints.insert(variant_touchpoints.end(), variant.touchpoints.begin(), variant.touchpoints.end());
    variant_offsets.push_back(static_cast<int64_t>(variant_touchpoints.size()));
    variant_journeys.push_back(variant.journeys);
    variant_conversions.push_back(variant.conversions);
    variant_rate.push_back(ratio(variant.conversions, variant.journeys));
    variant_path.push_back(path_text(variant.touchpoints, journeys));
  }
  writer.write("/flows/variants/offsets", variant_offsets);
  writer.write("/flows/variants/touchpoints", variant_touchpoints);
  writer.write("/flows/variants/journeys", variant_journeys);
  writer.write("/flows/variants/conversions", variant_conversions);
  writer.write("/flows/variants/conversion_rate", variant_rate);
  writer.write("/flows/variants/path", variant_path);

  // Funnel.
  const FunnelResult& funnel = flows.funnel;
  const int64_t F = static_cast<int64_t>(funnel.steps.size());
  std::vector<std::string> funnel_names;
  for (int32_t t : funnel.steps) funnel_names.push_back(journeys.touchpoints.name(t));
  writer.write("/flows/funnel/touchpoint", funnel.steps);
  writer.write("/flows/funnel/names", funnel_names);
  writer.write("/flows/funnel/reached", funnel.reached);
  writer.write("/flows/funnel/converted", funnel.converted);
  writer.write("/flows/funnel/median_seconds_from_previous", funnel.median_seconds_from_previous);
  write_counts_2d(writer, "/flows/funnel/reached_by_channel", funnel.reached_by_channel, C, F);
  if (funnel.n_segments > 0)
    write_counts_2d(writer, "/flows/funnel/reached_by_segment", funnel.reached_by_segment, funnel.n_segments, F);

  // Friction heatmaps.
  write_counts_2d(writer, "/flows/heatmap/step_visits", flows.heat_visits, S, T);
  write_counts_2d(writer, "/flows/heatmap/step_exits", flows.heat_exits, S, T);
  writer.write_matrix("/flows/heatmap/step_dropoff_rate", rate_matrix(flows.heat_exits, flows.heat_visits), S, T);
  write_counts_2d(writer, "/flows/heatmap/channel_visits", flows.channel_visits, T, C);
  write_counts_2d(writer, "/flows/heatmap/channel_exits", flows.channel_exits, T, C);
  writer.write_matrix("/flows/heatmap/channel_dropoff_rate", rate_matrix(flows.channel_exits, flows.channel_visits), T, C);
}

std::string format_flows_summary(const FlowResult& flows, const JourneySet& journeys) {
  std::ostringstream out;
  const double average = ratio(flows.n_converted, flows.n_journeys);
  out << fmt::format("flows: {} journeys, {} distinct paths, overall conversion {}\n", flows.n_journeys,
                     flows.n_distinct_variants, percent(average));
  // Strongest entry points.
  const int32_t start = flows.n_touchpoints;
  std::vector<std::pair<int64_t, int32_t>> entries;
  for (int32_t t = 0; t < flows.n_touchpoints; ++t)
    if (flows.transition(start, t) > 0) entries.push_back({flows.transition(start, t), t});
  std::sort(entries.rbegin(), entries.rend());
  out << "  entry touchpoints:";
  for (size_t k = 0; k < std::min<size_t>(4, entries.size()); ++k)
    out << fmt::format(" {} {}", journeys.touchpoints.name(entries[k].second), percent(ratio(entries[k].first, flows.n_journeys)));
  out << "\n";
  // Best converting frequent paths.
  std::vector<const PathVariant*> frequent;
  for (const auto& v : flows.variants)
    if (v.journeys >= std::max<int64_t>(10, flows.n_journeys / 1000)) frequent.push_back(&v);
  std::sort(frequent.begin(), frequent.end(), [](const PathVariant* a, const PathVariant* b) {
    return ratio(a->conversions, a->journeys) > ratio(b->conversions, b->journeys);
  });
  for (size_t k = 0; k < std::min<size_t>(3, frequent.size()); ++k)
    out << fmt::format("  path {} ({} journeys) converts at {}\n", path_text(frequent[k]->touchpoints, journeys),
                       frequent[k]->journeys, percent(ratio(frequent[k]->conversions, frequent[k]->journeys)));
  // Funnel.
  const FunnelResult& funnel = flows.funnel;
  if (!funnel.steps.empty()) {
    out << "  funnel:";
    for (size_t k = 0; k < funnel.steps.size(); ++k)
      out << fmt::format("{} {} {}", k == 0 ? "" : " ->", journeys.touchpoints.name(funnel.steps[k]), funnel.reached[k]);
    out << "\n";
  }
  // Worst drop-off point among touchpoints with real traffic.
  double worst = -1;
  int32_t worst_t = -1;
  for (int32_t t = 0; t < flows.n_touchpoints; ++t) {
    int64_t visits = 0, exits = 0;
    for (int32_t c = 0; c < flows.n_channels; ++c) {
      visits += flows.channel_visits[static_cast<size_t>(t) * flows.n_channels + c];
      exits += flows.channel_exits[static_cast<size_t>(t) * flows.n_channels + c];
    }
    if (visits >= 100 && ratio(exits, visits) > worst) {
      worst = ratio(exits, visits);
      worst_t = t;
    }
  }
  if (worst_t >= 0)
    out << fmt::format("  highest drop-off: {} ({} of its visits end an abandoned journey)\n",
                       journeys.touchpoints.name(worst_t), percent(worst));
  return out.str();
}

}  // namespace jm
