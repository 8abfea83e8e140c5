// The /experiments group, the run summary's experiment block and its warnings.
#include <cmath>

#include <fmt/format.h>

#include "journeymap/experiments.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

std::string percent_points(double difference) { return fmt::format("{:+.2f} points", 100.0 * difference); }

std::string interval(double low, double high) {
  if (std::isnan(low) || std::isnan(high)) return "n/a";
  return fmt::format("[{:+.2f}, {:+.2f}]", 100.0 * low, 100.0 * high);
}

}  // namespace

void write_experiment_results(ResultWriter& writer, const ExperimentResult& result) {
  const std::string g = "/experiments";
  std::vector<std::string> names;
  std::vector<int64_t> customers, journeys, converted, reached;
  std::vector<double> rate, value_mean, value_sd, covariate_mean;
  for (const ExperimentVariant& variant : result.variants) {
    names.push_back(variant.name);
    customers.push_back(variant.customers);
    journeys.push_back(variant.journeys);
    converted.push_back(variant.converted);
    rate.push_back(variant.customers > 0 ? static_cast<double>(variant.converted) / static_cast<double>(variant.customers) : 0.0);
    value_mean.push_back(variant.value.mean);
    value_sd.push_back(std::sqrt(variant.value.variance));
    covariate_mean.push_back(variant.covariate_mean);
    reached.insert(reached.end(), variant.funnel_reached.begin(), variant.funnel_reached.end());
  }
  writer.write(g + "/variant", names);
  writer.write(g + "/customers", customers);
  writer.write(g + "/journeys", journeys);
  writer.write(g + "/converted", converted);
  writer.write(g + "/conversion_rate", rate);
  writer.write(g + "/value_mean", value_mean);
  writer.write(g + "/value_sd", value_sd);
  writer.write(g + "/covariate_mean", covariate_mean);
  writer.write(g + "/expected_share", result.expected_share);
  writer.write(g + "/funnel_steps", result.funnel);
  writer.write(g + "/funnel_reached", reached);
  writer.write(g + "/day_start_ms", result.day_start_ms);
  writer.write(g + "/daily_customers", result.daily_customers);
  writer.write(g + "/daily_converted", result.daily_converted);

  std::vector<std::string> treatment;
  std::vector<double> diff, low, high, p, relative, relative_low, relative_high, value_diff, value_low, value_high, value_p,
      cuped_diff, cuped_low, cuped_high, cuped_p, cuped_reduction, av_low, av_high, av_p;
  for (const ExperimentComparison& c : result.comparisons) {
    treatment.push_back(c.treatment);
    diff.push_back(c.conversion.difference);
    low.push_back(c.conversion.ci_low);
    high.push_back(c.conversion.ci_high);
    p.push_back(c.conversion.p_value);
    relative.push_back(c.conversion.relative);
    relative_low.push_back(c.conversion.relative_low);
    relative_high.push_back(c.conversion.relative_high);
    value_diff.push_back(c.value.difference);
    value_low.push_back(c.value.ci_low);
    value_high.push_back(c.value.ci_high);
    value_p.push_back(c.value.p_value);
    cuped_diff.push_back(c.cuped.comparison.difference);
    cuped_low.push_back(c.cuped.comparison.ci_low);
    cuped_high.push_back(c.cuped.comparison.ci_high);
    cuped_p.push_back(c.cuped.comparison.p_value);
    cuped_reduction.push_back(c.cuped.variance_reduction);
    av_low.push_back(c.always_valid_low);
    av_high.push_back(c.always_valid_high);
    av_p.push_back(c.always_valid_p);
  }
  writer.write(g + "/treatment", treatment);
  writer.write(g + "/conversion_difference", diff);
  writer.write(g + "/conversion_ci_low", low);
  writer.write(g + "/conversion_ci_high", high);
  writer.write(g + "/conversion_p", p);
  writer.write(g + "/relative_lift", relative);
  writer.write(g + "/relative_lift_ci_low", relative_low);
  writer.write(g + "/relative_lift_ci_high", relative_high);
  writer.write(g + "/value_difference", value_diff);
  writer.write(g + "/value_ci_low", value_low);
  writer.write(g + "/value_ci_high", value_high);
  writer.write(g + "/value_p", value_p);
  writer.write(g + "/cuped_difference", cuped_diff);
  writer.write(g + "/cuped_ci_low", cuped_low);
  writer.write(g + "/cuped_ci_high", cuped_high);
  writer.write(g + "/cuped_p", cuped_p);
  writer.write(g + "/cuped_variance_reduction", cuped_reduction);
  writer.write(g + "/always_valid_ci_low", av_low);
  writer.write(g + "/always_valid_ci_high", av_high);
  writer.write(g + "/always_valid_p", av_p);

  std::vector<std::string> segment, segment_treatment;
  std::vector<int64_t> segment_control_n, segment_treatment_n;
  std::vector<double> segment_diff, segment_low, segment_high, segment_p, segment_q;
  for (const ExperimentSegmentEffect& e : result.segments) {
    segment.push_back(e.segment);
    segment_treatment.push_back(e.treatment);
    segment_control_n.push_back(e.control_customers);
    segment_treatment_n.push_back(e.treatment_customers);
    segment_diff.push_back(e.conversion.difference);
    segment_low.push_back(e.conversion.ci_low);
    segment_high.push_back(e.conversion.ci_high);
    segment_p.push_back(e.conversion.p_value);
    segment_q.push_back(e.q_value);
  }
  writer.write(g + "/segment", segment);
  writer.write(g + "/segment_treatment", segment_treatment);
  writer.write(g + "/segment_control_customers", segment_control_n);
  writer.write(g + "/segment_treatment_customers", segment_treatment_n);
  writer.write(g + "/segment_difference", segment_diff);
  writer.write(g + "/segment_ci_low", segment_low);
  writer.write(g + "/segment_ci_high", segment_high);
  writer.write(g + "/segment_p", segment_p);
  writer.write(g + "/segment_q", segment_q);
  writer.write(g + "/several_variant_examples", result.several_variant_examples);

  const ExperimentOptions& o = result.options;
  writer.write_attribute(g, "dimension", o.dimension);
  writer.write_attribute(g, "control", o.control);
  writer.write_attribute(g, "covariate", o.covariate);
  writer.write_attribute(g, "segment_by", o.segment_by);
  writer.write_attribute(g, "alpha", o.alpha);
  writer.write_attribute(g, "msprt_tau", o.msprt_tau);
  writer.write_attribute(g, "sample_ratio_p", result.sample_ratio_p);
  writer.write_attribute(g, "sample_ratio_mismatch", static_cast<int64_t>(result.sample_ratio_mismatch ? 1 : 0));
  writer.write_attribute(g, "customers_in_several_variants", result.customers_in_several_variants);
  writer.write_attribute(g, "first_exposure_ms", result.first_exposure_ms);
  writer.write_attribute(g, "last_event_ms", result.last_event_ms);
}

