// The model of a run in batches on a sample of whole customers (model_sample.hpp).
#include "host/pipeline/model_sample.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "host/core/splitmix64.hpp"
#include "host/distributed/journey_records.hpp"
#include "journeymap/monitoring.hpp"

namespace jm {

std::string model_skip_reason(const ModelOptions& options, int64_t converted, int64_t journeys) {
  if (options.target != ModelTarget::Conversion || (converted > 0 && converted < journeys)) return {};
  return std::string("model: every journey ") + (converted == 0 ? "ends without" : "ends with") +
         " a conversion; a conversion model needs both outcomes";
}

Model model_to_save(const Context& ctx, const RunConfig& config, const OutcomeDefinition& outcome, ModelResult& result,
                    const JourneySet& journeys, const FeatureMatrix& features, RunReport& report) {
  result.model.journey_options = config.journeys;
  result.model.outcome = outcome;
  for (const std::string& warning : result.warnings) report.warnings.push_back("model: " + warning);
  Model saved = result.model;
  if (!config.model_path.empty())
    attach_model_reference(saved, fit_model_reference(ctx, saved, journeys, features, result));
  return saved;
}

void write_run_model(ResultWriter& writer, const ModelResult& result, const JourneySet& journeys,
                     int64_t input_journeys, int boosting_processes) {
  write_model_results(writer, result, journeys);
  writer.write_attribute("/model", "sample_journeys", journeys.size());
  writer.write_attribute("/model", "input_journeys", input_journeys);
  writer.write_attribute("/model", "boosting_processes", int64_t{boosting_processes});
}

bool in_model_sample(uint32_t customer, double fraction, uint64_t seed) {
  if (fraction >= 1.0) return true;
  const uint64_t draw = splitmix64_mix(seed ^ 0x6d6f64656c000000ull ^ (static_cast<uint64_t>(customer) * 0x9E3779B97F4A7C15ull));
  return static_cast<double>(draw >> 11) * (1.0 / 9007199254740992.0) < fraction;
}

ModelSample::ModelSample(const FeatureSpec& spec, const JourneySet& vocabulary, int64_t input_events, int64_t max_events,
                         uint64_t seed)
    : fraction_(input_events <= max_events ? 1.0 : static_cast<double>(max_events) / static_cast<double>(input_events)),
      seed_(seed) {
  journeys_.touchpoints = vocabulary.touchpoints;
  journeys_.channels = vocabulary.channels;
  journeys_.covariates = vocabulary.covariates;
  journeys_.offsets.push_back(0);
  features_.spec = spec;
}

namespace {

// Appends batch[first, last) of a per-journey or per-event column to `out`.
template <typename T>
void append_range(HostDeviceVector<T>& out, const HostDeviceVector<T>& batch, int64_t first, int64_t last) {
  const std::vector<T>& from = batch.host();
  out.host_mut().insert(out.host_mut().end(), from.begin() + first, from.begin() + last);
}

}  // namespace

void ModelSample::add(const JourneySet& batch, const FeatureMatrix& features, uint32_t first_customer,
                      int64_t first_journey) {
  append_customers(
      batch, features.values.host(), [&](uint32_t local) { return in_model_sample(first_customer + local, fraction_, seed_); },
      [&](int64_t j) { return first_journey + j; });
}

void ModelSample::append_customers(const JourneySet& batch, const std::vector<float>& rows,
                                   const std::function<bool(uint32_t)>& keep,
                                   const std::function<int64_t(int64_t)>& input_journey) {
  if (batch.has_outcomes() && journeys_.outcome_labels.size() == 0) {
    journeys_.outcome_labels = batch.outcome_labels;
    journeys_.positive_outcome = batch.positive_outcome;
  }
  const auto width = static_cast<size_t>(features_.num_features());
  const std::vector<int64_t>& offsets = batch.offsets.host();
  const std::vector<uint32_t>& customer = batch.customer.host();
  std::vector<float>& kept_rows = features_.values.host_mut();
  std::vector<int64_t>& kept_offsets = journeys_.offsets.host_mut();
  // A customer's journeys are consecutive: each sampled customer's are copied as one range. Their
  // names join the dictionary in one fill (one at a time rebuilds its index each time).
  std::vector<std::string> names;
  const auto customers_before = static_cast<uint32_t>(journeys_.customers.size());
  for (int64_t j = 0; j < batch.size();) {
    const uint32_t local = customer[static_cast<size_t>(j)];
    int64_t end = j + 1;
    while (end < batch.size() && customer[static_cast<size_t>(end)] == local) ++end;
    if (keep(local)) {
      names.push_back(batch.customers.name(static_cast<int32_t>(local)));
      const auto id = customers_before + static_cast<uint32_t>(names.size() - 1);
      const int64_t shift = static_cast<int64_t>(journeys_.touchpoint.size()) - offsets[static_cast<size_t>(j)];
      for (int64_t k = j; k < end; ++k) {
        kept_offsets.push_back(offsets[static_cast<size_t>(k) + 1] + shift);
        journeys_.customer.host_mut().push_back(id);
        input_journey_.push_back(input_journey(k));
      }
      const int64_t first_event = offsets[static_cast<size_t>(j)], last_event = offsets[static_cast<size_t>(end)];
      append_range(journeys_.touchpoint, batch.touchpoint, first_event, last_event);
      append_range(journeys_.channel, batch.channel, first_event, last_event);
      append_range(journeys_.timestamp_ms, batch.timestamp_ms, first_event, last_event);
      append_range(journeys_.value, batch.value, first_event, last_event);
      append_range(journeys_.converted, batch.converted, j, end);
      append_range(journeys_.conversion_value, batch.conversion_value, j, end);
      append_range(journeys_.start_ms, batch.start_ms, j, end);
      append_range(journeys_.end_ms, batch.end_ms, j, end);
      if (batch.has_outcomes()) {
        append_range(journeys_.outcome, batch.outcome, j, end);
        append_range(journeys_.outcome_ms, batch.outcome_ms, j, end);
      }
      kept_rows.insert(kept_rows.end(), rows.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(j) * width),
                       rows.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(end) * width));
    }
    j = end;
  }
  journeys_.customers.append_distinct(std::move(names));
  features_.n_rows = journeys_.size();
}

