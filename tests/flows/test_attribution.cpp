// Attribution: the Markov removal effect against a published worked example and hand-computed
// chains, the exactness property of full-order chains, and the heuristic models on a hand example.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "host/flows/attribution_tally.hpp"
#include "journeymap/attribution.hpp"
#include "journeymap/common.hpp"

namespace {

// Absorption probabilities come from a direct linear solve (or Gauss-Seidel to 1e-15), so results
// agree with the exact rationals to rounding: 1e-12 leaves room for a few hundred operations.
constexpr double kTolerance = 1e-12;

struct Paths {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> ids;
  std::vector<uint8_t> converted;
  void add(std::vector<int32_t> path, bool conv) {
    ids.insert(ids.end(), path.begin(), path.end());
    offsets.push_back(static_cast<int64_t>(ids.size()));
    converted.push_back(conv);
  }
};

jm::Context cpu(int threads = 2) {
  jm::Context ctx;
  ctx.num_threads = threads;
  return ctx;
}

TEST(MarkovAttribution, PublishedThreePathExample) {
  // The worked example of the removal-effect method in S. Bryl, "Marketing Multi-Channel
  // Attribution model with R (part 1: Markov chains concept)", analyzecore.com, 2016 (also used in
  // the ChannelAttribution package material):
  //   C1 > C2 > C3 > conversion,   C1 > null,   C2 > C3 > null.
  // P(conversion) = 2/3 * 1/2 * 1 * 1/2 + 1/3 * 1 * 1/2 = 1/3. Removing C1 leaves 1/6 (removal
  // effect 0.5); removing C2 or C3 leaves 0 (effect 1). Normalised: C1 0.2, C2 0.4, C3 0.4 of the
  // single conversion.
  Paths p;
  p.add({0, 1, 2}, true);
  p.add({0}, false);
  p.add({1, 2}, false);
  const auto m = jm::markov_attribution(cpu(), p.offsets, p.ids, p.converted, 3);
  EXPECT_NEAR(m.conversion_probability, 1.0 / 3.0, kTolerance);
  EXPECT_NEAR(m.removal_effect[0], 0.5, kTolerance);
  EXPECT_NEAR(m.removal_effect[1], 1.0, kTolerance);
  EXPECT_NEAR(m.removal_effect[2], 1.0, kTolerance);
  EXPECT_NEAR(m.credit[0], 0.2, kTolerance);
  EXPECT_NEAR(m.credit[1], 0.4, kTolerance);
  EXPECT_NEAR(m.credit[2], 0.4, kTolerance);
}

TEST(MarkovAttribution, HandComputedChainWithSelfLoop) {
  // A > conv;  A > A > B > conv;  B > null.
  // P(A->conv) = P(A->A) = P(A->B) = 1/3, P(B->conv) = 1/2, start: A 2/3, B 1/3.
  // v(B) = 1/2;  v(A) = 1/3 + v(A)/3 + 1/6  =>  v(A) = 3/4;  P = 2/3 * 3/4 + 1/3 * 1/2 = 2/3.
  // Without A: P = 1/3 * 1/2 = 1/6, effect 3/4.  Without B: v(A) = 1/2, P = 1/3, effect 1/2.
  // Two conversions split 3/4 : 1/2  =>  A 1.2, B 0.8.
  Paths p;
  p.add({0}, true);
  p.add({0, 0, 1}, true);
  p.add({1}, false);
  const auto m = jm::markov_attribution(cpu(), p.offsets, p.ids, p.converted, 2);
  EXPECT_NEAR(m.conversion_probability, 2.0 / 3.0, kTolerance);
  EXPECT_NEAR(m.removal_effect[0], 0.75, kTolerance);
  EXPECT_NEAR(m.removal_effect[1], 0.5, kTolerance);
  EXPECT_NEAR(m.credit[0], 1.2, kTolerance);
  EXPECT_NEAR(m.credit[1], 0.8, kTolerance);
}

TEST(MarkovAttribution, SecondOrderSeparatesWhatFirstOrderMixes) {
  // A > B > conv;  C > B > null.  First order: B converts half the time whoever came before, so A
  // and C look alike (effects 1/2 each).  Second order remembers (A, B) vs (C, B): C's effect is 0.
  Paths p;
  p.add({0, 1}, true);
  p.add({2, 1}, false);
  const auto first = jm::markov_attribution(cpu(), p.offsets, p.ids, p.converted, 3, 1);
  EXPECT_NEAR(first.removal_effect[0], 0.5, kTolerance);
  EXPECT_NEAR(first.removal_effect[2], 0.5, kTolerance);
  EXPECT_NEAR(first.removal_effect[1], 1.0, kTolerance);
  const auto second = jm::markov_attribution(cpu(), p.offsets, p.ids, p.converted, 3, 2);
  EXPECT_NEAR(second.conversion_probability, 0.5, kTolerance);
  EXPECT_NEAR(second.removal_effect[0], 1.0, kTolerance);
  EXPECT_NEAR(second.removal_effect[1], 1.0, kTolerance);
  EXPECT_NEAR(second.removal_effect[2], 0.0, kTolerance);
  EXPECT_NEAR(second.credit[0], 0.5, kTolerance);
  EXPECT_NEAR(second.credit[2], 0.0, kTolerance);
}

// With order >= the longest path, states are whole path prefixes and the chain is a tree, so
// P(conversion) is exactly the observed conversion rate and removing c leaves exactly the
// conversions of paths without c. Large enough to use the iterative solver, small for the dense one.
void expect_full_order_chain_is_exact(int n_paths, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int n_ids = 10;
  Paths p;
  for (int k = 0; k < n_paths; ++k) {
    std::vector<int32_t> path(1 + rng() % 4);
    for (auto& id : path) id = static_cast<int32_t>(rng() % n_ids);
    p.add(path, rng() % 3 == 0);
  }
  const auto m = jm::markov_attribution(cpu(3), p.offsets, p.ids, p.converted, n_ids, 4);
  const double conversions = std::accumulate(p.converted.begin(), p.converted.end(), 0.0);
  EXPECT_NEAR(m.conversion_probability, conversions / n_paths, kTolerance);
  for (int c = 0; c < n_ids; ++c) {
    double kept = 0.0;
    bool present = false;
    for (int k = 0; k < n_paths; ++k) {
      bool has = false;
      for (int64_t e = p.offsets[k]; e < p.offsets[k + 1]; ++e) has |= p.ids[e] == c;
      present |= has;
      if (!has) kept += p.converted[k];
    }
    if (present && conversions > 0) EXPECT_NEAR(m.removal_effect[c], 1.0 - kept / conversions, 1e-10) << "id " << c;
  }
}

TEST(MarkovAttribution, FullOrderChainIsExactDenseSolve) { expect_full_order_chain_is_exact(40, 3); }
TEST(MarkovAttribution, FullOrderChainIsExactIterativeSolve) { expect_full_order_chain_is_exact(3000, 4); }

TEST(MarkovAttribution, BadInputIsConfigError) {
  Paths p;
  p.add({0, 5}, true);
  EXPECT_THROW(jm::markov_attribution(cpu(), p.offsets, p.ids, p.converted, 3), jm::ConfigError);
  EXPECT_THROW(jm::markov_attribution(cpu(), p.offsets, p.ids, p.converted, 6, 0), jm::ConfigError);
  EXPECT_THROW(jm::markov_attribution(cpu(), {0, 1}, p.ids, p.converted, 6), jm::ConfigError);
}

// ---------------------------------------------------------------- heuristic models on journeys
jm::JourneySet hand_journeys() {
  // Journeys as the outcome cut leaves them: the purchase is the outcome, not an event.
  // j0: x(day 0, web) > y(day 7, email) > z(day 14 - 2 s, web), purchase at day 14   converted
  // j1: y(day 0, email), purchase at day 1                                          converted
  // j2: x > z                                                                       not converted
  jm::JourneySet js;
  for (const char* t : {"x", "y", "z", "purchase"}) js.touchpoints.encode(t);
  js.channels.encode("web");
  js.channels.encode("email");
  js.customers.encode("c");
  const int64_t day = 86400000;
  js.offsets = {0, 3, 4, 6};
  js.touchpoint = {0, 1, 2, 1, 0, 2};
  js.channel = {0, 1, 0, 1, 0, 0};
  js.timestamp_ms = {0, 7 * day, 14 * day - 2000, 0, 0, day};
  js.value.assign(6, 0.0f);
  js.customer.assign(3, 0);
  js.converted = {1, 1, 0};
  js.conversion_value = {10.0f, 5.0f, 0.0f};
  js.start_ms = {0, 0, 0};
  js.end_ms = {14 * day - 2000, 0, day};
  js.outcome_labels.encode("none");
  js.outcome_labels.encode("converted");
  js.outcome = {1, 1, 0};
  js.outcome_ms = {14 * day, day, 0};
  return js;
}

TEST(Attribution, HeuristicModelsOnHandExample) {
  const jm::JourneySet js = hand_journeys();
  const auto a = jm::compute_attribution(cpu(), js, jm::AttributionOptions{});
  EXPECT_EQ(a.conversions, 2);
  EXPECT_EQ(a.conversions_attributed, 2);
  const auto& t = a.by_touchpoint;
  EXPECT_DOUBLE_EQ(t.first_touch[0], 1.0);
  EXPECT_DOUBLE_EQ(t.first_touch[1], 1.0);
  EXPECT_DOUBLE_EQ(t.last_touch[2], 1.0);
  EXPECT_DOUBLE_EQ(t.last_touch[1], 1.0);
  EXPECT_DOUBLE_EQ(t.linear[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(t.linear[1], 1.0 / 3 + 1.0);
  EXPECT_DOUBLE_EQ(t.linear[3], 0.0);  // the purchase event is the outcome, never a touch
  // Half-life 7 days: weights 1/4, 1/2, ~1 for touches 14, 7, 0 days (2 s) before the conversion.
  const double w2 = std::exp2(-2000.0 / (7 * 86400000.0));
  EXPECT_NEAR(t.time_decay[0], 0.25 / (1.75 - 1.0 + w2), 1e-12);
  EXPECT_NEAR(t.time_decay[1], 0.5 / (1.75 - 1.0 + w2) + 1.0, 1e-12);
  EXPECT_NEAR(t.time_decay[2], w2 / (1.75 - 1.0 + w2), 1e-12);
  EXPECT_NEAR(t.position_based[0], 0.4, 1e-12);
  EXPECT_NEAR(t.position_based[1], 0.2 + 1.0, 1e-12);
  EXPECT_NEAR(t.position_based[2], 0.4, 1e-12);
  // Channels: j0 touches web, email, web; j1 email.
  const auto& c = a.by_channel;
  EXPECT_DOUBLE_EQ(c.first_touch[0], 1.0);
  EXPECT_DOUBLE_EQ(c.last_touch[0], 1.0);
  EXPECT_NEAR(c.linear[0], 2.0 / 3, 1e-12);
  EXPECT_NEAR(c.linear[1], 1.0 / 3 + 1.0, 1e-12);
  // Every model hands out exactly the attributed conversions.
  for (const auto* table : {&a.by_touchpoint, &a.by_channel})
    for (const auto* column : {&table->first_touch, &table->last_touch, &table->linear, &table->time_decay,
                               &table->position_based, &table->markov})
      EXPECT_NEAR(std::accumulate(column->begin(), column->end(), 0.0), 2.0, 1e-9);
}

TEST(Attribution, MarkovColumnEqualsChainOfTouchPaths) {
  // The touchpoint Markov column is markov_attribution over the touches (purchase removed).
  const jm::JourneySet js = hand_journeys();
  jm::AttributionOptions options;
  options.markov_order = 2;
  const auto a = jm::compute_attribution(cpu(), js, options);
  Paths p;
  p.add({0, 1, 2}, true);
  p.add({1}, true);
  p.add({0, 2}, false);
  const auto m = jm::markov_attribution(cpu(), p.offsets, p.ids, p.converted, 4);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(a.by_touchpoint.markov[k], m.credit[k], kTolerance);
  EXPECT_EQ(a.by_touchpoint.markov_higher.size(), 4u);
}

// `n` random journeys of 1..6 touches over `touchpoints` touchpoints and 3 channels.
jm::JourneySet random_journeys(uint64_t seed, int n, int touchpoints = 7) {
  std::mt19937_64 rng(seed);
  jm::JourneySet js;
  for (int t = 0; t < touchpoints; ++t) js.touchpoints.encode("t" + std::to_string(t));
  for (int c = 0; c < 3; ++c) js.channels.encode("c" + std::to_string(c));
  js.customers.encode("c");
  js.offsets = {0};
  for (int j = 0; j < n; ++j) {
    const int length = 1 + rng() % 6;
    for (int i = 0; i < length; ++i) {
      js.touchpoint.push_back(rng() % touchpoints);
      js.channel.push_back(rng() % 3);
      js.timestamp_ms.push_back(i * 3600000LL);
      js.value.push_back(0.0f);
    }
    js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
    js.customer.push_back(0);
    js.converted.push_back(rng() % 4 == 0);
    js.conversion_value.push_back(0.0f);
    js.start_ms.push_back(0);
    js.end_ms.push_back((length - 1) * 3600000LL);
  }
  return js;
}

TEST(Attribution, ThreadCountDoesNotChangeCredits) {
  const jm::JourneySet js = random_journeys(8, 100000);
  const auto one = jm::compute_attribution(cpu(1), js, jm::AttributionOptions{});
  const auto four = jm::compute_attribution(cpu(4), js, jm::AttributionOptions{});
  EXPECT_EQ(one.by_channel.time_decay, four.by_channel.time_decay);  // bit-identical
  EXPECT_EQ(one.by_touchpoint.linear, four.by_touchpoint.linear);
  EXPECT_EQ(one.by_touchpoint.markov, four.by_touchpoint.markov);
}

TEST(MarkovAttribution, LargeVocabulariesCountSparselyWithTheSameResult) {
  // 60 touchpoints used out of 3,000 ids: counted in a hash map (memory follows the transitions),
  // the result equals the dense count of the same paths relabelled into 60 ids.
  std::mt19937_64 rng(12);
  Paths wide, compact;
  std::vector<int32_t> wide_id(60);
  for (int32_t k = 0; k < 60; ++k) wide_id[static_cast<size_t>(k)] = k * 50 + 7;
  for (int p = 0; p < 4000; ++p) {
    std::vector<int32_t> touches;
    const int length = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < length; ++e) touches.push_back(static_cast<int32_t>(rng() % 60));
    const bool converted = rng() % 3 == 0 || touches.back() < 5;
    compact.add(touches, converted);
    for (int32_t& t : touches) t = wide_id[static_cast<size_t>(t)];
    wide.add(touches, converted);
  }
  const auto sparse = jm::markov_attribution(cpu(), wide.offsets, wide.ids, wide.converted, 3000);
  const auto dense = jm::markov_attribution(cpu(), compact.offsets, compact.ids, compact.converted, 60);
  EXPECT_EQ(sparse.n_states, dense.n_states);
  EXPECT_DOUBLE_EQ(sparse.conversion_probability, dense.conversion_probability);
  for (int32_t k = 0; k < 60; ++k) {
    EXPECT_NEAR(sparse.credit[static_cast<size_t>(wide_id[static_cast<size_t>(k)])], dense.credit[static_cast<size_t>(k)], 1e-12);
    EXPECT_NEAR(sparse.removal_effect[static_cast<size_t>(wide_id[static_cast<size_t>(k)])], dense.removal_effect[static_cast<size_t>(k)],
                1e-12);
  }
}

TEST(Attribution, MarkovPoolsRareTouchpointsIntoOneState) {
  // 40 touchpoints with touches falling off by id; markov_max_ids = 11 keeps the 10 most touched as
  // states and pools the other 30. Expected: the chain over the relabelled paths, the pool's credit
  // split by touches, NaN removal effects for pooled ids, and the same total credit.
  std::mt19937_64 rng(21);
  jm::JourneySet js;
  for (int t = 0; t < 40; ++t) js.touchpoints.encode("t" + std::to_string(t));
  js.channels.encode("web");
  js.offsets = {0};
  for (int j = 0; j < 6000; ++j) {
    const int length = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < length; ++i) {
      const int32_t t = static_cast<int32_t>(std::min<uint64_t>(rng() % 40, rng() % 40));  // low ids more often
      js.touchpoint.push_back(t);
      js.channel.push_back(0);
      js.timestamp_ms.push_back(i * 60000LL);
      js.value.push_back(0.0f);
    }
    const bool converted = rng() % 3 == 0 || js.touchpoint.back() == 2;
    js.offsets.push_back(static_cast<int64_t>(js.touchpoint.size()));
    js.customer.push_back(static_cast<uint32_t>(js.customers.encode("c" + std::to_string(j))));
    js.converted.push_back(converted);
    js.conversion_value.push_back(0.0f);
    js.start_ms.push_back(0);
    js.end_ms.push_back((length - 1) * 60000LL);
  }
  std::vector<int64_t> touches(40, 0);
  for (int32_t t : js.touchpoint) ++touches[static_cast<size_t>(t)];
  std::vector<int32_t> by_touches(40);
  std::iota(by_touches.begin(), by_touches.end(), 0);
  std::stable_sort(by_touches.begin(), by_touches.end(), [&](int32_t a, int32_t b) { return touches[a] > touches[b]; });
  std::vector<int32_t> kept(by_touches.begin(), by_touches.begin() + 10);
  std::sort(kept.begin(), kept.end());
  std::vector<int32_t> state(40, 10);  // 10: the pool
  for (int32_t s = 0; s < 10; ++s) state[static_cast<size_t>(kept[static_cast<size_t>(s)])] = s;
  Paths relabelled;
  for (int64_t j = 0; j < js.size(); ++j) {
    std::vector<int32_t> states;
    for (int64_t e = js.offsets[j]; e < js.offsets[j + 1]; ++e) states.push_back(state[static_cast<size_t>(js.touchpoint[e])]);
    relabelled.add(states, js.converted[j] != 0);
  }

  jm::AttributionOptions options;
  options.markov_max_ids = 11;
  const auto a = jm::compute_attribution(cpu(), js, options);
  const auto chain = jm::markov_attribution(cpu(), relabelled.offsets, relabelled.ids, relabelled.converted, 11);
  const auto& table = a.by_touchpoint;
  ASSERT_EQ(table.markov_pooled.size(), 40u);
  int64_t pool_touches = 0;
  for (int t = 0; t < 40; ++t) pool_touches += state[static_cast<size_t>(t)] == 10 ? touches[static_cast<size_t>(t)] : 0;
  for (int t = 0; t < 40; ++t) {
    const size_t k = static_cast<size_t>(t);
    const int32_t s = state[k];
    EXPECT_EQ(table.markov_pooled[k], s == 10 ? 1 : 0) << t;
    if (s < 10) {
      EXPECT_NEAR(table.markov[k], chain.credit[static_cast<size_t>(s)], 1e-12) << t;
      EXPECT_NEAR(table.markov_removal_effect[k], chain.removal_effect[static_cast<size_t>(s)], 1e-12) << t;
    } else {
      EXPECT_NEAR(table.markov[k], chain.credit[10] * touches[k] / static_cast<double>(pool_touches), 1e-12) << t;
      EXPECT_TRUE(std::isnan(table.markov_removal_effect[k])) << t;
    }
  }
  EXPECT_NEAR(std::accumulate(table.markov.begin(), table.markov.end(), 0.0),
              std::accumulate(chain.credit.begin(), chain.credit.end(), 0.0), 1e-9);
  // Within the cap nothing is pooled.
  options.markov_max_ids = 40;
  EXPECT_TRUE(jm::compute_attribution(cpu(), js, options).by_touchpoint.markov_pooled.empty());
}

TEST(Attribution, BadOptionsAreConfigErrors) {
  const jm::JourneySet js = hand_journeys();
  jm::AttributionOptions options;
  options.time_decay_half_life_days = 0;
  EXPECT_THROW(jm::compute_attribution(cpu(), js, options), jm::ConfigError);
  options = {};
  options.position_first_share = 0.7;
  options.position_last_share = 0.7;
  EXPECT_THROW(jm::compute_attribution(cpu(), js, options), jm::ConfigError);
  options = {};
  options.markov_order = 5;
  EXPECT_THROW(jm::compute_attribution(cpu(), js, options), jm::ConfigError);
  options = {};
  options.markov_max_ids = 1;
  EXPECT_THROW(jm::compute_attribution(cpu(), js, options), jm::ConfigError);
}

// Batches of uneven sizes (inside one block of 32,768 journeys, across several, ending on a block's
// end) added in order give every column bit for bit, pooled Markov states and higher order included.
TEST(AttributionTally, BatchesAddedInOrderGiveTheAttributionOfAllJourneys) {
  const jm::JourneySet js = random_journeys(21, 140000, 40);
  jm::AttributionOptions options;
  options.markov_order = 2;
  options.markov_max_ids = 12;  // 40 touchpoints: the rare ones share a state
  const jm::AttributionResult all = jm::compute_attribution(cpu(2), js, options);
  ASSERT_FALSE(all.by_touchpoint.markov_pooled.empty());

  jm::AttributionTally tally(options, jm::count_touches(js.touchpoint, js.touchpoints.size()),
                             jm::count_touches(js.channel, js.channels.size()));
  int64_t first = 0;
  for (const int64_t size : {1000, 40000, 24536, 1, 32767, 41696}) {  // 65,536 and 98,304 are block ends
    std::vector<int64_t> rows(static_cast<size_t>(size));
    std::iota(rows.begin(), rows.end(), first);
    tally.add(cpu(2), jm::select_journeys(js, rows));
    first += size;
  }
  ASSERT_EQ(first, js.size());
  const jm::AttributionResult batched = tally.finish(cpu(2), js.touchpoints, js.channels);
  EXPECT_EQ(batched.conversions, all.conversions);
  EXPECT_EQ(batched.conversions_attributed, all.conversions_attributed);
  for (const auto& [a, b] : {std::make_pair(&all.by_touchpoint, &batched.by_touchpoint),
                             std::make_pair(&all.by_channel, &batched.by_channel)}) {
    EXPECT_EQ(a->first_touch, b->first_touch);
    EXPECT_EQ(a->linear, b->linear);
    EXPECT_EQ(a->time_decay, b->time_decay);
    EXPECT_EQ(a->position_based, b->position_based);
    EXPECT_EQ(a->markov, b->markov);
    EXPECT_EQ(a->markov_higher, b->markov_higher);
    EXPECT_EQ(a->markov_pooled, b->markov_pooled);
    EXPECT_EQ(a->markov_conversion_probability, b->markov_conversion_probability);
  }
}

}  // namespace
