// Sequence mining: exact PrefixSpan over journeys, and the conversion-vs-abandonment contrast of
// every frequent pattern.
//
// A journey is a sequence of touchpoints; a pattern is a subsequence (items in order, gaps allowed);
// its support is the number of journeys that contain it at least once. With default options the
// frequent patterns and their supports are exactly those of SPMF's PrefixSpan on the same sequences.
//
//   jm::PatternOptions options;
//   options.min_support = jm::MinSupport::fraction(0.01);   // or MinSupport::count(500)
//   jm::PatternResult result = jm::mine_patterns(ctx, journeys, options);
//   for (int64_t p = 0; p < result.size(); ++p)
//     use(result.items_of(p), result.support[p], result.lift(p));
//   // result.top_conversion / result.top_abandonment: the headline answer (indices into the patterns)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultWriter;

/// A minimum support given either as a number of journeys or as a fraction of them.
/// A fraction f becomes the count ceil(f * n_journeys), as SPMF rounds it.
struct MinSupport {
  int64_t journeys = 0;   ///< absolute count when > 0
  double share = 0.01;    ///< fraction in (0, 1] used when `journeys` is 0

  static MinSupport count(int64_t n) { return MinSupport{n, 0.0}; }
  static MinSupport fraction(double f) { return MinSupport{0, f}; }
  /// Parses "500" (a count: an integer without a decimal point), "0.01", "1e-3" or "2.5%" (fractions).
  /// Throws ConfigError otherwise.
  static MinSupport parse(const std::string& text);
  /// The count for a database of `n_journeys` (at least 1).
  int64_t resolve(int64_t n_journeys) const;
  std::string to_string() const;
};

struct PatternOptions {
  /// Patterns contained in fewer journeys are not frequent. Ignored (treated as 1) when top_k > 0
  /// and `min_support_given` is false.
  MinSupport min_support = MinSupport::fraction(0.01);
  /// Whether top_k mining also applies min_support (false: the exact top-k, no threshold given).
  bool min_support_given = true;
  int max_length = 0;   ///< longest pattern kept, in items (0 = unlimited)
  int min_length = 1;   ///< shortest pattern kept (shorter ones are still mined as prefixes)
  /// Largest distance between consecutive pattern items, in events: 1 = contiguous paths only,
  /// g = at most g-1 events between them, 0 = unlimited (classic PrefixSpan).
  int max_gap = 0;
  /// When > 0: keep only the k patterns of highest support (ties broken by the canonical order:
  /// shorter first, then by touchpoint ids), found exactly by raising the threshold while mining.
  int64_t top_k = 0;
  /// At most this many patterns are kept. When more are frequent, the most frequent ones are kept
  /// (canonical order), `truncated` is set and `message` says how to get all of them.
  int64_t max_patterns = 1000000;
  /// Work budget: mining stops with a ConfigError once this many patterns have been enumerated
  /// without finishing (explosive settings such as a tiny support on dense data; ties at the cut of
  /// max_patterns make even a capped search enumerate every tied pattern). Time stays bounded.
  int64_t max_explored = 50000000;
  /// Length of each headline list (top_conversion, top_abandonment).
  int contrast_top_k = 10;
  /// Only patterns with a Benjamini-Hochberg adjusted p-value below this enter the headline lists.
  double significance_level = 0.05;
  /// Device memory the GPU backend may use for one batch of projected positions (bytes, 0 = auto).
  int64_t gpu_batch_bytes = 0;
};

/// Frequent patterns (canonical order: support descending, then length ascending, then touchpoint
/// ids lexicographically) with their outcome contrast.
struct PatternResult {
  std::vector<int64_t> offsets;            ///< [n_patterns + 1] item range of pattern p
  std::vector<int32_t> items;              ///< touchpoint ids of all patterns, concatenated
  std::vector<int64_t> support;            ///< [n_patterns] journeys containing the pattern
  std::vector<int64_t> converted_support;  ///< [n_patterns] converting journeys containing it
  std::vector<double> p_adjusted;          ///< [n_patterns] Benjamini-Hochberg adjusted p-value
  std::vector<int64_t> top_conversion;     ///< pattern indices, best first
  std::vector<int64_t> top_abandonment;    ///< pattern indices, best first

  int64_t n_journeys = 0;          ///< journeys mined
  int64_t n_converted = 0;         ///< of which converted
  double base_conversion_rate = 0; ///< n_converted / n_journeys
  int64_t min_support_count = 0;   ///< threshold asked for (1 for a pure top-k)
  int64_t final_support_count = 0;///< lowest support among the patterns kept
  bool truncated = false;          ///< max_patterns was hit
  std::string message;             ///< set when truncated: what happened and what to change
  PatternOptions options;          ///< as used
  std::string backend;             ///< "cpu" or "gpu"

