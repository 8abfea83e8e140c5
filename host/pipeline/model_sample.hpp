// The model of a run in batches: trained and evaluated on a seeded sample of whole customers that
// fits the memory a batch may use. The training set of a run at once is a sample already (at most
// [model] max_train_rows rows); in batches the held-out test journeys come from the sample too.
// When every customer fits, the sample is the whole input and /model equals a run at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/model.hpp"

namespace jm {

/// Why the model stage of a run cannot train on `journeys` journeys of which `converted` converted
/// (a conversion model needs both outcomes); empty when it can.
std::string model_skip_reason(const ModelOptions& options, int64_t converted, int64_t journeys);

/// Whether customer `customer` (its id in the whole input) is in a sample that keeps about
/// `fraction` of the customers (>= 1: all), drawn from `seed`. The same for any batching.
bool in_model_sample(uint32_t customer, double fraction, uint64_t seed);

/// The sample's journeys and their feature rows, gathered batch by batch in customer order.
class ModelSample {
 public:
  /// Keeps about `max_events` of the input's `input_events` events, in whole customers.
  ModelSample(const FeatureSpec& spec, const JourneySet& vocabulary, int64_t input_events, int64_t max_events,
              uint64_t seed);

  /// Adds the sampled customers of a batch: its journeys (customers numbered from 0; the first one
  /// is `first_customer` in the whole input, its first journey `first_journey`) and their features.
  void add(const JourneySet& batch, const FeatureMatrix& features, uint32_t first_customer, int64_t first_journey);

  /// train_journey_model on the sample (journey indices into sampled_journeys()). `data_end_ms` is
  /// the last journey end of the whole input (the churn horizon).
  ModelResult train(const Context& ctx, ModelOptions options, int64_t data_end_ms) const;

  /// The result's journey indices (test rows, in-flight prefixes) as indices into the whole input.
  void to_input_journeys(ModelResult& result) const;

  bool everyone() const { return fraction_ >= 1.0; }
  int64_t customers() const { return journeys_.customers.size(); }
  int64_t journeys() const { return journeys_.size(); }
  int64_t events() const { return journeys_.num_events(); }
  const JourneySet& sampled_journeys() const { return journeys_; }
  const FeatureMatrix& sampled_features() const { return features_; }

 private:
  double fraction_;
  uint64_t seed_;
  JourneySet journeys_;               ///< customers renumbered from 0 in input order
  FeatureMatrix features_;
  std::vector<int64_t> input_journey_;  ///< each sampled journey's index in the whole input
};

}  // namespace jm
