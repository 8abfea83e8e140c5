// The outcome cut and labels: hand-made logs with the expected journeys written out, a brute-force
// reference on random logs, label files, window rules, case attributes and every bad input the
// outcome definition can meet.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "journeymap/case_attributes.hpp"
#include "journeymap/common.hpp"
#include "journeymap/outcome.hpp"
#include "test_helpers.hpp"

namespace {

struct Row {
  std::string customer;
  int64_t ms;
  std::string touchpoint;
  float value = 0.0f;
};

jm::EventTable table_of(const std::vector<Row>& rows) {
  jm::EventTable events;
  for (const Row& r : rows)
    events.push_back(static_cast<uint32_t>(events.customers.encode(r.customer)), r.ms, events.touchpoints.encode(r.touchpoint),
                     events.channels.encode("web"), r.value, false);
  return events;
}

// Each journey as "customer:tp,tp,...=label".
std::vector<std::string> describe(const jm::JourneySet& js) {
  std::vector<std::string> out;
  for (int64_t j = 0; j < js.size(); ++j) {
    std::string text = js.customers.name(static_cast<int32_t>(js.customer[j])) + ":";
    for (int64_t e = js.offsets[j]; e < js.offsets[j + 1]; ++e)
      text += (e > js.offsets[j] ? "," : "") + js.touchpoints.name(js.touchpoint[e]);
    out.push_back(text + "=" + js.outcome_name(j));
  }
  return out;
}

jm::OutcomeJourneys build(std::vector<Row> rows, const jm::OutcomeDefinition& outcome,
                          const jm::JourneyOptions& options = jm::JourneyOptions{}) {
  jm::EventTable events = table_of(rows);
  jm::Context ctx;
  ctx.num_threads = 2;
  return jm::build_outcome_journeys(ctx, events, options, outcome);
}

jm::OutcomeDefinition loan_outcomes() {
  jm::OutcomeDefinition outcome;
  outcome.events = {{"approve", "approved"}, {"decline", "declined"}};
  outcome.positive = "approved";
  return outcome;
}

TEST(Outcome, CutsBeforeTheOutcomeAndEverythingLoggedWithIt) {
  const jm::OutcomeJourneys built = build(
      {
          // Case 1: "accept" logged 5 ms before the approval (arbitrary order in the log): cut too;
          // "register" 8 ms after it: cut; "activate" 3 s after: a new journey of the case.
          {"1", 0, "submit"},
          {"1", 60000, "check"},
          {"1", 119995, "accept"},
          {"1", 120000, "approve"},
          {"1", 120008, "register"},
          {"1", 123000, "activate"},
          // Case 2: declined, the decline exactly 1 s after "check": within the tolerance, cut.
          {"2", 0, "submit"},
          {"2", 1000, "check"},
          {"2", 2000, "decline"},
          // Case 3: no outcome yet.
          {"3", 0, "submit"},
          // Case 4: its first event is the outcome: no journey.
          {"4", 0, "approve"},
      },
      loan_outcomes());
  EXPECT_EQ(describe(built.journeys),
            (std::vector<std::string>{"1:submit,check=approved", "1:activate=none", "2:submit=declined", "3:submit=none"}));
  EXPECT_EQ(built.journeys.converted, (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(built.journeys.outcome_ms[0], 120000);
  EXPECT_EQ(built.stats.outcome_events, 3);
  EXPECT_EQ(built.stats.same_instant_events, 3);  // accept, register, check of case 2
  EXPECT_EQ(built.stats.journeys_without_events, 1);
  for (int64_t j = 0; j < built.journeys.size(); ++j)
    if (built.journeys.outcome_ms[j] != 0) EXPECT_LT(built.journeys.end_ms[j], built.journeys.outcome_ms[j] - 1000);
  ASSERT_FALSE(built.stats.same_instant_touchpoints.empty());
  const auto warnings = jm::outcome_warnings(built.stats, loan_outcomes());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("3 events were logged within 1 s"), std::string::npos) << warnings[0];
}

TEST(Outcome, AfterEndDropsTheRestOfTheCase) {
  jm::OutcomeDefinition outcome = loan_outcomes();
  outcome.after = jm::AfterOutcome::End;
  outcome.same_instant_seconds = 0;
  const jm::OutcomeJourneys built =
      build({{"1", 0, "submit"}, {"1", 10, "approve"}, {"1", 5000, "activate"}, {"1", 9000, "decline"}}, outcome);
  EXPECT_EQ(describe(built.journeys), (std::vector<std::string>{"1:submit=approved"}));
  EXPECT_EQ(built.stats.events_after_outcome, 2);
}

TEST(Outcome, SessionGapAndFlagColumnStillApply) {
  // No outcome events configured: the CSV flag column (is_conversion = 1) marks "converted".
  jm::EventTable events = table_of({{"a", 0, "home"}, {"a", 1000, "cart"}, {"a", 2000, "buy"}, {"a", 100000000, "home"}});
  events.is_conversion[2] = 1;
  jm::JourneyOptions options;
  options.session_gap_seconds = 3600;
  jm::Context ctx;
  const jm::OutcomeJourneys built = jm::build_outcome_journeys(ctx, events, options, jm::OutcomeDefinition{});
  // "cart" at 1 s before the purchase is logged with it (tolerance 1 s, inclusive).
  EXPECT_EQ(describe(built.journeys), (std::vector<std::string>{"a:home=converted", "a:home=none"}));
}

// Brute force: per customer, time order; the cut as the definition states it.
std::vector<std::string> reference(const std::vector<Row>& rows, int64_t tolerance_ms) {
  std::map<std::string, std::vector<Row>> by_customer;
  for (const Row& r : rows) by_customer[r.customer].push_back(r);
  std::vector<std::string> out;
  // Customers in first-appearance order (the dense id order).
  std::vector<std::string> order;
  for (const Row& r : rows)
    if (std::find(order.begin(), order.end(), r.customer) == order.end()) order.push_back(r.customer);
  for (const std::string& customer : order) {
    std::vector<Row> events = by_customer[customer];
    std::stable_sort(events.begin(), events.end(), [](const Row& a, const Row& b) { return a.ms < b.ms; });
    std::vector<Row> current;
    int64_t last_outcome = std::numeric_limits<int64_t>::min() / 2;
    bool had_outcome = false;
    auto flush = [&](const std::string& label, int64_t outcome_ms) {
      std::vector<Row> kept;
      for (const Row& r : current)
        if ((!had_outcome || r.ms - last_outcome > tolerance_ms) && (label == "none" || outcome_ms - r.ms > tolerance_ms))
          kept.push_back(r);
      if (!kept.empty()) {
        std::string text = customer + ":";
        for (size_t k = 0; k < kept.size(); ++k) text += (k ? "," : "") + kept[k].touchpoint;
        out.push_back(text + "=" + label);
      }
      current.clear();
    };
    for (const Row& r : events) {
      if (r.touchpoint == "buy") {
        flush("converted", r.ms);
        had_outcome = true;
        last_outcome = r.ms;
      } else {
        current.push_back(r);
      }
    }
    flush("none", 0);
  }
  return out;
}

TEST(Outcome, EqualsABruteForceReferenceOnRandomLogs) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<Row> rows;
    for (int i = 0; i < 200; ++i) {
      const std::string touchpoint = rng() % 5 == 0 ? "buy" : "t" + std::to_string(rng() % 4);
      rows.push_back({"c" + std::to_string(rng() % 7), static_cast<int64_t>(rng() % 40) * 400, touchpoint});
    }
    jm::OutcomeDefinition outcome;
    outcome.events = {{"buy", "converted"}};
    const int64_t tolerance_ms = static_cast<int64_t>(seed % 3) * 500;
    outcome.same_instant_seconds = static_cast<double>(tolerance_ms) / 1000.0;
    const jm::OutcomeJourneys built = build(rows, outcome);
    jm::check_journey_set(built.journeys);
    EXPECT_EQ(describe(built.journeys), reference(rows, tolerance_ms)) << "seed " << seed;
  }
}

