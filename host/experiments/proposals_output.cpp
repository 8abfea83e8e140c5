// The /proposals group and the run summary's block of proposed experiments.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "journeymap/proposals.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

constexpr size_t kProposalsInSummary = 5;

}  // namespace

void write_proposal_results(ResultWriter& writer, const ProposalResult& result) {
  std::vector<std::string> kind, hypothesis, from, to;
  std::vector<double> baseline, target, per_day, extra, days;
  std::vector<int64_t> sample;
  for (const Proposal& p : result.proposals) {
    kind.push_back(p.kind);
    hypothesis.push_back(p.hypothesis);
    from.push_back(p.from);
    to.push_back(p.to);
    baseline.push_back(p.baseline_rate);
    target.push_back(p.target_rate);
    per_day.push_back(p.journeys_per_day);
    extra.push_back(p.extra_conversions_per_day);
    sample.push_back(p.sample_size_per_arm);
    days.push_back(p.days_needed);
  }
  writer.write("/proposals/kind", kind);
  writer.write("/proposals/hypothesis", hypothesis);
  writer.write("/proposals/from", from);
  writer.write("/proposals/to", to);
  writer.write("/proposals/baseline_rate", baseline);
  writer.write("/proposals/target_rate", target);
  writer.write("/proposals/journeys_per_day", per_day);
  writer.write("/proposals/extra_conversions_per_day", extra);
  writer.write("/proposals/sample_size_per_arm", sample);
  writer.write("/proposals/days_needed", days);
  writer.write_attribute("/proposals", "minimum_detectable_effect", result.options.minimum_detectable_effect);
  writer.write_attribute("/proposals", "alpha", result.options.alpha);
  writer.write_attribute("/proposals", "power", result.options.power);
  writer.write_attribute("/proposals", "data_days", result.data_days);
}

std::string format_proposal_summary(const ProposalResult& result) {
  std::string out = fmt::format("proposed experiments (a {:.0f}% relative improvement, {:.0f}% power, alpha {:g})\n",
                                100.0 * result.options.minimum_detectable_effect, 100.0 * result.options.power,
                                result.options.alpha);
  if (result.proposals.empty()) return out + "  none: no friction point is seen by enough journeys\n";
  for (size_t i = 0; i < std::min(result.proposals.size(), kProposalsInSummary); ++i) {
    const Proposal& p = result.proposals[i];
    out += fmt::format("  {}. {}; {} journeys per arm, about {:.0f} days\n", i + 1, p.hypothesis, p.sample_size_per_arm,
                       std::ceil(p.days_needed));
  }
  return out;
}

}  // namespace jm
