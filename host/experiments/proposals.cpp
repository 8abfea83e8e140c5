// Proposed experiments from the map: where journeys are lost (funnel steps, touchpoints where
// abandoning journeys end), what a modest improvement would add, and how long a test must run.
#include "journeymap/proposals.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/tools/roots.hpp>
#include <fmt/format.h>

#include "host/core/records.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr double kDayMs = 86400000.0;

std::string percent(double rate) { return fmt::format("{:.1f}%", 100.0 * rate); }

}  // namespace

void size_proposal_test(Proposal& proposal, double per_day, const ProposalOptions& options) {
  proposal.journeys_per_day = per_day;
  proposal.sample_size_per_arm = sample_size_per_arm(proposal.baseline_rate, proposal.target_rate, options.alpha, options.power);
  proposal.days_needed = per_day > 0.0 ? 2.0 * static_cast<double>(proposal.sample_size_per_arm) / per_day : 0.0;
}

void rank_proposals(std::vector<Proposal>& proposals, const ProposalOptions& options) {
  std::stable_sort(proposals.begin(), proposals.end(), [](const Proposal& a, const Proposal& b) {
    return a.extra_conversions_per_day > b.extra_conversions_per_day;
  });
  if (proposals.size() > static_cast<size_t>(options.max_proposals)) proposals.resize(static_cast<size_t>(options.max_proposals));
}

void validate(const ProposalOptions& options) {
  if (!(options.minimum_detectable_effect > 0.0 && options.minimum_detectable_effect < 1.0))
    throw ConfigError("proposals.minimum_detectable_effect must be in (0, 1)");
  if (!(options.alpha > 0.0 && options.alpha < 0.5)) throw ConfigError("proposals.alpha must be in (0, 0.5)");
  if (!(options.power > 0.5 && options.power < 1.0)) throw ConfigError("proposals.power must be in (0.5, 1)");
  if (options.max_proposals < 1) throw ConfigError("proposals.max_proposals must be >= 1");
  if (options.min_journeys < 1) throw ConfigError("proposals.min_journeys must be >= 1");
}

int64_t sample_size_per_arm(double baseline, double target, double alpha, double power) {
  const boost::math::normal standard;
  const double h = std::fabs(2.0 * std::asin(std::sqrt(target)) - 2.0 * std::asin(std::sqrt(baseline)));
  if (h == 0.0) return 0;
  const double z_alpha = boost::math::quantile(standard, 1.0 - alpha / 2.0);
  // 2 asin(sqrt(p)) of n journeys has variance 1 / n, so the difference of two arms has 2 / n. The
  // power of the two-sided test counts both tails; solved for n from the one-tail answer.
  auto power_at = [&](double n) {
    const double shift = h * std::sqrt(n / 2.0);
    return boost::math::cdf(standard, shift - z_alpha) + boost::math::cdf(standard, -shift - z_alpha) - power;
  };
  const double z = z_alpha + boost::math::quantile(standard, power);
  const double one_tail = 2.0 * z * z / (h * h);
  boost::math::tools::eps_tolerance<double> tolerance(40);
  std::uintmax_t iterations = 100;
  const auto [low, high] = boost::math::tools::bisect(power_at, 0.5 * one_tail, one_tail, tolerance, iterations);
  return static_cast<int64_t>(std::ceil(0.5 * (low + high)));
}

void ProposalTally::save(RecordWriter& out) const {
  out.values(std::vector<int64_t>{journeys_, first_ms_, last_ms_});
  for (const std::vector<int64_t>* counts : {&visits_, &abandoned_, &continued_, &continued_converted_}) out.values(*counts);
}

void ProposalTally::add_saved(RecordReader& in) {
  const std::vector<int64_t> header = in.values<int64_t>();
  if (header.size() != 3) throw Error("proposals: a saved tally has a header of " + std::to_string(header.size()) + " values, not 3");
  for (std::vector<int64_t>* counts : {&visits_, &abandoned_, &continued_, &continued_converted_}) {
    const std::vector<int64_t> part = in.values<int64_t>();
    if (counts->size() < part.size()) counts->resize(part.size(), 0);
    for (size_t t = 0; t < part.size(); ++t) (*counts)[t] += part[t];
  }
  if (header[0] == 0) return;
  first_ms_ = journeys_ == 0 ? header[1] : std::min(first_ms_, header[1]);
  last_ms_ = journeys_ == 0 ? header[2] : std::max(last_ms_, header[2]);
  journeys_ += header[0];
}

