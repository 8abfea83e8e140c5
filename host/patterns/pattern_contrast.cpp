// Outcome contrast of frequent patterns, the /patterns output group and the run-summary block.
#include "host/patterns/pattern_contrast.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

#include "host/core/release_memory.hpp"
#include "journeymap/compare.hpp"  // benjamini_hochberg, shared with the period comparison
#include "journeymap/result_file.hpp"

namespace jm {
namespace patterns_detail {

double contrast_score(int64_t support, int64_t converted_support, int64_t n_journeys, double base_rate) {
  if (n_journeys <= 0) return 0.0;
  return (static_cast<double>(converted_support) - static_cast<double>(support) * base_rate) /
         static_cast<double>(n_journeys);
}

double chi_square_p_value(int64_t support, int64_t converted_support, int64_t n_journeys, int64_t n_converted) {
  // 2x2 table: rows contain / do not contain the pattern, columns converted / not converted.
  const double a = static_cast<double>(converted_support);
  const double b = static_cast<double>(support - converted_support);
  const double c = static_cast<double>(n_converted - converted_support);
  const double d = static_cast<double>(n_journeys - support) - c;
  const double row1 = a + b, row2 = c + d, col1 = a + c, col2 = b + d;
  if (row1 <= 0 || row2 <= 0 || col1 <= 0 || col2 <= 0) return 1.0;
  const double n = row1 + row2;
  // (ad - bc)^2 n / (margins), computed in a form that does not overflow for 10M journeys.
  const double delta = (a * d - b * c) / row1 / row2;
  const double chi2 = delta * (a * d - b * c) * n / col1 / col2;
  // Survival function of chi-square with 1 df: P(X > x) = erfc(sqrt(x / 2)).
  return std::erfc(std::sqrt(std::max(0.0, chi2) / 2.0));
}

void compute_contrast(const JourneySet& journeys, PatternResult& result) {
  int64_t n_converted = 0;
  for (uint8_t converted : journeys.converted) n_converted += converted;
  compute_contrast(journeys.size(), n_converted, result);
}

void compute_contrast(int64_t n_journeys, int64_t n_converted, PatternResult& result) {
  result.n_journeys = n_journeys;
  result.n_converted = n_converted;
  const int64_t n = result.n_journeys;
  const double base = n > 0 ? static_cast<double>(result.n_converted) / static_cast<double>(n) : 0.0;
  result.base_conversion_rate = base;

  const auto m = static_cast<size_t>(result.size());
  // The p-values go straight into the column that holds their adjusted values.
  result.p_adjusted.resize(m);
  for (size_t p = 0; p < m; ++p) result.p_adjusted[p] = result.p_value(static_cast<int64_t>(p));
  benjamini_hochberg_in_place(result.p_adjusted);
  release_free_memory();  // the ranking's index, freed inside malloc's heap (see release_memory.hpp)

  // Headline lists: significant patterns by score, best first, without near-repeats. A candidate
  // nested with an already listed pattern (one a subsequence of the other) is a repeat unless the
  // journeys that separate them convert at a significantly different rate than the smaller set:
  // "product_view > checkout" repeats "checkout" when nearly every checkout follows a product view.
  auto contains = [&](int64_t outer, int64_t inner) {
    int64_t i = result.offsets[inner];
    for (int64_t o = result.offsets[outer]; o < result.offsets[outer + 1] && i < result.offsets[inner + 1]; ++o)
      if (result.items[o] == result.items[i]) ++i;
    return i == result.offsets[inner + 1];
  };
  auto repeats = [&](int64_t candidate, int64_t listed) {
    int64_t larger = candidate, smaller = listed;
    if (contains(listed, candidate)) std::swap(larger, smaller);      // candidate is the more general one
    else if (!contains(candidate, listed)) return false;              // not nested
    // Journeys with `larger` but not `smaller` against those with `smaller`.
    const int64_t extra = result.support[larger] - result.support[smaller];
    const int64_t extra_converted = result.converted_support[larger] - result.converted_support[smaller];
    return chi_square_p_value(extra, extra_converted, result.support[larger], result.converted_support[larger]) >=
           result.options.significance_level;
  };
  auto top_by = [&](double sign) {
    std::vector<int64_t> candidates;
    for (size_t p = 0; p < m; ++p)
      if (sign * result.score(static_cast<int64_t>(p)) > 0.0 && result.p_adjusted[p] < result.options.significance_level)
        candidates.push_back(static_cast<int64_t>(p));
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](int64_t x, int64_t y) { return sign * result.score(x) > sign * result.score(y); });
    std::vector<int64_t> listed;
    for (int64_t candidate : candidates) {
      if (static_cast<int64_t>(listed.size()) >= result.options.contrast_top_k) break;
      if (std::none_of(listed.begin(), listed.end(), [&](int64_t l) { return repeats(candidate, l); }))
        listed.push_back(candidate);
    }
    return listed;
  };
  result.top_conversion = top_by(+1.0);
  result.top_abandonment = top_by(-1.0);
}

}  // namespace patterns_detail

double PatternResult::conversion_rate(int64_t p) const {
  const int64_t s = support[static_cast<size_t>(p)];
  return s > 0 ? static_cast<double>(converted_support[static_cast<size_t>(p)]) / static_cast<double>(s) : 0.0;
}

double PatternResult::lift(int64_t p) const {
  return base_conversion_rate > 0.0 ? conversion_rate(p) / base_conversion_rate : 1.0;
}