void ModelSample::save(RecordWriter& out) const {
  out.texts(journeys_.customers.names());
  out.text(save_journey_batch(journeys_, {}, 0));
  out.texts(journeys_.outcome_labels.names());
  out.value(journeys_.positive_outcome);
  out.values(features_.values.host());
  out.values(input_journey_);
}

void ModelSample::add_saved(RecordReader& in) {
  const std::vector<std::string> names = in.texts();
  JourneyBatchRecords part = read_journey_batch(in.text());
  JourneySet& batch = part.journeys;
  const std::vector<std::string> outcome_labels = in.texts();
  const auto positive_outcome = in.value<int32_t>();
  const std::vector<float> rows = in.values<float>();
  const std::vector<int64_t> input_journeys = in.values<int64_t>();
  const auto n = static_cast<size_t>(batch.size());
  const std::vector<uint32_t>& customer = batch.customer.host();
  const bool customers_known =
      std::all_of(customer.begin(), customer.end(), [&](uint32_t c) { return c < names.size(); });
  if (input_journeys.size() != n || rows.size() != n * static_cast<size_t>(features_.num_features()) || !customers_known)
    throw Error("model: another process's sample is malformed");
  batch.customers.append_distinct(names);
  for (const std::string& label : outcome_labels) batch.outcome_labels.encode(label);
  batch.positive_outcome = positive_outcome;
  append_customers(batch, rows, [](uint32_t) { return true; },
                   [&](int64_t j) { return input_journeys[static_cast<size_t>(j)]; });
}

ModelResult ModelSample::train(const Context& ctx, ModelOptions options, int64_t data_end_ms,
                               model_detail::BoostingPeers* peers) const {
  options.churn_data_end_ms = data_end_ms;
  return model_detail::train_journey_model(ctx, journeys_, features_, options, nullptr, peers);
}

void ModelSample::to_input_journeys(ModelResult& result) const {
  for (int64_t& j : result.test_journeys) j = input_journey_[static_cast<size_t>(j)];
  for (int64_t& j : result.in_flight.journey) j = input_journey_[static_cast<size_t>(j)];
}

}  // namespace jm
