// Public entry of sequence mining: validates, builds the problem both backends read, dispatches to
// the CPU or GPU PrefixSpan, then computes the outcome contrast (host/patterns/pattern_contrast.cpp).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "host/patterns/pattern_contrast.hpp"
#include "host/patterns/pattern_result.hpp"
#include "host/patterns/sequence_index.hpp"
#include "journeymap/common.hpp"
#include "journeymap/patterns.hpp"

namespace jm {

MinSupport MinSupport::parse(const std::string& text) {
  std::string body = text;
  bool percent = false;
  if (!body.empty() && body.back() == '%') {
    percent = true;
    body.pop_back();
  }
  const bool integer_literal = !body.empty() && !percent &&
                               std::all_of(body.begin(), body.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (integer_literal) {
    errno = 0;
    const long long count = std::strtoll(body.c_str(), nullptr, 10);
    if (errno != 0 || count < 1)
      throw ConfigError("min support '" + text + "' must be a count >= 1 or a fraction in (0, 1]");
    return MinSupport::count(count);
  }
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(body.c_str(), &end);
  if (body.empty() || end != body.c_str() + body.size() || errno != 0 || !std::isfinite(value))
    throw ConfigError("min support '" + text + "' is not a number (give a count such as 500 or a fraction such as 0.01)");
  if (percent) value /= 100.0;
  if (!(value > 0.0 && value <= 1.0))
    throw ConfigError("min support '" + text + "' as a fraction must lie in (0, 1]; give whole journeys as an integer");
  return MinSupport::fraction(value);
}

int64_t MinSupport::resolve(int64_t n_journeys) const {
  if (journeys > 0) return journeys;
  // SPMF's rule, in the same double arithmetic: ceil(minsup * n). (So 0.07 * 100 gives 8, as there.)
  const auto count = static_cast<int64_t>(std::ceil(share * static_cast<double>(n_journeys)));
  return std::max<int64_t>(count, 1);
}

std::string MinSupport::to_string() const {
  if (journeys > 0) return std::to_string(journeys) + " journeys";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%g of journeys", share);
  return buffer;
}

void validate_pattern_options(const PatternOptions& options) {
  if (options.min_support.journeys < 0) throw ConfigError("min_support count must be >= 1");
  if (options.min_support.journeys == 0 && !(options.min_support.share > 0.0 && options.min_support.share <= 1.0))
    throw ConfigError("min_support fraction must lie in (0, 1] (got " + std::to_string(options.min_support.share) + ")");
  if (options.max_length < 0) throw ConfigError("patterns max_length must be >= 0 (0 = unlimited)");
  if (options.min_length < 1) throw ConfigError("patterns min_length must be >= 1");
  if (options.max_length > 0 && options.min_length > options.max_length)
    throw ConfigError("patterns min_length (" + std::to_string(options.min_length) + ") exceeds max_length (" +
                      std::to_string(options.max_length) + ")");
  if (options.max_gap < 0) throw ConfigError("patterns max_gap must be >= 0 (0 = unlimited, 1 = contiguous)");
  if (options.top_k < 0) throw ConfigError("patterns top_k must be >= 0 (0 = all frequent patterns)");
  if (options.max_patterns < 1) throw ConfigError("patterns max_patterns must be >= 1");
  if (options.max_explored < 1) throw ConfigError("patterns max_explored must be >= 1");
  if (options.contrast_top_k < 0) throw ConfigError("patterns contrast_top_k must be >= 0");
  if (!(options.significance_level > 0.0 && options.significance_level <= 1.0))
    throw ConfigError("patterns significance_level must lie in (0, 1]");
  if (options.gpu_batch_bytes < 0) throw ConfigError("patterns gpu_batch_bytes must be >= 0 (0 = auto)");
}


MiningProblem make_mining_problem(const Context& ctx, const JourneySet& journeys, const PatternOptions& options) {
  MiningProblem problem;
  const int64_t n_journeys = journeys.size();
  problem.n_items = std::max<int32_t>(journeys.touchpoints.size(), 0);
  if (journeys.converted.size() != static_cast<size_t>(n_journeys))
    throw std::logic_error("JourneySet invariant violated: converted does not hold one flag per journey");
  problem.offsets = &journeys.offsets;
  problem.items = &journeys.touchpoint;
  problem.converted = &journeys.converted;
  if (ctx.backend == Backend::Gpu)
    cuda_impl::index_previous_same_item(ctx, journeys, problem.n_items, problem.previous_same_item);
  problem.min_count = options.top_k > 0 && !options.min_support_given ? 1 : options.min_support.resolve(n_journeys);
  problem.keep = options.top_k > 0 ? std::min(options.top_k, options.max_patterns) : options.max_patterns;
  problem.max_length = options.max_length;
  problem.max_explored = options.max_explored;
  problem.min_length = options.min_length;
  problem.max_gap = options.max_gap;
  problem.gpu_batch_bytes = options.gpu_batch_bytes;
  return problem;
}

namespace patterns_detail {

PatternResult make_pattern_result(const Context& ctx, const JourneySet& journeys, const PatternOptions& options,
                                  int64_t min_count, FrequentPatterns&& found) {
  int64_t n_converted = 0;
  for (uint8_t converted : journeys.converted) n_converted += converted;
  return make_pattern_result(ctx, journeys.size(), n_converted, options, min_count, std::move(found));
}

PatternResult make_pattern_result(const Context& ctx, int64_t n_journeys, int64_t n_converted,
                                  const PatternOptions& options, int64_t min_count, FrequentPatterns&& found) {
  PatternResult result;
  result.options = options;
  result.backend = to_string(ctx.backend);
  result.n_journeys = n_journeys;
  result.min_support_count = min_count;
  result.offsets = std::move(found.offsets);
  result.items = std::move(found.items);
  result.support = std::move(found.support);
  result.converted_support = std::move(found.converted_support);
  result.final_support_count = result.support.empty() ? min_count : result.support.back();
  // In top-k mode dropping patterns is the point; only the cap is worth a message.
  result.truncated = found.truncated && (options.top_k == 0 || options.max_patterns < options.top_k);
  if (result.truncated)
    result.message = "more than " + std::to_string(options.max_patterns) + " patterns reach a support of " +
                     std::to_string(min_count) + "; kept the " + std::to_string(result.size()) +
                     " most frequent (support >= " + std::to_string(result.final_support_count) +
                     "). Raise the minimum support, set a max length, or raise max_patterns to get all of them.";
  patterns_detail::compute_contrast(n_journeys, n_converted, result);
  return result;
}

}  // namespace patterns_detail

PatternResult mine_patterns(const Context& ctx, const JourneySet& journeys, const PatternOptions& options) {
  validate_pattern_options(options);
  for (int32_t item : journeys.touchpoint)
    if (item < 0 || item >= journeys.touchpoints.size())
      throw std::logic_error("JourneySet invariant violated: touchpoint id outside the vocabulary");
  const MiningProblem problem = make_mining_problem(ctx, journeys, options);
  FrequentPatterns found = ctx.backend == Backend::Gpu ? cuda_impl::mine_frequent_patterns(ctx, problem)
                                                       : cpu_impl::mine_frequent_patterns(ctx, problem);
  if (found.budget_exceeded)
    throw ConfigError(fmt::format(
        "patterns: mining stopped after enumerating {} patterns at support >= {} (minimum support {} of {} journeys) "
        "without finishing: these settings explode on this data. Raise the minimum support (e.g. --min-support {}), "
        "set a max length, or raise [patterns] max_explored",
        options.max_explored, found.threshold_at_stop, problem.min_count, journeys.size(),
        std::max<int64_t>(2 * found.threshold_at_stop, problem.min_count + 1)));

  return patterns_detail::make_pattern_result(ctx, journeys, options, problem.min_count, std::move(found));
}

}  // namespace jm