void ProposalTally::add(const JourneySet& journeys) {
  const auto n_touchpoints = static_cast<size_t>(journeys.touchpoints.size());
  if (visits_.size() < n_touchpoints) {
    visits_.resize(n_touchpoints, 0);
    abandoned_.resize(n_touchpoints, 0);
    continued_.resize(n_touchpoints, 0);
    continued_converted_.resize(n_touchpoints, 0);
  }
  std::vector<int64_t> last_seen(n_touchpoints, -1);
  for (int64_t j = 0; j < journeys.size(); ++j) {
    first_ms_ = journeys_ == 0 ? journeys.start_ms[j] : std::min(first_ms_, journeys.start_ms[j]);
    last_ms_ = journeys_ == 0 ? journeys.end_ms[j] : std::max(last_ms_, journeys.end_ms[j]);
    ++journeys_;
    // Abandonment: of the journeys that visit a touchpoint, the share that end there without converting.
    const int64_t begin = journeys.offsets[j], end = journeys.offsets[j + 1];
    const auto last_touchpoint = static_cast<size_t>(journeys.touchpoint[end - 1]);
    for (int64_t e = begin; e < end; ++e) {
      const auto t = static_cast<size_t>(journeys.touchpoint[e]);
      if (last_seen[t] == j) continue;  // once per journey
      last_seen[t] = j;
      ++visits_[t];
      const bool ends_here = t == last_touchpoint && !journeys.converted[j];
      if (ends_here) {
        ++abandoned_[t];
      } else {
        ++continued_[t];
        continued_converted_[t] += journeys.converted[j];
      }
    }
  }
}

ProposalResult ProposalTally::finish(const Vocabulary& touchpoints, const FunnelResult& funnel,
                                     const ProposalOptions& options) const {
  validate(options);
  ProposalResult result;
  result.options = options;
  if (journeys_ == 0) return result;
  result.data_days = std::max(1.0, static_cast<double>(last_ms_ - first_ms_) / kDayMs);
  const double mde = options.minimum_detectable_effect;
  std::vector<Proposal> all;

  // Funnel steps: lose fewer of the journeys between step k-1 and step k.
  for (size_t k = 1; k < funnel.steps.size(); ++k) {
    const int64_t entering = funnel.reached[k - 1], going_on = funnel.reached[k];
    if (entering < options.min_journeys || going_on <= 0 || going_on >= entering) continue;
    Proposal p;
    p.kind = "funnel step";
    p.from = touchpoints.name(funnel.steps[k - 1]);
    p.to = touchpoints.name(funnel.steps[k]);
    p.baseline_rate = static_cast<double>(going_on) / static_cast<double>(entering);
    p.target_rate = 1.0 - (1.0 - p.baseline_rate) * (1.0 - mde);  // the journeys lost, cut by mde
    const double converting = static_cast<double>(funnel.converted[k]) / static_cast<double>(going_on);
    const double per_day = static_cast<double>(entering) / result.data_days;
    p.extra_conversions_per_day = per_day * (p.target_rate - p.baseline_rate) * converting;
    size_proposal_test(p, per_day, options);
    p.hypothesis = fmt::format("Lose fewer journeys between {} and {}: {} of those reaching {} do not go on; {} would "
                               "add about {:.1f} conversions a day",
                               p.from, p.to, percent(1.0 - p.baseline_rate), p.from, percent(1.0 - p.target_rate),
                               p.extra_conversions_per_day);
    all.push_back(p);
  }

  for (size_t t = 0; t < visits_.size(); ++t) {
    if (visits_[t] < options.min_journeys || abandoned_[t] == 0 || continued_[t] == 0) continue;
    Proposal p;
    p.kind = "abandonment";
    p.from = touchpoints.name(static_cast<int32_t>(t));
    p.baseline_rate = static_cast<double>(abandoned_[t]) / static_cast<double>(visits_[t]);
    p.target_rate = p.baseline_rate * (1.0 - mde);
    const double converting = static_cast<double>(continued_converted_[t]) / static_cast<double>(continued_[t]);
    const double per_day = static_cast<double>(visits_[t]) / result.data_days;
    p.extra_conversions_per_day = per_day * (p.baseline_rate - p.target_rate) * converting;
    size_proposal_test(p, per_day, options);
    p.hypothesis = fmt::format("Keep more journeys going after {}: {} of the journeys that reach it end there without "
                               "converting; {} would add about {:.1f} conversions a day",
                               p.from, percent(p.baseline_rate), percent(p.target_rate), p.extra_conversions_per_day);
    all.push_back(p);
  }

  rank_proposals(all, options);
  result.proposals = std::move(all);
  return result;
}

ProposalResult propose_experiments(const JourneySet& journeys, const FunnelResult& funnel, const ProposalOptions& options) {
  validate(options);
  ProposalTally tally;
  tally.add(journeys);
  return tally.finish(journeys.touchpoints, funnel, options);
}

}  // namespace jm