double PatternResult::p_value(int64_t p) const {
  return patterns_detail::chi_square_p_value(support[static_cast<size_t>(p)], converted_support[static_cast<size_t>(p)],
                                             n_journeys, n_converted);
}

double PatternResult::score(int64_t p) const {
  return patterns_detail::contrast_score(support[static_cast<size_t>(p)], converted_support[static_cast<size_t>(p)],
                                         n_journeys, base_conversion_rate);
}

std::string pattern_text(const PatternResult& result, int64_t p, const JourneySet& journeys) {
  std::string text;
  for (int64_t i = result.offsets[p]; i < result.offsets[p + 1]; ++i) {
    if (i > result.offsets[p]) text += " > ";
    const int32_t item = result.items[i];
    text += item >= 0 && item < journeys.touchpoints.size() ? journeys.touchpoints.name(item) : std::to_string(item);
  }
  return text;
}

void write_patterns_results(ResultWriter& writer, const PatternResult& result, const JourneySet& journeys) {
  writer.write("/patterns/offsets", result.offsets);
  writer.write("/patterns/items", result.items);
  writer.write("/patterns/support", result.support);
  writer.write("/patterns/converted_support", result.converted_support);
  // The derived columns are computed slice by slice as they are written, never held whole.
  auto write_derived = [&](const char* path, double (PatternResult::*statistic)(int64_t) const) {
    writer.write_computed(path, result.size(), [&](int64_t begin, int64_t end, double* out) {
      for (int64_t p = begin; p < end; ++p) out[p - begin] = (result.*statistic)(p);
    });
  };
  write_derived("/patterns/conversion_rate", &PatternResult::conversion_rate);
  write_derived("/patterns/lift", &PatternResult::lift);
  write_derived("/patterns/p_value", &PatternResult::p_value);
  writer.write("/patterns/p_adjusted", result.p_adjusted);
  write_derived("/patterns/score", &PatternResult::score);
  auto write_list = [&](const std::string& group, const std::vector<int64_t>& list) {
    std::vector<std::string> text;
    for (int64_t p : list) text.push_back(pattern_text(result, p, journeys));
    writer.write(group + "/pattern", list);
    writer.write(group + "/text", text);
  };
  write_list("/patterns/top_conversion", result.top_conversion);
  write_list("/patterns/top_abandonment", result.top_abandonment);

  const PatternOptions& o = result.options;
  writer.write_attribute("/patterns", "n_patterns", result.size());
  writer.write_attribute("/patterns", "n_journeys", result.n_journeys);
  writer.write_attribute("/patterns", "n_converted", result.n_converted);
  writer.write_attribute("/patterns", "base_conversion_rate", result.base_conversion_rate);
  writer.write_attribute("/patterns", "min_support", o.min_support.to_string());
  writer.write_attribute("/patterns", "min_support_count", result.min_support_count);
  writer.write_attribute("/patterns", "final_support_count", result.final_support_count);
  writer.write_attribute("/patterns", "max_length", int64_t{o.max_length});
  writer.write_attribute("/patterns", "min_length", int64_t{o.min_length});
  writer.write_attribute("/patterns", "max_gap", int64_t{o.max_gap});
  writer.write_attribute("/patterns", "top_k", o.top_k);
  writer.write_attribute("/patterns", "max_patterns", o.max_patterns);
  writer.write_attribute("/patterns", "significance_level", o.significance_level);
  writer.write_attribute("/patterns", "truncated", int64_t{result.truncated ? 1 : 0});
  writer.write_attribute("/patterns", "message", result.message);
  writer.write_attribute("/patterns", "backend", result.backend);
  writer.write_attribute("/patterns", "score",
                         std::string("weighted relative accuracy: (converted_support - support * base_rate) / n_journeys"));
  writer.write_attribute("/patterns", "test", std::string("chi-square 1 df, Benjamini-Hochberg adjusted"));
}

std::string format_patterns_summary(const PatternResult& result, const JourneySet& journeys) {
  std::string out = "patterns\n";
  out += fmt::format("  frequent patterns    {:>14}  ({}support >= {} of {} journeys{}{})\n", result.size(),
                     result.options.top_k > 0 ? fmt::format("top {} by support, ", result.options.top_k) : "",
                     (result.options.top_k > 0 || result.truncated) ? result.final_support_count : result.min_support_count,
                     result.n_journeys,
                     result.options.max_gap > 0 ? fmt::format(", max gap {}", result.options.max_gap) : "",
                     result.options.max_length > 0 ? fmt::format(", max length {}", result.options.max_length) : "");
  if (result.truncated) out += "  note: " + result.message + "\n";
  auto list = [&](const char* title, const std::vector<int64_t>& indices) {
    out += fmt::format("  {}\n", title);
    if (indices.empty()) out += "    (no significant pattern)\n";
    for (size_t r = 0; r < indices.size(); ++r) {
      const int64_t p = indices[r];
      out += fmt::format("    {:>2}. {}  (support {}, conversion {:.1f}% vs {:.1f}%, lift {:.2f}, q {:.1e})\n", r + 1,
                         pattern_text(result, p, journeys), result.support[p], 100.0 * result.conversion_rate(p),
                         100.0 * result.base_conversion_rate, result.lift(p), result.p_adjusted[p]);
    }
  };
  list("leading to conversion", result.top_conversion);
  list("leading to abandonment", result.top_abandonment);
  return out;
}

}  // namespace jm