TEST(Outcome, LabelFileOverridesAndCountsUnknownIds) {
  const auto dir = jm::testing::scratch_dir();
  jm::OutcomeDefinition outcome;
  outcome.events = {{"approve", "approved"}};
  outcome.positive = "approved";
  outcome.label_file = jm::testing::write_file(dir / "labels.csv", "case,label,value\n1,declined,\n3,approved,250\n99,approved,\n");
  const jm::OutcomeJourneys built =
      build({{"1", 0, "submit"}, {"1", 5000, "approve"}, {"2", 0, "submit"}, {"3", 0, "submit"}}, outcome);
  EXPECT_EQ(describe(built.journeys),
            (std::vector<std::string>{"1:submit=declined", "2:submit=none", "3:submit=approved"}));
  EXPECT_EQ(built.journeys.conversion_value[2], 250.0f);
  EXPECT_EQ(built.stats.label_file_unmatched, 1);
  EXPECT_EQ(built.stats.journeys_labelled_by_file, 2);
  const auto warnings = jm::outcome_warnings(built.stats, outcome);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("1 of the 3 ids"), std::string::npos) << warnings[0];

  outcome.label_file_only = true;
  const jm::OutcomeJourneys only =
      build({{"1", 0, "submit"}, {"1", 5000, "approve"}, {"2", 0, "submit"}, {"3", 0, "submit"}}, outcome);
  EXPECT_EQ(describe(only.journeys), (std::vector<std::string>{"1:submit=declined", "3:submit=approved"}));
  EXPECT_EQ(only.stats.journeys_unlabelled, 1);
}