std::string format_experiment_summary(const ExperimentResult& result) {
  const ExperimentOptions& o = result.options;
  std::string out = fmt::format("experiment on '{}' (control {}, per customer from the first exposure; {:.0f}% intervals)\n",
                                o.dimension, o.control, 100.0 * (1.0 - o.alpha));
  int64_t total = 0;
  for (const ExperimentVariant& variant : result.variants) total += variant.customers;
  for (size_t v = 0; v < result.variants.size(); ++v) {
    const ExperimentVariant& variant = result.variants[v];
    const double rate = variant.customers > 0 ? static_cast<double>(variant.converted) / static_cast<double>(variant.customers) : 0.0;
    const double share = total > 0 ? static_cast<double>(variant.customers) / static_cast<double>(total) : 0.0;
    out += fmt::format("  {:<16} {:>9} customers ({:4.1f}%, planned {:4.1f}%), {:5.2f}% converted, value {:.2f} per customer\n",
                       variant.name, variant.customers, 100.0 * share, 100.0 * result.expected_share[v], 100.0 * rate,
                       variant.value.mean);
  }
  for (const ExperimentComparison& c : result.comparisons) {
    out += fmt::format("  {} vs {}: conversion {} {} (p {:.2g}; relative {:+.1f}%), always-valid {} (p {:.2g}, {} daily looks)\n",
                       c.treatment, o.control, percent_points(c.conversion.difference),
                       interval(c.conversion.ci_low, c.conversion.ci_high), c.conversion.p_value,
                       100.0 * c.conversion.relative, interval(c.always_valid_low, c.always_valid_high), c.always_valid_p,
                       c.looks);
    if (o.covariate != "none")
      out += fmt::format("    CUPED by pre-exposure {}: {} {} (variance {:.0f}% lower)\n", o.covariate,
                         percent_points(c.cuped.comparison.difference),
                         interval(c.cuped.comparison.ci_low, c.cuped.comparison.ci_high), 100.0 * c.cuped.variance_reduction);
  }
  out += fmt::format("  sample ratio: p {:.2g}{}\n", result.sample_ratio_p,
                     result.sample_ratio_mismatch ? " (MISMATCH: the split differs from the plan)" : "");
  size_t significant = 0;
  for (const ExperimentSegmentEffect& e : result.segments) significant += e.q_value < o.alpha ? 1 : 0;
  if (!result.segments.empty())
    out += fmt::format("  by {}: {} of {} segment effects with q below {:g} (Benjamini-Hochberg)\n", o.segment_by, significant,
                       result.segments.size(), o.alpha);
  return out;
}

std::vector<std::string> experiment_warnings(const ExperimentResult& result) {
  std::vector<std::string> warnings;
  if (result.customers_in_several_variants > 0)
    warnings.push_back(fmt::format("experiment: {} customers have journeys in several variants of '{}' and are left out "
                                   "(for example {})",
                                   result.customers_in_several_variants, result.options.dimension,
                                   fmt::join(result.several_variant_examples, ", ")));
  if (result.sample_ratio_mismatch)
    warnings.push_back(fmt::format("experiment: sample ratio mismatch (chi-square p {:.2g}): the customers per variant "
                                   "differ from the planned split, so assignment or logging is broken and the "
                                   "comparisons cannot be trusted",
                                   result.sample_ratio_p));
  return warnings;
}

}  // namespace jm
