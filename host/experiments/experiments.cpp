// Experiment analysis on journeys: customers are the unit (the unit of randomisation), their
// variant is the dimension's value on their journeys, and their outcome is what their journeys
// from the first exposure on achieved. Journeys before the first exposure give the CUPED
// covariate. Daily looks use only what was known at the end of each day: customers exposed by
// then and conversions that had happened by then.
#include "journeymap/experiments.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "journeymap/breakdowns.hpp"
#include "journeymap/common.hpp"
#include "journeymap/compare.hpp"
#include "journeymap/flows.hpp"

namespace jm {
namespace {

using experiment_stats::Comparison;
using experiment_stats::Moments;

constexpr int64_t kDayMs = 86400000;
constexpr size_t kSeveralVariantExamples = 5;
// Daily counts are kept per variant and day: a dimension with a value per customer (a mistaken
// choice) would otherwise ask for millions of comparisons.
constexpr size_t kMaxVariants = 100;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// What is known of one customer in the experiment.
struct Unit {
  int32_t variant = -1;        // code in the dimension; -2: several variants
  int64_t exposure_ms = kNever;
  int64_t converted_ms = kNever;  // first conversion from the exposure on
  double value = 0.0;
  int64_t journeys = 0;
  double covariate = 0.0;
  int32_t segment = -1;        // code of segment_by on the first exposed journey
};

// The covariate's contribution of one pre-exposure journey.
double covariate_of(const JourneySet& journeys, int64_t j, const std::string& covariate) {
  if (covariate == "conversions") return journeys.converted[j] ? 1.0 : 0.0;
  if (covariate == "journeys") return 1.0;
  if (covariate == "events") return static_cast<double>(journeys.length(j));
  if (covariate == "value") return journeys.converted[j] ? journeys.conversion_value[j] : 0.0;
  return 0.0;
}

int64_t outcome_time(const JourneySet& journeys, int64_t j) {
  return journeys.has_outcomes() && journeys.outcome_ms[j] != 0 ? journeys.outcome_ms[j] : journeys.end_ms[j];
}

// Every customer's variant, exposure, outcome and covariate. Journeys are ordered by customer, then
// time, so a customer's journeys are consecutive.
std::vector<Unit> units_of(const JourneySet& journeys, const JourneyDimension& variants, const JourneyValueCodes* segments,
                           const std::string& covariate) {
  std::vector<Unit> units(static_cast<size_t>(journeys.customers.size()));
  for (int64_t j = 0; j < journeys.size(); ++j) {
    const int32_t code = variants.journey_code[static_cast<size_t>(j)];
    if (code < 0) continue;
    Unit& unit = units[journeys.customer[j]];
    if (unit.variant == -1) unit.variant = code;
    else if (unit.variant != code) unit.variant = -2;
    if (journeys.start_ms[j] < unit.exposure_ms) {
      unit.exposure_ms = journeys.start_ms[j];
      if (segments != nullptr) unit.segment = segments->code[static_cast<size_t>(j)];
    }
  }
  for (int64_t j = 0; j < journeys.size(); ++j) {
    Unit& unit = units[journeys.customer[j]];
    if (unit.variant < 0) continue;
    if (journeys.start_ms[j] < unit.exposure_ms) {
      unit.covariate += covariate_of(journeys, j, covariate);
      continue;
    }
    ++unit.journeys;
    if (journeys.converted[j]) {
      unit.value += journeys.conversion_value[j];
      unit.converted_ms = std::min(unit.converted_ms, outcome_time(journeys, j));
    }
  }
  return units;
}

std::string resolve_control(const ExperimentOptions& options, const std::vector<std::string>& present) {
  auto has = [&](const std::string& name) { return std::find(present.begin(), present.end(), name) != present.end(); };
  if (!options.control.empty()) {
    if (!has(options.control))
      throw ConfigError("experiment: the control '" + options.control + "' has no customers (variants: " +
                        fmt::format("{}", fmt::join(present, ", ")) + ")");
    return options.control;
  }
  for (const char* name : {"control", "A"})
    if (has(name)) return name;
  throw ConfigError("experiment: name the control variant ([experiment] control); variants: " +
                    fmt::format("{}", fmt::join(present, ", ")));
}

}  // namespace

void validate(const ExperimentOptions& options) {
  if (!(options.alpha > 0.0 && options.alpha < 0.5)) throw ConfigError("experiment.alpha must be in (0, 0.5)");
  if (!(options.msprt_tau > 0.0) || !std::isfinite(options.msprt_tau)) throw ConfigError("experiment.msprt_tau must be > 0");
  if (options.max_segments < 1) throw ConfigError("experiment.max_segments must be >= 1");
  static const char* const kCovariates[] = {"conversions", "journeys", "events", "value", "none"};
  if (std::find(std::begin(kCovariates), std::end(kCovariates), options.covariate) == std::end(kCovariates))
    throw ConfigError("experiment.covariate must be conversions, journeys, events, value or none (got '" +
                      options.covariate + "')");
  for (const auto& [name, share] : options.allocation)
    if (!(share > 0.0) || !std::isfinite(share)) throw ConfigError("experiment.allocation: the share of '" + name + "' must be > 0");
}

ExperimentResult analyse_experiment(const Context& ctx, const JourneySet& journeys, const ExperimentOptions& options,
                                    const std::vector<std::string>& funnel) {
  validate(options);
  if (options.dimension.empty()) throw ConfigError("experiment: no dimension names the variants ([experiment] dimension)");
  const JourneyDimension* variants = find_dimension(journeys, options.dimension);
  if (variants == nullptr)
    throw ConfigError("experiment: the journeys have no dimension '" + options.dimension +
                      "' (read it with [input] dimensions or --dimension)");
  JourneyValueCodes segment_codes;
  if (!options.segment_by.empty()) segment_codes = journey_value_codes(journeys, options.segment_by);
  const std::vector<Unit> units =
      units_of(journeys, *variants, options.segment_by.empty() ? nullptr : &segment_codes, options.covariate);

  ExperimentResult result;
  result.options = options;
  // Variants with customers: the control first, then the others by name.
  std::vector<int64_t> customers_of(variants->values.size(), 0);
  result.first_exposure_ms = kNever;
  for (size_t c = 0; c < units.size(); ++c) {
    const Unit& unit = units[c];
    if (unit.variant == -2) {
      if (result.several_variant_examples.size() < kSeveralVariantExamples)
        result.several_variant_examples.push_back(journeys.customers.name(static_cast<int32_t>(c)));
      ++result.customers_in_several_variants;
    } else if (unit.variant >= 0) {
      ++customers_of[static_cast<size_t>(unit.variant)];
      result.first_exposure_ms = std::min(result.first_exposure_ms, unit.exposure_ms);
    }
  }
  std::vector<std::string> present;
  for (size_t v = 0; v < customers_of.size(); ++v)
    if (customers_of[v] > 0) present.push_back(variants->values[v]);
  std::sort(present.begin(), present.end());
  if (present.size() > kMaxVariants)
    throw ConfigError(fmt::format("experiment: dimension '{}' has {} values with customers; an experiment compares at "
                                  "most {} variants (is it the dimension that holds the variant?)",
                                  options.dimension, present.size(), kMaxVariants));
  if (present.size() < 2)
    throw ConfigError("experiment: dimension '" + options.dimension + "' has " + std::to_string(present.size()) +
                      " variant" + (present.size() == 1 ? "" : "s") + " with customers; an experiment needs two or more");
  result.options.control = resolve_control(options, present);
  std::vector<std::string> order{result.options.control};
  for (const std::string& name : present)
    if (name != result.options.control) order.push_back(name);
  for (const auto& [name, share] : options.allocation)
    if (std::find(order.begin(), order.end(), name) == order.end())
      throw ConfigError("experiment.allocation names '" + name + "', which has no customers");
  // Index of each dimension code in `order` (-1: no customers).
  std::vector<int32_t> slot_of_code(variants->values.size(), -1);
  for (size_t s = 0; s < order.size(); ++s)
    slot_of_code[static_cast<size_t>(std::find(variants->values.begin(), variants->values.end(), order[s]) -
                                     variants->values.begin())] = static_cast<int32_t>(s);
  const size_t n_variants = order.size();

  // Per variant: customers' outcomes, values and covariates.
  std::vector<std::vector<double>> converted(n_variants), value(n_variants), covariate(n_variants);
  result.variants.resize(n_variants);
  result.last_event_ms = 0;
  for (int64_t j = 0; j < journeys.size(); ++j) result.last_event_ms = std::max(result.last_event_ms, journeys.end_ms[j]);
  for (const Unit& unit : units) {
    if (unit.variant < 0) continue;
    const auto s = static_cast<size_t>(slot_of_code[static_cast<size_t>(unit.variant)]);
    ExperimentVariant& variant = result.variants[s];
    ++variant.customers;
    variant.journeys += unit.journeys;
    const bool did_convert = unit.converted_ms != kNever;
    variant.converted += did_convert ? 1 : 0;
    converted[s].push_back(did_convert ? 1.0 : 0.0);
    value[s].push_back(unit.value);
    covariate[s].push_back(unit.covariate);
  }
  for (size_t s = 0; s < n_variants; ++s) {
    ExperimentVariant& variant = result.variants[s];
    variant.name = order[s];
    variant.value = experiment_stats::moments_of(value[s]);
    variant.covariate_mean = experiment_stats::moments_of(covariate[s]).mean;
  }

  // The sample-ratio check against the planned shares.
  result.expected_share.assign(n_variants, 1.0);
  for (const auto& [name, share] : options.allocation)
    result.expected_share[static_cast<size_t>(std::find(order.begin(), order.end(), name) - order.begin())] = share;
  double share_sum = 0.0;
  for (const double share : result.expected_share) share_sum += share;
  for (double& share : result.expected_share) share /= share_sum;
  std::vector<int64_t> observed;
  for (const ExperimentVariant& variant : result.variants) observed.push_back(variant.customers);
  result.sample_ratio_p = experiment_stats::sample_ratio_p_value(observed, result.expected_share);
  result.sample_ratio_mismatch = result.sample_ratio_p < 0.001;

  // Daily looks: customers exposed and converted by the end of each UTC day.
  const int64_t first_day = result.first_exposure_ms / kDayMs - (result.first_exposure_ms % kDayMs < 0 ? 1 : 0);
  const int64_t last_day = result.last_event_ms / kDayMs - (result.last_event_ms % kDayMs < 0 ? 1 : 0);
  const int64_t n_days = std::max<int64_t>(1, last_day - first_day + 1);
  for (int64_t d = 0; d < n_days; ++d) result.day_start_ms.push_back((first_day + d) * kDayMs);
  result.daily_customers.assign(n_variants * static_cast<size_t>(n_days), 0);
  result.daily_converted.assign(n_variants * static_cast<size_t>(n_days), 0);
  auto day_of = [&](int64_t t) { return std::clamp<int64_t>((t - first_day * kDayMs) / kDayMs, 0, n_days - 1); };
  for (const Unit& unit : units) {
    if (unit.variant < 0) continue;
    const auto s = static_cast<size_t>(slot_of_code[static_cast<size_t>(unit.variant)]);
    ++result.daily_customers[s * static_cast<size_t>(n_days) + static_cast<size_t>(day_of(unit.exposure_ms))];
    if (unit.converted_ms != kNever)
      ++result.daily_converted[s * static_cast<size_t>(n_days) +
                               static_cast<size_t>(day_of(std::max(unit.converted_ms, unit.exposure_ms)))];
  }
  for (size_t s = 0; s < n_variants; ++s)
    for (int64_t d = 1; d < n_days; ++d) {
      const size_t at = s * static_cast<size_t>(n_days) + static_cast<size_t>(d);
      result.daily_customers[at] += result.daily_customers[at - 1];
      result.daily_converted[at] += result.daily_converted[at - 1];
    }

  // Every treatment against the control.
  for (size_t s = 1; s < n_variants; ++s) {
    ExperimentComparison comparison;
    comparison.treatment = order[s];
    const ExperimentVariant &control = result.variants[0], &treatment = result.variants[s];
    comparison.conversion =
        experiment_stats::compare_proportions(control.converted, control.customers, treatment.converted, treatment.customers,
                                              options.alpha);
    comparison.value = experiment_stats::compare_means(control.value, treatment.value, options.alpha);
    if (options.covariate != "none")
      comparison.cuped = experiment_stats::cuped(converted[0], covariate[0], converted[s], covariate[s], options.alpha);
    experiment_stats::AlwaysValid running(options.msprt_tau, options.alpha);
    for (int64_t d = 0; d < n_days; ++d) {
      const auto at = static_cast<size_t>(d);
      const double nc = static_cast<double>(result.daily_customers[at]);
      const double nt = static_cast<double>(result.daily_customers[s * static_cast<size_t>(n_days) + at]);
      if (nc < 1.0 || nt < 1.0) continue;
      const double pc = static_cast<double>(result.daily_converted[at]) / nc;
      const double pt = static_cast<double>(result.daily_converted[s * static_cast<size_t>(n_days) + at]) / nt;
      running.look(pt - pc, pc * (1.0 - pc) / nc + pt * (1.0 - pt) / nt);
    }
    comparison.always_valid_low = running.looks() > 0 ? running.low() : std::nan("");
    comparison.always_valid_high = running.looks() > 0 ? running.high() : std::nan("");
    comparison.always_valid_p = running.p_value();
    comparison.looks = running.looks();
    result.comparisons.push_back(comparison);
  }

  // The funnel of each variant's journeys from the exposure on.
  if (!funnel.empty()) {
    result.funnel = funnel;
    FlowOptions flow_options;
    flow_options.funnel = funnel;
    std::vector<std::vector<int64_t>> rows(n_variants);  // each variant's journeys from the exposure on
    for (int64_t j = 0; j < journeys.size(); ++j) {
      const Unit& unit = units[journeys.customer[j]];
      if (unit.variant >= 0 && journeys.start_ms[j] >= unit.exposure_ms)
        rows[static_cast<size_t>(slot_of_code[static_cast<size_t>(unit.variant)])].push_back(j);
    }
    for (size_t s = 0; s < n_variants; ++s) {
      if (!rows[s].empty()) result.variants[s].funnel_reached = compute_flows(ctx, select_journeys(journeys, rows[s]), flow_options).funnel.reached;
      else result.variants[s].funnel_reached.assign(funnel.size(), 0);
    }
  }

  // Effects per segment, adjusted together.
  if (!options.segment_by.empty()) {
    std::vector<int64_t> customers_in(segment_codes.names.size(), 0);
    for (const Unit& unit : units)
      if (unit.variant >= 0 && unit.segment >= 0) ++customers_in[static_cast<size_t>(unit.segment)];
    std::vector<int32_t> ranked;
    for (size_t g = 0; g < customers_in.size(); ++g)
      if (customers_in[g] > 0) ranked.push_back(static_cast<int32_t>(g));
    std::stable_sort(ranked.begin(), ranked.end(), [&](int32_t a, int32_t b) { return customers_in[a] > customers_in[b]; });
    if (ranked.size() > static_cast<size_t>(options.max_segments)) ranked.resize(static_cast<size_t>(options.max_segments));
    std::vector<double> p_values;
    for (const int32_t segment : ranked) {
      std::vector<int64_t> n(n_variants, 0), x(n_variants, 0);
      for (const Unit& unit : units) {
        if (unit.variant < 0 || unit.segment != segment) continue;
        const auto s = static_cast<size_t>(slot_of_code[static_cast<size_t>(unit.variant)]);
        ++n[s];
        x[s] += unit.converted_ms != kNever ? 1 : 0;
      }
      for (size_t s = 1; s < n_variants; ++s) {
        ExperimentSegmentEffect effect;
        effect.segment = segment_codes.names[static_cast<size_t>(segment)];
        effect.treatment = order[s];
        effect.control_customers = n[0];
        effect.treatment_customers = n[s];
        effect.conversion = experiment_stats::compare_proportions(x[0], n[0], x[s], n[s], options.alpha);
        p_values.push_back(effect.conversion.p_value);
        result.segments.push_back(effect);
      }
    }
    const std::vector<double> q = benjamini_hochberg(p_values);
    for (size_t i = 0; i < q.size(); ++i) result.segments[i].q_value = q[i];
  }
  return result;
}

}  // namespace jm
