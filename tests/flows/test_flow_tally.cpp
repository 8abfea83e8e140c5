// Flow tallies add up: the tallies of two sets of journeys sum to the tally of both, finished into
// exactly the flows compute_flows gives over both (every option: steps, folding, anchors, repeats,
// funnels, a vocabulary grown by the second set, transitions and links too large to count densely);
// taking a set's tally away gives back the rest; a stored tally reads back unchanged and a damaged
// one is refused by name; the append's update recounts (and says so) what a sum cannot give.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "host/flows/flow_tally.hpp"
#include "journeymap/common.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/result_file.hpp"
#include "test_helpers.hpp"

namespace {

using jm::FlowOptions;
using jm::FlowResult;
using jm::FlowTally;
using jm::JourneySet;

const jm::Context& cpu() {
  static const jm::Context ctx = [] {
    jm::Context c;
    c.backend = jm::Backend::Cpu;
    c.num_threads = 2;
    return c;
  }();
  return ctx;
}

// Random journeys over touchpoints tp0..tp{n_vocabulary-1}, using only the first `n_used`.
JourneySet random_journeys(uint64_t seed, int64_t n_journeys, int n_vocabulary, int n_used, int n_channels,
                           int n_channels_used, int max_length = 12) {
  std::mt19937_64 rng(seed);
  JourneySet js;
  for (int t = 0; t < n_vocabulary; ++t) js.touchpoints.encode("tp" + std::to_string(t));
  for (int c = 0; c < n_channels; ++c) js.channels.encode("ch" + std::to_string(c));
  js.customers.encode("c0");
  js.offsets.push_back(0);
  for (int64_t j = 0; j < n_journeys; ++j) {
    const int length = 1 + static_cast<int>(std::min<uint64_t>(rng() % max_length, rng() % max_length));
    int64_t time = 1'700'000'000'000 + static_cast<int64_t>(rng() % 100000) * 1000;
    for (int i = 0; i < length; ++i) {
      js.touchpoint.push_back(static_cast<int32_t>(std::min<uint64_t>(rng() % n_used, rng() % n_used)));
      js.channel.push_back(static_cast<int32_t>(rng() % n_channels_used));
      time += static_cast<int64_t>(rng() % 600) * 1000;
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

// `a`'s journeys then `b`'s, in `b`'s vocabularies (a's names must be a prefix of b's).
JourneySet concatenated(const JourneySet& a, const JourneySet& b) {
  JourneySet out;
  out.touchpoints = b.touchpoints;
  out.channels = b.channels;
  out.customers = b.customers;
  out.offsets.push_back(0);
  for (const JourneySet* part : {&a, &b}) {
    for (int64_t j = 0; j < part->size(); ++j) {
      for (int64_t e = part->offsets[j]; e < part->offsets[j + 1]; ++e) {
        out.touchpoint.push_back(part->touchpoint[e]);
        out.channel.push_back(part->channel[e]);
        out.timestamp_ms.push_back(part->timestamp_ms[e]);
        out.value.push_back(part->value[e]);
      }
      out.offsets.push_back(static_cast<int64_t>(out.touchpoint.size()));
      out.customer.push_back(part->customer[j]);
      out.converted.push_back(part->converted[j]);
      out.conversion_value.push_back(part->conversion_value[j]);
      out.start_ms.push_back(part->start_ms[j]);
      out.end_ms.push_back(part->end_ms[j]);
    }
  }
  return out;
}

bool same_double(double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); }

void expect_same_flows(const FlowResult& x, const FlowResult& y) {
  EXPECT_EQ(x.n_journeys, y.n_journeys);
  EXPECT_EQ(x.n_converted, y.n_converted);
  EXPECT_EQ(x.journeys_without_anchor, y.journeys_without_anchor);
  EXPECT_EQ(x.n_touchpoints, y.n_touchpoints);
  EXPECT_EQ(x.n_channels, y.n_channels);
  EXPECT_EQ(x.transitions, y.transitions);
  ASSERT_EQ(x.nodes.size(), y.nodes.size());
  for (size_t k = 0; k < x.nodes.size(); ++k) {
    EXPECT_EQ(x.nodes[k].step, y.nodes[k].step) << k;
    EXPECT_EQ(x.nodes[k].touchpoint, y.nodes[k].touchpoint) << k;
    EXPECT_EQ(x.nodes[k].journeys, y.nodes[k].journeys) << k;
    EXPECT_EQ(x.nodes[k].conversions, y.nodes[k].conversions) << k;
  }
  ASSERT_EQ(x.links.size(), y.links.size());
  for (size_t k = 0; k < x.links.size(); ++k) {
    EXPECT_EQ(x.links[k].source, y.links[k].source) << k;
    EXPECT_EQ(x.links[k].target, y.links[k].target) << k;
    EXPECT_EQ(x.links[k].journeys, y.links[k].journeys) << k;
  }
  EXPECT_EQ(x.n_distinct_variants, y.n_distinct_variants);
  ASSERT_EQ(x.variants.size(), y.variants.size());
  for (size_t k = 0; k < x.variants.size(); ++k) {
    EXPECT_EQ(x.variants[k].touchpoints, y.variants[k].touchpoints) << k;
    EXPECT_EQ(x.variants[k].journeys, y.variants[k].journeys) << k;
    EXPECT_EQ(x.variants[k].conversions, y.variants[k].conversions) << k;
  }
  EXPECT_EQ(x.funnel.steps, y.funnel.steps);
  EXPECT_EQ(x.funnel.reached, y.funnel.reached);
  EXPECT_EQ(x.funnel.converted, y.funnel.converted);
  EXPECT_EQ(x.funnel.reached_by_channel, y.funnel.reached_by_channel);
  EXPECT_EQ(x.funnel.reached_by_segment, y.funnel.reached_by_segment);
  ASSERT_EQ(x.funnel.median_seconds_from_previous.size(), y.funnel.median_seconds_from_previous.size());
  for (size_t k = 0; k < x.funnel.median_seconds_from_previous.size(); ++k)
    EXPECT_TRUE(same_double(x.funnel.median_seconds_from_previous[k], y.funnel.median_seconds_from_previous[k])) << k;
  EXPECT_EQ(x.heat_visits, y.heat_visits);
  EXPECT_EQ(x.heat_exits, y.heat_exits);
  EXPECT_EQ(x.channel_visits, y.channel_visits);
  EXPECT_EQ(x.channel_exits, y.channel_exits);
}

void expect_same_tally(const FlowTally& x, const FlowTally& y) {
  EXPECT_EQ(x.n_touchpoints, y.n_touchpoints);
  EXPECT_EQ(x.n_channels, y.n_channels);
  EXPECT_EQ(x.max_steps, y.max_steps);
  EXPECT_EQ(x.n_journeys, y.n_journeys);
  EXPECT_EQ(x.n_converted, y.n_converted);
  EXPECT_EQ(x.journeys_without_anchor, y.journeys_without_anchor);
  EXPECT_EQ(x.transitions, y.transitions);
  EXPECT_EQ(x.step_visits, y.step_visits);
  EXPECT_EQ(x.step_conversions, y.step_conversions);
  EXPECT_EQ(x.heat_visits, y.heat_visits);
  EXPECT_EQ(x.heat_exits, y.heat_exits);
  EXPECT_EQ(x.channel_visits, y.channel_visits);
  EXPECT_EQ(x.channel_exits, y.channel_exits);
  ASSERT_EQ(x.links.size(), y.links.size());
  for (size_t k = 0; k < x.links.size(); ++k) {
    EXPECT_EQ(x.links[k].step, y.links[k].step) << k;
    EXPECT_EQ(x.links[k].from, y.links[k].from) << k;
    EXPECT_EQ(x.links[k].to, y.links[k].to) << k;
    EXPECT_EQ(x.links[k].count, y.links[k].count) << k;
  }
  EXPECT_EQ(x.variants.offsets, y.variants.offsets);
  EXPECT_EQ(x.variants.touchpoints, y.variants.touchpoints);
  EXPECT_EQ(x.variants.journeys, y.variants.journeys);
  EXPECT_EQ(x.variants.conversions, y.variants.conversions);
  EXPECT_EQ(x.funnel.steps, y.funnel.steps);
  EXPECT_EQ(x.funnel.reached, y.funnel.reached);
  EXPECT_EQ(x.funnel.converted, y.funnel.converted);
  EXPECT_EQ(x.funnel.reached_by_channel, y.funnel.reached_by_channel);
  EXPECT_EQ(x.funnel.gaps_ms, y.funnel.gaps_ms);
}

std::vector<FlowOptions> option_cases() {
  std::vector<FlowOptions> cases(7);
  cases[1].max_steps = 3;
  cases[1].other_threshold = 0.15;
  cases[1].top_variants = 4;
  cases[2].anchor = "tp2";
  cases[3].anchor = "tp2";
  cases[3].anchor_at_end = true;
  cases[4].collapse_repeats = true;
  cases[5].funnel = {"tp0", "tp3", "tp1"};
  cases[6].other_threshold = 0.0;
  cases[6].max_steps = 1;
  return cases;
}

TEST(FlowTally, SumOfPartsFinishesToTheFlowsOfTheUnion) {
  // The second part brings touchpoints and channels the first never saw (numbered after its names).
  const JourneySet first = random_journeys(3, 1500, 5, 5, 2, 2);
  const JourneySet second = random_journeys(4, 2500, 8, 8, 3, 3);
  const JourneySet both = concatenated(first, second);
  for (const FlowOptions& options : option_cases()) {
    SCOPED_TRACE(options.anchor + (options.anchor_at_end ? " at end" : "") + " steps " + std::to_string(options.max_steps));
    const FlowResult expected = jm::compute_flows(cpu(), both, options);
    const FlowTally whole = jm::tally_flows(cpu(), both, options);
    // Parts count the funnel of the whole, as the append does with the base's funnel.
    FlowTally sum = jm::tally_flows(cpu(), first, options, &whole.funnel.steps);
    jm::add_flow_tally(sum, jm::tally_flows(cpu(), second, options, &whole.funnel.steps), +1);
    expect_same_tally(sum, whole);
    expect_same_flows(jm::finish_flows(sum, options), expected);
  }
}

TEST(FlowTally, VocabulariesTooLargeForDenseCountersAddUpToo) {
  // 1,100 touchpoints: transitions are counted sparsely (more than 1,024 states) and so are the
  // unfolded links (6 x 1,100 x 1,103 keys).
  const JourneySet first = random_journeys(7, 800, 1100, 1100, 2, 2, 20);
  const JourneySet second = random_journeys(8, 900, 1100, 1100, 2, 2, 20);
  const JourneySet both = concatenated(first, second);
  const FlowOptions options;
  const FlowTally whole = jm::tally_flows(cpu(), both, options);
  FlowTally sum = jm::tally_flows(cpu(), first, options, &whole.funnel.steps);
  jm::add_flow_tally(sum, jm::tally_flows(cpu(), second, options, &whole.funnel.steps), +1);
  expect_same_tally(sum, whole);
  expect_same_flows(jm::finish_flows(sum, options), jm::compute_flows(cpu(), both, options));
}

TEST(FlowTally, TakingAPartAwayGivesTheRest) {
  const JourneySet first = random_journeys(5, 1200, 7, 7, 3, 3);
  const JourneySet second = random_journeys(6, 800, 7, 7, 3, 3);
  const JourneySet both = concatenated(first, second);
  for (const FlowOptions& options : option_cases()) {
    SCOPED_TRACE(options.anchor + " steps " + std::to_string(options.max_steps));
    const FlowTally whole = jm::tally_flows(cpu(), both, options);
    FlowTally rest = whole;
    jm::add_flow_tally(rest, jm::tally_flows(cpu(), second, options, &whole.funnel.steps), -1);
    expect_same_tally(rest, jm::tally_flows(cpu(), first, options, &whole.funnel.steps));
  }
}

TEST(FlowTally, TakingAwayWhatWasNeverAddedIsAnError) {
  const FlowOptions options;
  const JourneySet some = random_journeys(9, 300, 6, 6, 2, 2);
  const JourneySet other = random_journeys(10, 300, 6, 6, 2, 2);
  FlowTally tally = jm::tally_flows(cpu(), some, options);
  EXPECT_THROW(jm::add_flow_tally(tally, jm::tally_flows(cpu(), other, options, &tally.funnel.steps), -1), jm::Error);
  FlowTally shorter = jm::tally_flows(cpu(), some, options);
  FlowOptions three_steps;
  three_steps.max_steps = 3;
  EXPECT_THROW(jm::add_flow_tally(shorter, jm::tally_flows(cpu(), other, three_steps, &shorter.funnel.steps), +1),
               jm::Error);
}

TEST(FlowTally, StoredTallyReadsBackUnchangedAndDamageIsRefusedByName) {
  const auto dir = jm::testing::scratch_dir();
  const JourneySet js = random_journeys(12, 2000, 9, 9, 3, 3);
  FlowOptions options;
  options.collapse_repeats = true;
  options.funnel = {"tp0", "tp1", "tp2"};
  const FlowTally tally = jm::tally_flows(cpu(), js, options);
  ASSERT_FALSE(tally.funnel.gaps_ms[1].empty());
  const std::string path = (dir / "tally.h5").string();
  {
    jm::ResultWriter writer(path);
    jm::write_flow_tally(writer, tally);
    writer.commit();
  }
  const jm::ResultReader reader(path);
  expect_same_tally(jm::read_flow_tally(reader, path, 9, 3, js.size(), js.touchpoint.size()), tally);
  try {
    jm::read_flow_tally(reader, path, 10, 3, js.size(), js.touchpoint.size());
    ADD_FAILURE() << "a tally of another vocabulary was accepted";
  } catch (const jm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/flows/tally/shape"), std::string::npos) << e.what();
  }

  // Damaged or hostile tallies: each refused, naming the dataset.
  struct Damage {
    std::string name, dataset;
    void (*apply)(FlowTally&);
  };
  const std::vector<Damage> damages = {
      {"a touchpoint the vocabulary does not have", "variant_touchpoints",
       [](FlowTally& t) { t.variants.touchpoints[0] = 99; }},
      {"a 40-step funnel", "funnel_steps", [](FlowTally& t) {
         t.funnel.steps.assign(40, 0);
         t.funnel.reached.assign(40, 0);
         t.funnel.converted.assign(40, 0);
         t.funnel.reached_by_channel.assign(3 * 40, 0);
         t.funnel.gaps_ms.assign(40, {});
       }},
      {"a link at the last step going on to a touchpoint", "link_to",
       [](FlowTally& t) { t.links.push_back(jm::StepLink{t.max_steps - 1, 8, 8, 1}); }},
      {"a count beyond the journeys' events", "heat_visits", [](FlowTally& t) { t.heat_visits[0] = INT64_MAX / 2; }},
      {"a funnel time too many", "funnel_gaps_ms", [](FlowTally& t) { t.funnel.gaps_ms[1].push_back(INT64_MAX); }},
      {"variants that are not the journeys", "variant_journeys", [](FlowTally& t) { t.variants.journeys[0] += 1; }},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    FlowTally damaged = tally;
    damage.apply(damaged);
    const std::string bad = (dir / "damaged.h5").string();
    {
      jm::ResultWriter writer(bad);
      jm::write_flow_tally(writer, damaged);
      writer.commit();
    }
    const jm::ResultReader bad_reader(bad);
    try {
      jm::read_flow_tally(bad_reader, bad, 9, 3, js.size(), js.touchpoint.size());
      ADD_FAILURE() << "a damaged tally was accepted";
    } catch (const jm::Error& e) {
      EXPECT_NE(std::string(e.what()).find("/flows/tally/" + damage.dataset), std::string::npos) << e.what();
    }
  }
}

TEST(FlowTally, UpdateRecountsAMovedDerivedFunnelAndSaysSo) {
  // The base converts best along tp0 > tp1; the added journeys make tp3 > tp2 > tp4 the variant
  // with most conversions, so the derived funnel moves.
  const JourneySet base = random_journeys(13, 600, 6, 6, 2, 2, 4);
  JourneySet added = random_journeys(14, 0, 6, 6, 2, 2);
  for (int k = 0; k < 400; ++k) {
    for (int32_t t : {3, 2, 4}) {
      added.touchpoint.push_back(t);
      added.channel.push_back(1);
      added.timestamp_ms.push_back(1'800'000'000'000 + k * 10000 + t);
      added.value.push_back(0.0f);
    }
    added.offsets.push_back(static_cast<int64_t>(added.touchpoint.size()));
    added.customer.push_back(0);
    added.converted.push_back(1);
    added.conversion_value.push_back(0.0f);
    added.start_ms.push_back(1'800'000'000'000 + k * 10000);
    added.end_ms.push_back(1'800'000'000'000 + k * 10000 + 4);
  }
  const JourneySet removed = random_journeys(15, 0, 6, 6, 2, 2);
  const JourneySet merged = concatenated(base, added);
  const FlowOptions options;
  const FlowTally base_tally = jm::tally_flows(cpu(), base, options);
  ASSERT_NE(base_tally.funnel.steps, (std::vector<int32_t>{3, 2, 4}));

  FlowTally updated;
  std::vector<std::string> notes;
  const FlowResult flows =
      jm::update_flows(cpu(), base_tally, removed, added, merged, options, {}, 0, &updated, &notes);
  EXPECT_EQ(flows.funnel.steps, (std::vector<int32_t>{3, 2, 4}));
  expect_same_flows(flows, jm::compute_flows(cpu(), merged, options));
  expect_same_tally(updated, jm::tally_flows(cpu(), merged, options));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("the derived funnel changed"), std::string::npos) << notes[0];

  // A funnel that stays (named in the options) is updated with the rest: nothing counted again.
  FlowOptions named = options;
  named.funnel = {"tp0", "tp1"};
  const FlowTally named_base = jm::tally_flows(cpu(), base, named);
  notes.clear();
  const FlowResult kept = jm::update_flows(cpu(), named_base, removed, added, merged, named, {}, 0, nullptr, &notes);
  expect_same_flows(kept, jm::compute_flows(cpu(), merged, named));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("not counted again"), std::string::npos) << notes[0];

  // With segments, the funnel's breakdown by segment is counted again, and said so.
  std::vector<int32_t> segment(static_cast<size_t>(merged.size()));
  for (size_t j = 0; j < segment.size(); ++j) segment[j] = static_cast<int32_t>(j % 3);
  notes.clear();
  const FlowResult by_segment =
      jm::update_flows(cpu(), named_base, removed, added, merged, named, segment, 3, nullptr, &notes);
  expect_same_flows(by_segment, jm::compute_flows(cpu(), merged, named, segment, 3));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("breakdown by segment was counted again"), std::string::npos) << notes[0];
}

}  // namespace