  int64_t size() const { return static_cast<int64_t>(support.size()); }
  int64_t length(int64_t p) const { return offsets[p + 1] - offsets[p]; }
  std::vector<int32_t> items_of(int64_t p) const {
    return std::vector<int32_t>(items.begin() + offsets[p], items.begin() + offsets[p + 1]);
  }

  // Per-pattern statistics that follow from the two supports and the journey counts. They are
  // computed when asked (and when written) rather than kept: four columns of doubles would cost
  // more memory than the patterns' items on large results.
  double conversion_rate(int64_t p) const;  ///< converted_support / support (0 when support is 0)
  double lift(int64_t p) const;             ///< conversion_rate / base rate (1 when base rate is 0)
  double p_value(int64_t p) const;          ///< chi-square test of independence (1 df), two-sided
  double score(int64_t p) const;            ///< weighted relative accuracy, see contrast_score()
};

/// Mines the frequent patterns of `journeys` on the backend chosen in `ctx` (both give identical
/// patterns and counts) and computes their contrast. Throws ConfigError on invalid options and
/// GpuUnavailableError when the GPU backend is unusable.
PatternResult mine_patterns(const Context& ctx, const JourneySet& journeys, const PatternOptions& options);

/// Checks option values (throws ConfigError with an actionable message).
void validate_pattern_options(const PatternOptions& options);

/// Writes the /patterns group (see docs/patterns.md).
void write_patterns_results(ResultWriter& writer, const PatternResult& result, const JourneySet& journeys);

/// Readable block for the run summary: counts and the two headline lists with touchpoint names.
std::string format_patterns_summary(const PatternResult& result, const JourneySet& journeys);

/// "search > reviews > add_to_cart" for pattern p.
std::string pattern_text(const PatternResult& result, int64_t p, const JourneySet& journeys);

// ----------------------------------------------------------------------------------- backends

/// The mining problem as both backends see it, after validation.
/// The sequences are the journeys' own columns, not copies, read where they live: the GPU miner
/// reads the device CSR the journey builder left there. The journeys must outlive the problem.
struct MiningProblem {
  const HostDeviceVector<int64_t>* offsets = nullptr;  ///< [n_journeys + 1] event range of journey j in `items`
  const HostDeviceVector<int32_t>* items = nullptr;    ///< [n_events] item (touchpoint id) of each event
  const HostDeviceVector<uint8_t>* converted = nullptr;  ///< [n_journeys]
  /// [n_events] previous event of the journey with the same item, or -1. Filled for the GPU
  /// backend; the CPU miner indexes the database it actually mines (often a copy without
  /// infrequent items) itself.
  HostDeviceVector<int64_t> previous_same_item;
  int32_t n_items = 0;                 ///< items are in [0, n_items)
  int64_t min_count = 1;               ///< support threshold to start from
  int64_t keep = 0;                    ///< keep at most this many patterns (top-k or the cap)
  int64_t max_explored = 0;            ///< work budget (PatternOptions::max_explored)
  int max_length = 0;
  int min_length = 1;
  int max_gap = 0;
  int64_t gpu_batch_bytes = 0;
};

/// Raw output of a backend, already in canonical order and cut to `keep`.
struct FrequentPatterns {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> items;
  std::vector<int64_t> support;
  std::vector<int64_t> converted_support;
  bool truncated = false;  ///< more than `keep` patterns reached min_count
  bool budget_exceeded = false;      ///< stopped after max_explored patterns; the patterns are incomplete
  int64_t threshold_at_stop = 0;     ///< the support threshold in force when it stopped
  int64_t size() const { return static_cast<int64_t>(support.size()); }
};

/// Builds the problem from journeys: points at their CSR and, for the GPU backend, indexes
/// previous occurrences on the device (the CPU miner indexes what it mines itself).
MiningProblem make_mining_problem(const Context& ctx, const JourneySet& journeys, const PatternOptions& options);

namespace cpu_impl {
/// Multi-threaded pseudo-projection PrefixSpan: first-level branches are split across threads.
FrequentPatterns mine_frequent_patterns(const Context& ctx, const MiningProblem& problem);
/// The same through the general window scan alone, whatever the gap limit (without one the
/// default counts by last occurrences instead): the reference that path is tested against, and
/// what journeys of 2^31 events or more are mined with.
FrequentPatterns mine_frequent_patterns_by_window_scan(const Context& ctx, const MiningProblem& problem);
}  // namespace cpu_impl

namespace cuda_impl {
/// Level-batched PrefixSpan on the device: many prefixes expanded per launch, projected positions
/// as (prefix, position) arrays, extension support counted once per journey.
FrequentPatterns mine_frequent_patterns(const Context& ctx, const MiningProblem& problem);
/// MiningProblem::previous_same_item on the device, from the journeys' device CSR: the events
/// sorted stably by (journey, item) with CUB, each linked to its predecessor of the same key.
void index_previous_same_item(const Context& ctx, const JourneySet& journeys, int32_t n_items,
                              HostDeviceVector<int64_t>& previous_same_item);
}  // namespace cuda_impl

}  // namespace jm
