// Experiment analysis: customers carry a variant (a custom dimension such as "variant=experiment_arm",
// docs/input.md), and each treatment is compared with the control on the customers' outcomes after
// their first exposure: conversion and value with fixed-horizon intervals, the CUPED adjustment by
// pre-exposure behaviour, always-valid intervals for results looked at every day, a
// sample-ratio-mismatch check, and effects per segment with a multiple-testing correction.
//
//   jm::ExperimentOptions options;  options.dimension = "variant";  options.control = "A";
//   jm::ExperimentResult result = jm::analyse_experiment(ctx, journeys, options, {});
//   result.comparisons[0].conversion.difference   // B's conversion rate minus A's
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/experiment_stats.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

/// `[experiment]` of the run configuration and the `experiment` command.
struct ExperimentOptions {
  std::string dimension;  ///< the dimension holding each customer's variant; empty: no experiment
  /// The control variant; empty: "control" or "A", whichever the data has.
  std::string control;
  /// Planned share of customers per variant, for the sample-ratio check; empty: equal shares.
  std::vector<std::pair<std::string, double>> allocation;
  /// Pre-exposure covariate of CUPED, per customer from the journeys that start before their first
  /// exposure: "conversions", "journeys", "events", "value", or "none".
  std::string covariate = "conversions";
  double alpha = 0.05;
  /// Mixing standard deviation of the always-valid test, on the scale of the difference in
  /// conversion rate (0.02 = two points): the size of effect the test is most sensitive to.
  double msprt_tau = 0.02;
  /// Effects per value of this dimension (or "case:<attribute>"), Benjamini-Hochberg adjusted;
  /// empty: none.
  std::string segment_by;
  int max_segments = 20;  ///< segment values compared (most customers first)
};

struct ExperimentVariant {
  std::string name;
  int64_t customers = 0;  ///< assigned to this variant only
  int64_t journeys = 0;   ///< their journeys from the first exposure on
  int64_t converted = 0;  ///< customers with a converted journey from the first exposure on
  experiment_stats::Moments value;  ///< conversion value per customer
  double covariate_mean = 0.0;      ///< mean pre-exposure covariate
  std::vector<int64_t> funnel_reached;  ///< [F] journeys reaching each funnel step in order
};

struct ExperimentComparison {
  std::string treatment;
  experiment_stats::Comparison conversion;  ///< per customer, fixed horizon (at the end of the data)
  experiment_stats::Comparison value;       ///< conversion value per customer (Welch)
  experiment_stats::Cuped cuped;            ///< conversion adjusted by the pre-exposure covariate
  /// Always-valid interval and p-value of the conversion difference over daily looks.
  double always_valid_low = 0.0, always_valid_high = 0.0, always_valid_p = 1.0;
  int64_t looks = 0;
};

struct ExperimentSegmentEffect {
  std::string segment;
  std::string treatment;
  int64_t control_customers = 0, treatment_customers = 0;
  experiment_stats::Comparison conversion;
  double q_value = 1.0;  ///< Benjamini-Hochberg over every (segment, treatment) pair
};

struct ExperimentResult {
  ExperimentOptions options;  ///< effective (control resolved)
  std::vector<ExperimentVariant> variants;           ///< the control first, then the others by name
  std::vector<ExperimentComparison> comparisons;     ///< each treatment against the control
  std::vector<double> expected_share;                ///< [V] planned shares (normalised)
  double sample_ratio_p = 1.0;
  bool sample_ratio_mismatch = false;                ///< p below 0.001: the split is not what was planned
  int64_t customers_in_several_variants = 0;         ///< excluded from every number
  std::vector<std::string> several_variant_examples;  ///< the first few of those customers
  int64_t first_exposure_ms = 0, last_event_ms = 0;
  std::vector<int64_t> day_start_ms;      ///< [D] daily looks (UTC days)
  std::vector<int64_t> daily_customers;   ///< [V x D] customers exposed by the end of each day
  std::vector<int64_t> daily_converted;   ///< [V x D] of those, converted by the end of that day
  std::vector<std::string> funnel;        ///< [F] funnel steps of `funnel_reached`
  std::vector<ExperimentSegmentEffect> segments;
};

/// Throws ConfigError naming the option that is out of range (an empty dimension is left to
/// analyse_experiment: a command may name it later).
void validate(const ExperimentOptions& options);

/// Assigns customers to variants from their journeys' values of `options.dimension` (a customer
/// with journeys in two variants is counted and left out) and compares every treatment with the
/// control. `funnel`: steps for the per-variant funnel (empty: none). Throws ConfigError when the
/// dimension is missing, the control is not a variant, there is only one variant, or an option is
/// out of range.
ExperimentResult analyse_experiment(const Context& ctx, const JourneySet& journeys, const ExperimentOptions& options,
                                    const std::vector<std::string>& funnel);

class ResultWriter;

/// /experiments: see docs/hdf5-schema.md.
void write_experiment_results(ResultWriter& writer, const ExperimentResult& result);

/// Block for the run summary.
std::string format_experiment_summary(const ExperimentResult& result);

/// Warnings: customers in several variants, a sample-ratio mismatch.
std::vector<std::string> experiment_warnings(const ExperimentResult& result);

}  // namespace jm
