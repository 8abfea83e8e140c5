// Proposed experiments: friction points of the map (funnel steps that lose journeys, touchpoints
// where journeys are abandoned) ranked by the conversions a modest improvement would add per day,
// each with the sample size and the duration an A/B test needs to detect that improvement.
//
//   jm::ProposalResult ideas = jm::propose_experiments(journeys, flows.funnel, jm::ProposalOptions{});
//   ideas.proposals[0].hypothesis   // "Raise the step rate from checkout to purchase ..."
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/flows.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

struct JourneyAnomalies;  // anomalies.hpp

struct ProposalOptions {
  /// The improvement each test should be able to detect: the share of journeys lost, cut by this
  /// much relative (0.05: 60% of journeys not going on to the next funnel step become 57%, so the
  /// step rate goes from 40% to 43%; an abandonment rate of 30% becomes 28.5%).
  double minimum_detectable_effect = 0.05;
  double alpha = 0.05;  ///< two-sided
  double power = 0.8;
  int max_proposals = 10;
  int64_t min_journeys = 100;  ///< friction points seen by fewer journeys are not proposed
};

struct Proposal {
  std::string kind;        ///< "funnel step" or "abandonment"
  std::string hypothesis;  ///< one sentence
  std::string from, to;    ///< the funnel step pair, or the touchpoint (to = "")
  double baseline_rate = 0.0;  ///< the step rate (journeys going on), or the abandonment rate at the touchpoint
  double target_rate = 0.0;    ///< after the minimum detectable effect
  double journeys_per_day = 0.0;  ///< journeys the test would see (entering the step, visiting the touchpoint)
  /// Conversions a day the improvement would add: the journeys it keeps going times how often such
  /// journeys convert. An estimate from observed rates, not a causal effect.
  double extra_conversions_per_day = 0.0;
  int64_t sample_size_per_arm = 0;  ///< journeys per arm (Cohen's h, normal approximation)
  double days_needed = 0.0;         ///< both arms, at `journeys_per_day`
};

struct ProposalResult {
  ProposalOptions options;
  double data_days = 0.0;  ///< days the journeys span (the per-day rates divide by it)
  std::vector<Proposal> proposals;  ///< most extra conversions per day first
};

/// Throws ConfigError naming the option that is out of range.
void validate(const ProposalOptions& options);

/// Journeys per arm to detect `baseline` -> `target` in a two-sided test of two proportions with
/// equal arms: 2 ((z_{1-alpha/2} + z_{power}) / h)^2, h = Cohen's effect size 2 asin(sqrt(p1)) -
/// 2 asin(sqrt(p0)); statsmodels' NormalIndPower with proportion_effectsize, rounded up (it also
/// counts the far tail, which changes nothing at these sizes).
int64_t sample_size_per_arm(double baseline, double target, double alpha, double power);

/// Ranks the friction points of `journeys`, with `funnel` the flows stage's funnel (empty: only
/// abandonment points). Throws ConfigError on options out of range.
ProposalResult propose_experiments(const JourneySet& journeys, const FunnelResult& funnel, const ProposalOptions& options);

/// propose_experiments over journeys that come in batches (a run under a memory budget): the
/// period and each touchpoint's visits, abandonments and continuations, summed batch by batch.
class RecordReader;
class RecordWriter;

class ProposalTally {
 public:
  void add(const JourneySet& journeys);
  /// The tally as records, and adding a saved tally of other journeys to this one: how the
  /// processes of a run sum theirs.
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);
  /// The proposals of every journey added, with `funnel` the flows stage's funnel.
  ProposalResult finish(const Vocabulary& touchpoints, const FunnelResult& funnel, const ProposalOptions& options) const;

 private:
  int64_t journeys_ = 0;
  int64_t first_ms_ = 0, last_ms_ = 0;
  std::vector<int64_t> visits_, abandoned_, continued_, continued_converted_;  ///< per touchpoint
};

/// Adds the anomaly clusters that convert worse than ordinary journeys: flagged journeys grouped by
/// the feature that carries most of their reconstruction error and its direction (kind "anomaly
/// cluster", `from` the feature, `to` "above" or "below"; rates are the share not converting), then
/// ranks everything again and keeps options.max_proposals. `converted`: 1 for each converted
/// journey, in the anomalies' journey order.
void add_anomaly_cluster_proposals(ProposalResult& result, const std::vector<uint8_t>& converted,
                                   const JourneyAnomalies& anomalies, const ProposalOptions& options);

/// Fills a proposal's test: journeys a day, sample size per arm and days for both arms.
void size_proposal_test(Proposal& proposal, double journeys_per_day, const ProposalOptions& options);

/// Most extra conversions a day first (stable), at most options.max_proposals.
void rank_proposals(std::vector<Proposal>& proposals, const ProposalOptions& options);

class ResultWriter;

/// /proposals: see docs/experiments.md.
void write_proposal_results(ResultWriter& writer, const ProposalResult& result);

/// Block for the run summary: the top proposals.
std::string format_proposal_summary(const ProposalResult& result);

}  // namespace jm