TEST(Outcome, WindowRuleLabelsWithinTheHorizonAndLeavesRecentJourneysOpen) {
  jm::OutcomeDefinition outcome;
  outcome.events = {{"buy", "converted"}};
  outcome.window_days = 1;
  const int64_t day = 86400000;
  const jm::OutcomeJourneys built = build(
      {
          {"a", 0, "home"}, {"a", day / 2, "buy"},                           // within a day: converted
          {"b", 0, "home"}, {"b", day / 2, "cart"}, {"b", 2 * day, "buy"},   // too late: none, cut at the horizon
          {"c", 9 * day + day / 2, "home"}, {"d", 0, "home"}, {"d", 10 * day, "home"},  // c: horizon past the data: open
      },
      outcome);
  EXPECT_EQ(describe(built.journeys), (std::vector<std::string>{"a:home=converted", "b:home,cart=none", "c:home=open",
                                                                "d:home=none"}));
  EXPECT_EQ(built.journeys.converted, (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(built.stats.events_after_window, 1);  // d's second event, 10 days in
}

TEST(Outcome, BadDefinitionsAndLabelFilesGiveClearErrors) {
  const auto dir = jm::testing::scratch_dir();
  // An outcome touchpoint that is not in the data: the closest names are offered.
  jm::OutcomeDefinition outcome;
  outcome.events = {{"A_APROVED", "approved"}};
  outcome.positive = "approved";
  try {
    build({{"1", 0, "A_APPROVED"}, {"1", 10, "A_SUBMITTED"}}, outcome);
    FAIL() << "expected ConfigError";
  } catch (const jm::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("closest names: 'A_APPROVED'"), std::string::npos) << error.what();
  }
  // A positive label nothing gives.
  jm::OutcomeDefinition unknown_positive;
  unknown_positive.events = {{"buy", "purchased"}};
  unknown_positive.positive = "won";
  EXPECT_THROW(build({{"1", 0, "buy"}}, unknown_positive), jm::ConfigError);
  jm::OutcomeDefinition only_without_file;
  only_without_file.label_file_only = true;
  EXPECT_THROW(jm::validate(only_without_file), jm::ConfigError);
  // Negative or NaN windows and tolerances.
  for (double bad : {-1.0, std::nan("")}) {
    jm::OutcomeDefinition window;
    window.window_days = bad;
    EXPECT_THROW(jm::validate(window), jm::ConfigError);
    jm::OutcomeDefinition tolerance;
    tolerance.same_instant_seconds = bad;
    EXPECT_THROW(jm::validate(tolerance), jm::ConfigError);
  }
  // A label file naming an id twice: the error names the file, the line and the first line.
  jm::OutcomeDefinition twice;
  twice.label_file = jm::testing::write_file(dir / "twice.csv", "id,label\n1,converted\n2,converted\n1,none2\n");
  try {
    build({{"1", 0, "home"}, {"2", 0, "home"}}, twice);
    FAIL() << "expected InputError";
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.line(), 4);
    EXPECT_NE(std::string(error.what()).find("first on line 2"), std::string::npos) << error.what();
  }
  // Scoring journeys in flight: a file may hold no outcome event yet, which is not an error there.
  jm::EventTable open_events = table_of({{"1", 0, "A_SUBMITTED"}});
  jm::Context ctx;
  const jm::OutcomeJourneys open = jm::build_outcome_journeys(ctx, open_events, jm::JourneyOptions{}, outcome,
                                                              /*require_touchpoints=*/false);
  EXPECT_EQ(describe(open.journeys), (std::vector<std::string>{"1:A_SUBMITTED=none"}));
  jm::OutcomeDefinition missing;
  missing.label_file = (dir / "does_not_exist.csv").string();
  EXPECT_THROW(build({{"1", 0, "home"}}, missing), jm::InputError);
}

