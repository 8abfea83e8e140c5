// Outcome contrast of frequent patterns (shared by both backends: it runs on the host after mining).
#pragma once

#include <cstdint>

#include "journeymap/patterns.hpp"

namespace jm::patterns_detail {

/// Weighted relative accuracy of a pattern for conversion: (converted - support * base_rate) / n,
/// i.e. its share of journeys times how far its conversion rate lies above the base rate. It is
/// 0 for a pattern that tells nothing, grows with both support and lift, and is negative for
/// patterns that lead to abandonment (whose score in the abandonment list is its negation).
double contrast_score(int64_t support, int64_t converted_support, int64_t n_journeys, double base_rate);

/// Two-sided p-value of the chi-square test of independence (1 degree of freedom, no continuity
/// correction) between "contains the pattern" and "converted"; 1 when a margin is empty.
double chi_square_p_value(int64_t support, int64_t converted_support, int64_t n_journeys, int64_t n_converted);

/// Fills p_adjusted, the journey counts and base rate, and the two headline lists of `result`
/// (whose patterns, supports and options are set). A headline list takes significant patterns by
/// score and skips near-repeats: a candidate nested with a listed pattern whose separating journeys
/// do not convert at a significantly different rate (see docs/patterns.md).
void compute_contrast(const JourneySet& journeys, PatternResult& result);
/// The same from the counts alone: `n_journeys` journeys, `n_converted` of them converted.
void compute_contrast(int64_t n_journeys, int64_t n_converted, PatternResult& result);

}  // namespace jm::patterns_detail
