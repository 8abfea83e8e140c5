// Attribution: which touchpoints and channels drive conversions.
//
//   jm::AttributionResult credit = jm::compute_attribution(ctx, journeys, jm::AttributionOptions{});
//   // credit.by_channel.markov[c]: conversions credited to channel c by the Markov removal effect
//   jm::write_attribution_results(writer, credit, journeys);     // the /attribution group
//
// Models (every one distributes each converted journey's single conversion over its touches, so
// each column sums to `conversions_attributed`):
//   first_touch, last_touch   all credit to the first / last touch
//   linear                    equal shares
//   time_decay                shares proportional to 2^(-(t_conversion - t_touch) / half_life)
//   position_based            40% first, 40% last, 20% spread over the middle (U-shaped)
//   markov                    data-driven: removal effect of each state in the first-order Markov
//                             chain start -> touches -> conversion | null, credit proportional to it
//
// The touches of a journey are its events except those of the conversion touchpoint (the event
// that records the purchase is the outcome, not a cause). Attribution is host code on both
// backends: after the flows counting it is a single pass over the journeys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultWriter;

struct AttributionOptions {
  double time_decay_half_life_days = 7.0;  ///< > 0
  double position_first_share = 0.4;      ///< position-based: share of the first touch
  double position_last_share = 0.4;        ///< position-based: share of the last touch
  /// Markov order. 1 always runs; 2..4 also fills the markov_higher columns (states are the last
  /// `markov_order` touches).
  int markov_order = 1;
  /// The Markov chain keeps the `markov_max_ids - 1` most touched ids as their own states and pools
  /// the rest into one state, so removal effects (one absorption solve per state) stay bounded with
  /// huge vocabularies. A pooled id's credit is the pool's credit split by its touches.
  int32_t markov_max_ids = 500;
};

/// Credited conversions per touchpoint or per channel, one column per model.
struct AttributionTable {
  std::vector<std::string> names;  ///< [n] touchpoint or channel names
  std::vector<double> first_touch, last_touch, linear, time_decay, position_based;
  std::vector<double> markov;                 ///< first-order Markov credit
  std::vector<double> markov_removal_effect;  ///< 1 - P(conv | removed) / P(conv)
  std::vector<double> markov_higher;                 ///< order `markov_order` credit (empty when order 1)
  std::vector<double> markov_higher_removal_effect;
  double markov_conversion_probability = 0.0;         ///< P(conversion) of the first-order chain
  double markov_higher_conversion_probability = 0.0;
  /// [n] 1 where the id shared the pooled Markov state (its removal effects are then NaN: not
  /// computed on their own); empty when nothing was pooled.
  std::vector<uint8_t> markov_pooled;
};

struct AttributionResult {
  int64_t conversions = 0;                  ///< converted journeys
  int64_t conversions_attributed = 0;       ///< converted journeys with at least one touch
  AttributionOptions options;               ///< the effective options
  AttributionTable by_touchpoint;
  AttributionTable by_channel;
};

/// Runs every model for touchpoints and channels. Throws ConfigError on bad options.
AttributionResult compute_attribution(const Context& ctx, const JourneySet& journeys, const AttributionOptions& options);

/// Markov-chain removal-effect attribution of explicit paths, the building block of the markov
/// columns (public for tests and notebooks). Path p is ids[offsets[p] .. offsets[p+1]) over states
/// 0..n_ids-1 and ends in conversion when converted[p] != 0, otherwise in null. An empty path goes
/// straight from start to its outcome.
struct MarkovAttribution {
  double conversion_probability = 0.0;  ///< P(reach conversion from start)
  std::vector<double> removal_effect;   ///< [n_ids]
  std::vector<double> credit;           ///< [n_ids] conversions of non-empty converted paths, split by removal effect
  int64_t n_states = 0;                 ///< chain states besides start/conversion/null
};
MarkovAttribution markov_attribution(const Context& ctx, const std::vector<int64_t>& offsets,
                                     const std::vector<int32_t>& ids, const std::vector<uint8_t>& converted,
                                     int32_t n_ids, int order = 1);

/// Writes the /attribution group (see docs/flows.md).
void write_attribution_results(ResultWriter& writer, const AttributionResult& attribution, const JourneySet& journeys);

/// Readable block for the run summary: the top channels and touchpoints under each model.
std::string format_attribution_summary(const AttributionResult& attribution, const JourneySet& journeys);

}  // namespace jm
