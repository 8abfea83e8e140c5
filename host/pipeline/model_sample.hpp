// The model stage of `run`: what a run at once and a run in batches both do with a trained model,
// and the sample a run in batches trains on: a seeded sample of whole customers that fits the
// memory a batch may use. The training set of a run at once is a sample already (at most [model]
// max_train_rows rows); in batches the held-out test journeys come from the sample too. When every
// customer fits, the sample is the whole input and /model equals a run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/core/records.hpp"
#include "host/model/boosting.hpp"
#include "journeymap/context.hpp"
#include "journeymap/features.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/model.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/run_config.hpp"

namespace jm {

/// Why the model stage of a run cannot train on `journeys` journeys of which `converted` converted
/// (a conversion model needs both outcomes); empty when it can.
std::string model_skip_reason(const ModelOptions& options, int64_t converted, int64_t journeys);

/// The model a run saves once its result is committed: `result`'s booster with how the run cut
/// journeys and outcomes (`score` cuts new events the same way) and, with [model] path, the training
/// profile of `journeys` and `features` (the ones it trained on) that `journeymap monitor` compares
/// against. The result's warnings go to the report.
Model model_to_save(const Context& ctx, const RunConfig& config, const OutcomeDefinition& outcome, ModelResult& result,
                    const JourneySet& journeys, const FeatureMatrix& features, RunReport& report);

/// /model for a model trained on `journeys` of the input's `input_journeys` journeys, its boosting
/// rounds run on `boosting_processes` processes (XGBoost's collective; 1: on one).
void write_run_model(ResultWriter& writer, const ModelResult& result, const JourneySet& journeys,
                     int64_t input_journeys, int boosting_processes);

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
  /// the last journey end of the whole input (the churn horizon). `peers`: other processes that
  /// boost with this one (nullptr: alone).
  ModelResult train(const Context& ctx, ModelOptions options, int64_t data_end_ms,
                    model_detail::BoostingPeers* peers = nullptr) const;

  /// The result's journey indices (test rows, in-flight prefixes) as indices into the whole input.
  void to_input_journeys(ModelResult& result) const;

  /// The sample as records, and another's added after this one's customers (a run across
  /// processes: each process samples its own customers, process 0 trains on them all).
  void save(RecordWriter& out) const;
  void add_saved(RecordReader& in);

  bool everyone() const { return fraction_ >= 1.0; }
  int64_t customers() const { return journeys_.customers.size(); }
  int64_t journeys() const { return journeys_.size(); }
  int64_t events() const { return journeys_.num_events(); }
  const JourneySet& sampled_journeys() const { return journeys_; }
  const FeatureMatrix& sampled_features() const { return features_; }

 private:
  // Appends the customers of `batch` that `keep` (by their id in the batch) with their feature
  // `rows`; `input_journey` maps a journey of the batch to its index in the whole input.
  void append_customers(const JourneySet& batch, const std::vector<float>& rows, const std::function<bool(uint32_t)>& keep,
                        const std::function<int64_t(int64_t)>& input_journey);

  double fraction_;
  uint64_t seed_;
  JourneySet journeys_;               ///< customers renumbered from 0 in input order
  FeatureMatrix features_;
  std::vector<int64_t> input_journey_;  ///< each sampled journey's index in the whole input
};

}  // namespace jm