TEST(Outcome, JourneyRuleSentenceStatesTheDefinition) {
  jm::JourneyOptions options;
  options.session_gap_seconds = 1800;
  jm::OutcomeDefinition outcome = loan_outcomes();
  outcome.after = jm::AfterOutcome::End;
  const std::string sentence = jm::describe_journey_rule(options, outcome);
  EXPECT_NE(sentence.find("split after 30 min without activity"), std::string::npos) << sentence;
  EXPECT_NE(sentence.find("approve -> approved, decline -> declined"), std::string::npos) << sentence;
  EXPECT_NE(sentence.find("within 1 s of it"), std::string::npos) << sentence;
  EXPECT_NE(sentence.find("later events are dropped"), std::string::npos) << sentence;
  EXPECT_NE(sentence.find("The model predicts 'approved'"), std::string::npos) << sentence;
}

TEST(CaseAttributes, NumericAndCategoricalColumnsByCustomer) {
  const auto dir = jm::testing::scratch_dir();
  jm::Vocabulary customers;
  for (const char* c : {"a", "b", "c"}) customers.encode(c);
  jm::CaseAttributeStats stats;
  const std::string path =
      jm::testing::write_file(dir / "cases.csv", "id,amount,plan\nb,2500,gold\na,,basic\nzz,1,gold\nc,7.5,gold\n");
  const jm::CaseAttributes attributes = jm::read_case_attributes(path, customers, &stats);
  EXPECT_EQ(attributes.names, (std::vector<std::string>{"amount", "plan"}));
  EXPECT_EQ(attributes.categorical, (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(attributes.categories[1], (std::vector<std::string>{"gold", "basic"}));  // by frequency
  EXPECT_TRUE(std::isnan(attributes.at(0, 0)));
  EXPECT_EQ(attributes.at(1, 0), 2500.0f);
  EXPECT_EQ(attributes.at(2, 0), 7.5f);
  EXPECT_EQ(attributes.at(0, 1), 1.0f);  // basic
  EXPECT_EQ(attributes.at(1, 1), 0.0f);  // gold
  EXPECT_EQ(stats.unmatched, 1);
  const std::string twice = jm::testing::write_file(dir / "cases_twice.csv", "id,amount\na,1\na,2\n");
  try {
    jm::read_case_attributes(twice, customers);
    FAIL() << "expected InputError";
  } catch (const jm::InputError& error) {
    EXPECT_EQ(error.line(), 3);
  }
  const std::string ragged = jm::testing::write_file(dir / "cases_ragged.csv", "id,amount\na,1,2\n");
  EXPECT_THROW(jm::read_case_attributes(ragged, customers), jm::InputError);
}

}  // namespace
