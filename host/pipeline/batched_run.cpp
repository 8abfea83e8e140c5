// `run` batch by batch under a host memory budget (batched_run.hpp).
#include "host/pipeline/batched_run.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/anomalies/alert_tally.hpp"
#include "host/core/records.hpp"
#include "host/distributed/customer_share.hpp"
#include "host/distributed/distributed_input.hpp"
#include "host/distributed/combine_across.hpp"
#include "host/distributed/journey_records.hpp"
#include "host/distributed/records_to_first.hpp"
#include "host/distributed/process_group.hpp"
#include "host/distributed/tallies_across.hpp"
#include "host/model/boosting_across.hpp"
#include "host/flows/attribution_tally.hpp"
#include "host/flows/flow_tally.hpp"
#include "host/features/feature_tallies.hpp"
#include "host/patterns/batched_mining.hpp"
#include "host/pipeline/anomalies_across.hpp"
#include "host/pipeline/batched_anomalies.hpp"
#include "host/pipeline/journey_batches.hpp"
#include "host/pipeline/model_sample.hpp"
#include "host/pipeline/summary_tally.hpp"
#include "host/segments/batched_segments.hpp"
#include "host/segments/segment_parts.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/covariates.hpp"
#include "journeymap/features.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/model.hpp"
#include "journeymap/patterns.hpp"
#include "journeymap/proposals.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {
namespace {

// Settings a batched run cannot apply yet: ConfigError naming them, before anything is read.
void require_batchable(const RunConfig& config) {
  auto refuse = [](const std::string& what) {
    throw ConfigError("[run] host_memory_budget / device_memory_budget: " + what + " is not applied in a run in "
                      "batches; run without a memory budget for it");
  };
  if (config.sources.empty() && !config.identity.files.empty()) throw ConfigError("[identity] files need [[source]] tables");
  if (config.input_format == InputFormat::Spmf && config.csv.on_error == OnError::Skip)
    throw ConfigError("--on-error skip applies to CSV input only, not SPMF");
  if (!config.append_base.empty()) refuse("--append");
  if (config.filter.active() || !config.filter.segments.empty()) refuse("[filter]");
  if (config.compare_enabled) refuse("[compare]");
  if (!config.case_attributes_path.empty()) refuse("[input] case_attributes (a model input)");
  if (!config.experiment.dimension.empty()) refuse("[experiment]");
  if (!config.breakdowns.dimensions.empty()) refuse("[breakdowns] dimensions");
  if (config.patterns_enabled && config.patterns.top_k > 0) refuse("[patterns] top_k (batches count against a minimum support)");
  // Sources, a taxonomy, custom dimensions, label files and window rules: JourneyBatches says which.
}

// Features are computed when a run at once computes them: for segments, the model or journey
// anomaly scores.
bool computes_features(const RunConfig& config) {
  return config.segments_enabled || config.model_enabled || (config.anomalies_enabled && config.anomalies.journeys_enabled);
}

// Flow tallies summed like a binary counter: two sums of the same number of batches merge into one,
// so each batch's variants are merged about log2(batches) times instead of once per later batch
// (the variant table grows with the journeys; adding every part to one total was quadratic).
class FlowTallySum {
 public:
  void add(FlowTally part) {
    int64_t batches = 1;
    while (!levels_.empty() && levels_.back().second == batches) {
      add_flow_tally(levels_.back().first, part, +1);
      part = std::move(levels_.back().first);
      levels_.pop_back();
      batches *= 2;
    }
    levels_.emplace_back(std::move(part), batches);
  }
  FlowTally total() && {
    FlowTally total = std::move(levels_.back().first);
    for (size_t level = levels_.size() - 1; level-- > 0;) add_flow_tally(total, levels_[level].first, +1);
    return total;
  }

 private:
  std::vector<std::pair<FlowTally, int64_t>> levels_;  ///< (sum, batches in it), fewest batches last
};

// Standardised points k-means may hold at once: a quarter of the budget at 16 bytes a value (the
// points and the Lloyd step's own arrays).
int64_t points_in_memory(const RunConfig& config, int dims) {
  if (config.host_memory_budget == 0) return std::numeric_limits<int64_t>::max();  // a device budget alone
  return config.host_memory_budget / 4 / (static_cast<int64_t>(dims) * 16);
}

// "[run] host_memory_budget 4GiB", the device budget too when set: what the batches are sized by.
std::string describe_budgets(const RunConfig& config) {
  std::string text;
  if (config.host_memory_budget > 0) text = "[run] host_memory_budget " + format_memory_size(config.host_memory_budget);
  if (config.device_memory_budget > 0)
    text += (text.empty() ? "" : ", ") + std::string("[run] device_memory_budget ") +
            format_memory_size(config.device_memory_budget);
  return text;
}

// The journeys of a batch run: every batch built, written and tallied once, in customer order.
struct FirstPass {
  JourneySummaryTally summary;
  JourneyBuildStats build_stats;
  FlowTally flows;
  AlertTally alerts;
  std::optional<FeatureSpecTally> feature_spec;  ///< when a stage reads features
  std::optional<ProposalTally> proposals;
  std::vector<uint8_t> converted;  ///< per journey, for the proposals from anomaly clusters
  JourneySet labelled;            ///< the outcome labels (of a batch that carried outcomes), for /vocab/outcomes
  int64_t own_journeys = 0;       ///< the journeys of this process's batches (not summed over processes)
  /// On a process of several that does not write the result: its journeys, to send to process 0.
  std::unique_ptr<SpooledRecords> to_send;
};

// `writer`: null on a process that does not write the result, which keeps its journeys in
// `to_send` instead; `first_customer`: the id of this process's first customer among every process's.
FirstPass first_pass(const RunConfig& config, const Context& ctx, JourneyBatches& batches, ResultWriter* writer,
                     std::unique_ptr<SpooledRecords> to_send, int64_t first_customer,
                     const std::vector<int32_t>& named_funnel) {
  FirstPass pass;
  pass.to_send = std::move(to_send);
  const bool alerts = config.anomalies_enabled && config.anomalies.alerts_enabled;
  StepTimer step(ctx);
  std::vector<int64_t> customer_last_ms;
  FlowTallySum flows;
  if (computes_features(config)) pass.feature_spec.emplace(config.features);
  if (config.proposals_enabled) pass.proposals.emplace();
  const bool keep_converted = config.proposals_enabled && config.anomalies_enabled && config.anomalies.journeys_enabled;
  for (int64_t b = 0; b < batches.size(); ++b) {
    step.next("build");
    JourneySet journeys = batches.journeys(b, &customer_last_ms);
    if (writer) {
      step.next("write");
      writer->append_journeys(journeys, static_cast<uint32_t>(first_customer + batches.first_customer(b)));
      writer->append("/journeys/customer_last_ms", customer_last_ms);
    } else if (pass.to_send) {
      step.next("keep to send");
      pass.to_send->add(save_journey_batch(journeys, customer_last_ms, batches.first_customer(b)));
    }
    step.next("summary");
    pass.own_journeys += journeys.size();
    pass.summary.add(journeys);
    pass.build_stats.input_events += journeys.stats.input_events;
    pass.build_stats.duplicates_dropped += journeys.stats.duplicates_dropped;
    pass.build_stats.events_truncated += journeys.stats.events_truncated;
    if (config.flows_enabled) {
      step.next("flow tally");
      flows.add(tally_flows(ctx, journeys, config.flows, &named_funnel));
    }
    if (pass.feature_spec) {
      step.next("feature spec");
      pass.feature_spec->add(journeys);
    }
    if (pass.proposals) {
      step.next("proposal tally");
      pass.proposals->add(journeys);
      if (keep_converted) pass.converted.insert(pass.converted.end(), journeys.converted.begin(), journeys.converted.end());
    }
    if (alerts) {
      step.next("alert tally");
      const AlertTally part = tally_alerts(journeys, config.anomalies.alerts.bucket_seconds);
      if (b == 0) pass.alerts = part;
      else add_alert_tally(pass.alerts, part, +1);
    }
    if (config.progress && batches.size() > 1)
      std::fprintf(stderr, "[journeymap] journeys  batch %lld of %lld: %lld journeys\n", static_cast<long long>(b + 1),
                   static_cast<long long>(batches.size()), static_cast<long long>(journeys.size()));
    if (journeys.has_outcomes() && pass.labelled.outcome_labels.size() == 0) {
      pass.labelled.outcome_labels = journeys.outcome_labels;
      pass.labelled.positive_outcome = journeys.positive_outcome;
    }
  }
  if (config.flows_enabled && batches.size() > 0) {
    step.next("flow tally");
    pass.flows = std::move(flows).total();
  }
  return pass;
}

// The first pass's tallies of every process, on every process (a run across processes).
void sum_first_pass(const RunConfig& config, ProcessGroup& group, FirstPass& pass) {
  sum_over_processes(group, pass.summary);
  sum_over_processes(group, pass.build_stats);
  sum_over_processes(group, pass.flows);
  sum_over_processes(group, pass.alerts);
  if (pass.proposals) sum_over_processes(group, *pass.proposals);
  if (pass.feature_spec) sum_over_processes(group, *pass.feature_spec, config.features);
  // The outcome labels come from the configuration, alike everywhere: any process that built a
  // journey with outcomes knows them (process 0 may own no customer).
  RecordWriter out;
  out.texts(pass.labelled.outcome_labels.names());
  out.value(pass.labelled.positive_outcome);
  for (const std::string& part : group.all_gather(out.take())) {
    RecordReader in(part);
    const std::vector<std::string> names = in.texts();
    const auto positive = in.value<int32_t>();
    if (names.empty() || pass.labelled.outcome_labels.size() > 0) continue;
    for (const std::string& name : names) pass.labelled.outcome_labels.encode(name);
    pass.labelled.positive_outcome = positive;
  }
}

// The journeys of the other processes, written by process 0 (`writer`) after its own: process by
// process and batch by batch as each kept them in its first pass (send_records_to_first).
void write_journeys_of_other_processes(ProcessGroup& group, const SpooledRecords* to_send, ResultWriter* writer,
                                       const std::vector<int64_t>& first_customer) {
  send_records_to_first(group, to_send, [&](int process, const std::string& bytes) {
    const JourneyBatchRecords batch = read_journey_batch(bytes);
    writer->append_journeys(batch.journeys,
                            static_cast<uint32_t>(first_customer[static_cast<size_t>(process)] + batch.first_customer));
    writer->append("/journeys/customer_last_ms", batch.customer_last_ms);
  });
}

// A batch's rows of the feature matrix as a record, and read back: what a process that does not
// write the result sends process 0 for /features/matrix.
std::string save_feature_rows(const FeatureMatrix& features) {
  RecordWriter out;
  out.value<int64_t>(features.num_features());
  out.values(features.values.host());
  return out.take();
}

void append_feature_rows(ResultWriter& writer, const std::string& bytes, int64_t num_features) {
  RecordReader in(bytes);
  const auto columns = in.value<int64_t>();
  const std::vector<float> values = in.values<float>();
  if (columns != num_features || !in.done() || (columns > 0 && values.size() % static_cast<size_t>(columns) != 0))
    throw Error("features: another process's rows of the feature matrix are malformed");
  writer.append_rows("/features/matrix", values, static_cast<size_t>(num_features));
}

// Every process's customer names in rank order, on process 0 (empty elsewhere).
std::vector<std::string> customer_names_of_all(ProcessGroup& group, const Vocabulary& own) {
  RecordWriter out;
  out.texts(own.names());
  std::vector<std::string> names;
  for (const std::string& part : group.gather_to_first(out.take())) {
    RecordReader in(part);
    for (std::string& name : in.texts()) names.push_back(std::move(name));
  }
  return names;
}

// Host memory that grows with the whole input rather than with a batch, once the first pass has
// seen every journey: the customer dictionary (names and their index), 8 bytes a journey for the
// duration median, with segments about 40 more (labels, profile lengths and durations, funnel
// depths), and the flow variants.
int64_t bytes_held_for_the_input(const RunConfig& config, const IngestResult& ingest, const FirstPass& pass,
                                 int64_t journeys) {
  int64_t bytes = 0;
  const Vocabulary& customers = ingest.events.customers;
  for (int32_t c = 0; c < customers.size(); ++c) bytes += static_cast<int64_t>(customers.name(c).size()) + 64;
  bytes += journeys * (config.segments_enabled ? 48 : 8);
  // Journey anomaly scores: two scores, flags and explanations, and the rank orders that compare them.
  if (config.anomalies_enabled && config.anomalies.journeys_enabled) bytes += journeys * 80;
  const VariantTable& variants = pass.flows.variants;
  bytes += static_cast<int64_t>(variants.touchpoints.size() * sizeof(int32_t) +
                                variants.journeys.size() * (3 * sizeof(int64_t) + sizeof(uint64_t)));
  return bytes;
}

// What needs every batch's first pass before it can count: a funnel derived from the path variants
// (known once every batch's variants are summed) and the attribution (its Markov pooling follows
// the touches of all journeys). One more pass over the batches counts both.
struct SecondPass {
  std::optional<FunnelTally> funnel;
  std::optional<AttributionTally> attribution;
  // Segments: the features of every journey (their statistics; the matrix goes to the result as it
  // comes) and the segment columns kept for the k-means passes.
  std::optional<FeatureSpec> feature_spec;
  FeatureColumnStats feature_stats;
  std::unique_ptr<SegmentInputs> segment_inputs;
  std::unique_ptr<ModelSample> model_sample;  ///< the customers the model trains and is evaluated on
  std::unique_ptr<FeatureColumnsFile> anomaly_inputs;  ///< the anomaly columns of every journey
  std::vector<int64_t> first_journeys;  ///< of each batch, then the number of journeys
  /// On a process of several that does not write the result: its rows of the feature matrix.
  std::unique_ptr<SpooledRecords> features_to_send;
};

// The attribution tally of the journeys the first pass summed: their touches fix its Markov pooling.
AttributionTally make_attribution_tally(const RunConfig& config, const FirstPass& first, const JourneySet& vocabulary) {
  std::vector<int64_t> touchpoint_touches = first.summary.touchpoint_events(), channel_touches = first.summary.channel_events();
  touchpoint_touches.resize(static_cast<size_t>(vocabulary.touchpoints.size()), 0);
  channel_touches.resize(static_cast<size_t>(vocabulary.channels.size()), 0);
  return AttributionTally(config.attribution, std::move(touchpoint_touches), std::move(channel_touches));
}

SecondPass second_pass(const RunConfig& config, const Context& ctx, JourneyBatches& batches, const FirstPass& first,
                       const JourneySet& vocabulary, ResultWriter* writer, std::optional<FeatureSpec> feature_spec,
                       std::unique_ptr<SegmentInputs> segment_inputs, std::unique_ptr<ModelSample> model_sample,
                       std::unique_ptr<FeatureColumnsFile> anomaly_inputs,
                       std::unique_ptr<SpooledRecords> features_to_send, int64_t process_first_customer,
                       int64_t process_first_journey) {
  SecondPass pass;
  pass.anomaly_inputs = std::move(anomaly_inputs);
  pass.features_to_send = std::move(features_to_send);
  pass.feature_spec = std::move(feature_spec);
  pass.segment_inputs = std::move(segment_inputs);
  pass.model_sample = std::move(model_sample);
  std::vector<int32_t> funnel;
  if (config.flows_enabled) {
    funnel = resolve_funnel(config.flows, vocabulary, first.flows.variants);
    if (funnel != first.flows.funnel.steps) pass.funnel.emplace();
  }
  if (config.attribution_enabled) pass.attribution.emplace(make_attribution_tally(config, first, vocabulary));
  if (!pass.funnel && !pass.attribution && !pass.feature_spec) return pass;
  StepTimer step(ctx);
  int64_t first_journey = 0;
  for (int64_t b = 0; b < batches.size(); ++b) {
    step.next("build again");
    JourneySet journeys = batches.journeys(b);
    pass.first_journeys.push_back(first_journey);
    if (pass.feature_spec) {
      step.next("features");
      journeys.covariates = vocabulary.covariates;
      const FeatureMatrix features = extract_features(ctx, journeys, *pass.feature_spec);
      pass.feature_stats.add(features);
      if (pass.segment_inputs) pass.segment_inputs->add(features);
      if (pass.anomaly_inputs) pass.anomaly_inputs->add(features);
      if (pass.model_sample) {
        step.next("model sample");
        pass.model_sample->add(journeys, features,
                               static_cast<uint32_t>(process_first_customer + batches.first_customer(b)),
                               process_first_journey + first_journey);
      }
      step.next("write features");
      if (config.store_feature_matrix && writer)
        writer->append_rows("/features/matrix", features.values.host(), static_cast<size_t>(features.num_features()));
      else if (config.store_feature_matrix && pass.features_to_send)
        pass.features_to_send->add(save_feature_rows(features));
    }
    if (pass.funnel) {
      step.next("funnel tally");
      const FunnelTally part = tally_followed_funnel(ctx, journeys, config.flows, funnel);
      if (b == 0) *pass.funnel = part;
      else add_funnel_tally(*pass.funnel, part, +1);
    }
    if (pass.attribution) {
      step.next("attribution tally");
      pass.attribution->add(ctx, journeys);
    }
    first_journey += journeys.size();
  }
  pass.first_journeys.push_back(first_journey);
  return pass;
}

// What needs the segments of every journey: their profiles and the flows' funnel by segment (each
// journey's funnel depth with its segment). One more pass over the batches.
struct ThirdPass {
  std::optional<segments_detail::SegmentProfileTally> profiles;
  std::vector<uint8_t> funnel_depth;     ///< per journey the flows follow
  std::vector<int32_t> funnel_segment;  ///< its segment
};

segments_detail::SegmentProfileTally empty_profile_tally(const SegmentResult& segments, const JourneySet& vocabulary) {
  return segments_detail::SegmentProfileTally(segments.k, static_cast<int>(segments.scaling.dims()),
                                              vocabulary.touchpoints.size(), vocabulary.channels.size());
}

ThirdPass third_pass(const RunConfig& config, const Context& ctx, JourneyBatches& batches, const SegmentInputs& inputs,
                     const JourneySet& vocabulary, const std::vector<int32_t>* funnel, const SegmentResult& segments) {
  ThirdPass pass;
  const int dims = inputs.dims();
  segments_detail::SegmentProfileTally& profiles = pass.profiles.emplace(empty_profile_tally(segments, vocabulary));
  std::vector<int> identity(static_cast<size_t>(dims));
  std::iota(identity.begin(), identity.end(), 0);
  std::vector<float> raw, scaled;
  StepTimer step(ctx);
  int64_t first = 0;
  for (int64_t b = 0; b < batches.size(); ++b) {
    step.next("build again");
    const JourneySet journeys = batches.journeys(b);
    const int64_t n = journeys.size();
    const int32_t* labels = segments.labels.data() + first;
    step.next("segment profiles");
    raw.resize(static_cast<size_t>(n * dims));
    inputs.read(first, n, raw.data());
    scaled = raw;
    standardise_rows(segments.scaling, scaled);
    profiles.add(journeys, labels, raw.data(), dims, identity, scaled.data());
    if (funnel) {
      step.next("funnel by segment");
      std::vector<int64_t> rows;
      const FunnelTally counted = tally_followed_funnel(ctx, journeys, config.flows, *funnel, &rows);
      pass.funnel_depth.insert(pass.funnel_depth.end(), counted.journey_depth.begin(), counted.journey_depth.end());
      for (const int64_t row : rows) pass.funnel_segment.push_back(labels[row]);
    }
    first += n;
  }
  return pass;
}

// What the model's sample is, for the reasons a model is skipped.
std::string describe_model_sample(const ModelSample& sample) {
  return "the sample of " + std::to_string(sample.customers()) + " customers (" + std::to_string(sample.journeys()) +
         " journeys; [run] model_sample_events)";
}

// The model on the sample of customers, trained and evaluated as a run at once does on all of
// them (`peers`: processes that boost with this one). None, with the reason in `skipped`, when a
// sample (not every customer) is too small to train and test on.
std::optional<ModelResult> train_sampled_model(const RunConfig& config, const Context& ctx, const ModelSample& sample,
                                               const RunReport& report, std::vector<std::string>& skipped,
                                               model_detail::BoostingPeers* peers) {
  const JourneySet& journeys = sample.sampled_journeys();
  const auto converted = std::count(journeys.converted.begin(), journeys.converted.end(), uint8_t{1});
  if (!model_skip_reason(config.model, converted, journeys.size()).empty() || journeys.size() == 0) {
    skipped.push_back("model: " + describe_model_sample(sample) + " holds " +
                      (journeys.size() == 0 ? std::string("no journeys") : "journeys with one outcome only") +
                      "; raise [run] model_sample_events");
    return std::nullopt;
  }
  try {
    return sample.train(ctx, config.model, report.summary.last_event_ms, peers);
  } catch (const InsufficientDataError& error) {
    skipped.push_back(sample.everyone() ? error.reason()
                                        : "model: not trained on " + describe_model_sample(sample) + ": " + error.reason() +
                                              "; raise [run] model_sample_events");
    return std::nullopt;
  } catch (const ConfigError& error) {
    if (sample.everyone()) throw;  // as a run at once would fail
    skipped.push_back("model: not trained on " + describe_model_sample(sample) + ": " + error.what() +
                      "; raise [run] model_sample_events");
    return std::nullopt;
  }
}

// Writes /model for `model`, trained on `sample`, with its journey indices those of the whole
// input; returns the model to save after the commit. `boosting_processes`: how many processes ran
// its boosting rounds (XGBoost's collective; 1: one).
Model write_sampled_model(const RunConfig& config, const Context& ctx, const ModelSample& sample,
                          const OutcomeDefinition& outcome, ModelResult& model, int boosting_processes,
                          RunReport& report, StageClock& clock, ResultWriter& writer) {
  const JourneySet& journeys = sample.sampled_journeys();
  const Model trained = model_to_save(ctx, config, outcome, model, journeys, sample.sampled_features(), report);
  sample.to_input_journeys(model);
  clock.run("write", [&] {
    const StepTimer step(ctx, "model");
    write_run_model(writer, model, journeys, report.summary.journeys, boosting_processes);
  });
  std::string summary = format_model_summary(model, sample.sampled_journeys());
  if (boosting_processes > 1)
    summary += "  boosting rounds run on " + std::to_string(boosting_processes) +
               " processes, each on a share of the training rows (XGBoost's collective)\n";
  if (!sample.everyone())
    summary += "  trained and evaluated on a seeded sample of " + std::to_string(sample.customers()) + " customers (" +
               std::to_string(sample.journeys()) + " of " + std::to_string(report.summary.journeys) +
               " journeys; [run] model_sample_events)\n";
  report.stage_summaries.push_back(std::move(summary));
  return trained;
}

// The top anomalous journeys' paths, customers and lengths, from the batches that hold them; the
// batches' journeys are journeys `process_first_journey` + first_journeys[b] on of the result.
void describe_top_journeys_in_batches(const Context& ctx, JourneyBatches& batches, const std::vector<int64_t>& first_journeys,
                                      int64_t process_first_journey, int path_events, JourneyAnomalies& anomalies) {
  const StepTimer step(ctx, "top journeys");
  for (int64_t b = 0; b < batches.size(); ++b) {
    const int64_t first = process_first_journey + first_journeys[static_cast<size_t>(b)],
                  end = process_first_journey + first_journeys[static_cast<size_t>(b) + 1];
    const bool holds_one = std::any_of(anomalies.top.begin(), anomalies.top.end(), [&](const AnomalousJourney& item) {
      return item.journey >= first && item.journey < end;
    });
    if (holds_one) describe_top_journeys(anomalies, batches.journeys(b), first, path_events);
  }
}

// Across processes: process 0 names the top journeys, each process describes those it holds, and
// process 0 takes the descriptions.
void describe_top_journeys_across(const Context& ctx, ProcessGroup& group, JourneyBatches& batches,
                                  const std::vector<int64_t>& first_journeys, int64_t process_first_journey,
                                  int path_events, JourneyAnomalies& anomalies) {
  std::vector<int64_t> top;
  for (const AnomalousJourney& item : anomalies.top) top.push_back(item.journey);
  RecordWriter named;
  named.values(top);
  const std::vector<std::string> gathered = group.all_gather(group.rank() == 0 ? named.take() : std::string());
  RecordReader named_in(gathered[0]);
  JourneyAnomalies own;
  for (const int64_t journey : named_in.values<int64_t>()) own.top.emplace_back().journey = journey;
  const int64_t end = process_first_journey + (first_journeys.empty() ? 0 : first_journeys.back());
  RecordWriter described;
  group.run_agreed([&] {
    describe_top_journeys_in_batches(ctx, batches, first_journeys, process_first_journey, path_events, own);
    for (const AnomalousJourney& item : own.top) {
      if (item.journey < process_first_journey || item.journey >= end) continue;
      described.value(item.journey);
      described.text(item.path);
      described.text(item.customer);
      described.value(item.events);
    }
  });
  const std::vector<std::string> parts = group.gather_to_first(described.take());
  group.run_agreed([&] {
    for (const std::string& part : parts) {
      RecordReader in(part);
      while (!in.done()) {
        const auto journey = in.value<int64_t>();
        std::string path = in.text(), customer = in.text();
        const auto events = in.value<int64_t>();
        for (AnomalousJourney& item : anomalies.top)
          if (item.journey == journey) item.path = path, item.customer = customer, item.events = events;
      }
    }
  });
}

}  // namespace

int64_t batch_events_for_budget(int64_t budget_bytes) {
  return std::max<int64_t>(1, budget_bytes / 4 / kHostBytesPerBatchEvent);
}

int64_t batch_events_for(const RunConfig& config) {
  int64_t events = std::numeric_limits<int64_t>::max();
  if (config.host_memory_budget > 0) events = batch_events_for_budget(config.host_memory_budget);
  if (config.device_memory_budget > 0)
    events = std::min(events, std::max<int64_t>(1, config.device_memory_budget / 2 / kDeviceBytesPerBatchEvent));
  return events;
}

void run_in_batches(const RunConfig& config, Context& ctx, RunReport& report, StageClock& clock, ProcessGroup* across) {
  // A run alone is a group of one: every sum over the processes below leaves its tallies as they are.
  std::unique_ptr<ProcessGroup> alone;
  if (!across) alone = process_group_detail::make_single_process_group();
  ProcessGroup& group = across ? *across : *alone;
  const bool writes = group.rank() == 0;  // process 0 writes the result file
  report.processes = group.size();
  // A step that can fail on one process alone: across processes every process stops on the failure
  // at its end (ProcessGroup::run_agreed); alone it runs as it is. Steps with collectives in them
  // stay outside.
  auto agreed = [&](const std::function<void()>& step) {
    if (across) group.run_agreed(step);
    else step();
  };
  // A step with collectives in it whose refusals every process meets alike (decided on the options
  // and on counts every process shares): across processes its ConfigError stops every process with
  // the same message, as an agreement would.
  auto refused_alike = [&](auto step) {
    try {
      return step();
    } catch (const ConfigError& error) {
      if (across) throw AgreedFailure(error.what(), 2);
      throw;
    }
  };
  agreed([&] {
    require_batchable(config);
    if (!across) return;
    // Settings refused only later in a run alone are refused before any process reads its share.
    require_batchable_input(config);
    if (config.attribution_enabled) validate_attribution_options(config.attribution);
  });
  const int64_t max_events = batch_events_for(config);
  // Scratch files (the spool, the cached sequences, the feature columns) go beside the output.
  std::string folder = std::filesystem::path(config.output_path).parent_path().string();
  if (folder.empty()) folder = ".";
  // The reader's text blocks and the spool's buffers shrink with a small host budget.
  const auto budget = config.host_memory_budget > 0 ? static_cast<size_t>(config.host_memory_budget)
                                                    : std::numeric_limits<size_t>::max() / 2;
  RunConfig reading = config;
  reading.csv.block_bytes = std::min(config.csv.block_bytes, std::max(budget / 32, size_t{1} << 20));
  if (config.progress) reading.csv.progress = ingest_progress_printer();
  const size_t spool_buffer = std::clamp<size_t>(budget / 16, size_t{1} << 20, CustomerShards::kDefaultBufferedBytes);
  std::unique_ptr<JourneyBatches> batches = clock.run("ingest", [&] {
    if (!across) return std::make_unique<JourneyBatches>(ctx, reading, max_events, folder, spool_buffer);
    // Each process reads a share of the input and keeps its own customers' events.
    IngestResult own = read_own_customers(reading, ctx, group);
    std::unique_ptr<JourneyBatches> spooled;
    agreed([&] { spooled = std::make_unique<JourneyBatches>(ctx, reading, std::move(own), max_events, folder, spool_buffer); });
    return spooled;
  });
  batches->keep_sequences(config.patterns_enabled);
  const IngestResult& ingest = batches->ingest();
  report.input_bytes = ingest.file_bytes;
  report.rows_read = ingest.rows_read;
  report.rows_skipped = ingest.rows_skipped;
  report.first_bad_rows = ingest.first_bad_rows;

  // The vocabularies every batch shares, with the covariates the alerts read: what the stages'
  // writers and summaries name things from.
  JourneySet vocabulary;
  vocabulary.touchpoints = ingest.events.touchpoints;
  vocabulary.channels = ingest.events.channels;
  std::optional<ResultWriter> output;
  std::vector<int32_t> named_funnel;  // a funnel named in [flows] is counted in the first pass; a derived one after it
  agreed([&] {
    vocabulary.covariates = load_covariates(config.covariates_path, config.anomalies.alerts.bucket_seconds);
    if (config.flows_enabled) named_funnel = resolve_funnel(config.flows, vocabulary, VariantTable{});
    if (writes) output.emplace(config.output_path, config.output_compression);
  });
  ResultWriter* writer = output ? &*output : nullptr;
  // The id of each process's first customer: the result numbers the processes' customers in rank order.
  const std::vector<int64_t> first_customer = group.sums_before(ingest.events.customers.size());
  FirstPass pass = clock.run("journeys", [&] {
    FirstPass own;
    agreed([&] {
      std::unique_ptr<SpooledRecords> to_send;
      if (!writer) to_send = std::make_unique<SpooledRecords>(folder, ".jm-journeys-to-send");
      own = first_pass(config, ctx, *batches, writer, std::move(to_send), first_customer[static_cast<size_t>(group.rank())],
                       named_funnel);
    });
    if (group.size() > 1) sum_first_pass(config, group, own);
    return own;
  });
  clock.run("write", [&] {
    const StepTimer step(ctx, "journeys");
    if (group.size() > 1) write_journeys_of_other_processes(group, pass.to_send.get(), writer, first_customer);
    pass.to_send.reset();
    std::vector<std::string> customers =
        group.size() > 1 ? customer_names_of_all(group, ingest.events.customers) : ingest.events.customers.names();
    agreed([&] {
      if (!writer) return;
      writer->finish_journeys(pass.labelled, pass.build_stats);
      writer->write_event_vocab(vocabulary);
      writer->write("/vocab/customers", customers);
    });
  });
  const OutcomeDefinition& outcome = batches->outcome();
  report.build_stats = pass.build_stats;
  report.outcome_stats = group.size() > 1 ? outcome_stats_of_all(group, batches->outcome_stats(), vocabulary.touchpoints)
                                          : batches->outcome_stats();
  for (std::string& warning : outcome_warnings(report.outcome_stats, outcome)) report.warnings.push_back(std::move(warning));
  report.journey_rule = describe_journey_rule(config.journeys, outcome);
  if (config.progress) std::fprintf(stderr, "[journeymap] %s\n", report.journey_rule.c_str());
  report.summary = pass.summary.finish(vocabulary.touchpoints, vocabulary.channels);
  // The features' spec and, for segments, the scratch file of their columns: a fixed k whose points
  // cannot fit is refused here, before the long passes (the journeys are counted, the columns known).
  std::optional<FeatureSpec> feature_spec;
  std::unique_ptr<SegmentInputs> segment_inputs;
  std::unique_ptr<ModelSample> model_sample;
  std::unique_ptr<FeatureColumnsFile> anomaly_inputs;
  // Stages the data cannot support, with their reason (as a run at once skips them).
  std::vector<std::string> skipped;
  if (config.model_enabled) {
    std::string reason = model_skip_reason(config.model, report.summary.converted_journeys, report.summary.journeys);
    if (!reason.empty()) skipped.push_back(std::move(reason));
  }
  // The model's sample: each process samples its own customers (by their ids among all).
  auto empty_model_sample = [&](const FeatureSpec& spec) {
    return std::make_unique<ModelSample>(spec, vocabulary, report.summary.events,
                                         config.model_sample_events > 0 ? config.model_sample_events : max_events,
                                         config.model.seed);
  };
  if (pass.feature_spec) agreed([&] {
    feature_spec = pass.feature_spec->finish(vocabulary);
    if (config.model_enabled && skipped.empty()) {
      check_model_columns(*feature_spec, config.model);  // before the long passes
      model_sample = empty_model_sample(*feature_spec);
    }
    if (config.anomalies_enabled && config.anomalies.journeys_enabled)
      anomaly_inputs = make_anomaly_inputs(folder, *feature_spec, config.anomalies.journeys);
    if (config.segments_enabled) {
      segment_inputs = make_segment_inputs(folder, *feature_spec, config.segments);
      require_points_fit(config.segments, report.summary.journeys, points_in_memory(config, segment_inputs->dims()));
    }
  });
  const int64_t held = bytes_held_for_the_input(config, ingest, pass, report.summary.journeys);
  if (config.host_memory_budget > 0 && held > config.host_memory_budget / 4 * 3)
    report.warnings.push_back(
        "memory: what grows with the whole input (the customer dictionary, per-journey sums and labels, the flow "
        "variants) takes about " + std::to_string(held >> 20) + " MiB, more than three quarters of [run] "
        "host_memory_budget " + format_memory_size(config.host_memory_budget) + "; the run may go over the budget");
  if (group.size() > 1) {
    std::vector<int64_t> batch_count = {batches->size()};
    group.sum(batch_count);
    report.stage_summaries.push_back(
        "processes: " + std::to_string(group.size()) + ", each with the journeys of its own customers in " +
        std::to_string(batch_count[0]) + " batches in all" +
        (max_events < std::numeric_limits<int64_t>::max()
             ? " of at most " + std::to_string(max_events) + " events (" + describe_budgets(config) + ")"
             : std::string()) +
        "\n");
  } else {
    report.stage_summaries.push_back("batches: " + std::to_string(batches->size()) + " batches of customers, at most " +
                                      std::to_string(max_events) + " events each (" + describe_budgets(config) + ")\n");
  }

  if (config.patterns_enabled) {
    // Settings refused up front or a work budget exceeded: decided on summed counts.
    const BatchedPatterns mined = clock.run("patterns", [&] {
      return refused_alike([&] {
        return mine_patterns_in_batches(ctx, batches->size(), vocabulary.touchpoints.size(),
                                        [&](int64_t b) { return batches->sequences(b); }, config.patterns,
                                        patterns_detail::kCandidateBudget, group.size() > 1 ? &group : nullptr);
      });
    });
    clock.run("write", [&] {
      const StepTimer step(ctx, "patterns");
      agreed([&] {
        if (writer) write_patterns_results(*writer, mined.result, vocabulary);
      });
    });
    report.stage_summaries.push_back(format_patterns_summary(mined.result, vocabulary) + "  " + mined.how + "\n");
  }

  // The index of this process's first journey among every process's (the model's sample names them).
  const int64_t first_journey_of_process = group.sums_before(pass.own_journeys)[static_cast<size_t>(group.rank())];
  SecondPass counted = clock.run("journeys", [&] {
    SecondPass own;
    agreed([&] {
      std::unique_ptr<SpooledRecords> features_to_send;
      if (!writer && feature_spec && config.store_feature_matrix)
        features_to_send = std::make_unique<SpooledRecords>(folder, ".jm-features-to-send");
      own = second_pass(config, ctx, *batches, pass, vocabulary, writer, std::move(feature_spec), std::move(segment_inputs),
                        std::move(model_sample), std::move(anomaly_inputs), std::move(features_to_send),
                        first_customer[static_cast<size_t>(group.rank())], first_journey_of_process);
    });
    return own;
  });
  const bool model_stage = counted.model_sample != nullptr;  // on every process alike
  if (group.size() > 1) {
    if (counted.funnel) sum_over_processes(group, *counted.funnel);
    if (counted.attribution)
      sum_over_processes(group, *counted.attribution, make_attribution_tally(config, pass, vocabulary));
    if (counted.model_sample) {
      // Process 0 trains on every process's sample, its customers in rank order.
      sum_saved_on_first(group, *counted.model_sample, std::move(*empty_model_sample(*counted.feature_spec)));
      if (!writer) counted.model_sample.reset();
    }
    if (counted.feature_spec) {
      sum_over_processes(group, counted.feature_stats);
      if (counted.segment_inputs) sum_over_processes(group, counted.segment_inputs->scaling_tally());
      if (counted.anomaly_inputs) sum_over_processes(group, counted.anomaly_inputs->scaling_tally());
      if (config.store_feature_matrix)
        clock.run("write", [&] {
          const StepTimer step(ctx, "features");
          const int64_t columns = counted.feature_spec->num_features();
          send_records_to_first(group, counted.features_to_send.get(), [&](int, const std::string& bytes) {
            append_feature_rows(*writer, bytes, columns);
          });
          counted.features_to_send.reset();
        });
    }
  }
  if (counted.funnel) pass.flows.funnel = std::move(*counted.funnel);

  // Journey anomaly scores: across processes process 0 trains and each process scores its own rows
  // (anomalies_across.hpp); the top journeys described where they are held.
  std::optional<JourneyAnomalies> journey_anomalies;
  if (counted.anomaly_inputs) {
    journey_anomalies = clock.run("anomalies", [&] {
      if (group.size() > 1)
        return anomalies_across_processes(ctx, group, *counted.anomaly_inputs, config.anomalies.journeys);
      return anomalies_in_batches(ctx, *counted.anomaly_inputs, config.anomalies.journeys);
    });
    clock.run("journeys", [&] {
      if (group.size() > 1)
        describe_top_journeys_across(ctx, group, *batches, counted.first_journeys, first_journey_of_process,
                                     config.anomalies.journeys.path_events, *journey_anomalies);
      else
        describe_top_journeys_in_batches(ctx, *batches, counted.first_journeys, 0, config.anomalies.journeys.path_events,
                                         *journey_anomalies);
    });
    // The proposals from anomaly clusters read every journey's outcome, on process 0.
    if (group.size() > 1 && pass.proposals) pass.converted = concatenated_on_first(group, pass.converted);
  }

  // Segments: every process clusters with the others (cluster_in_batches adds each Lloyd step's
  // sums over them), then tallies the profiles of its own journeys; process 0 finishes them with
  // every process's tallies, labels and funnel depths.
  std::optional<SegmentResult> segments;
  ThirdPass by_segment;
  if (counted.segment_inputs) {
    segments = clock.run("segments", [&] {
      return refused_alike([&] {
        return cluster_in_batches(ctx, *counted.segment_inputs, config.segments,
                                  points_in_memory(config, counted.segment_inputs->dims()),
                                  group.size() > 1 ? &group : nullptr);
      });
    });
    by_segment = clock.run("journeys", [&] {
      ThirdPass own;
      agreed([&] {
        own = third_pass(config, ctx, *batches, *counted.segment_inputs, vocabulary,
                         config.flows_enabled ? &pass.flows.funnel.steps : nullptr, *segments);
      });
      if (group.size() > 1) {
        sum_saved_on_first(group, *own.profiles, empty_profile_tally(*segments, vocabulary));
        segments->labels = concatenated_on_first(group, segments->labels);
        own.funnel_depth = concatenated_on_first(group, own.funnel_depth);
        own.funnel_segment = concatenated_on_first(group, own.funnel_segment);
      }
      return own;
    });
    agreed([&] {
      if (writer) by_segment.profiles->finish(vocabulary, config.segments, *segments);
    });
  }

  // The model: process 0 trains on every process's sample; across processes the others boost with
  // it, each on a share of the rows (XGBoost's collective, host/model/boosting_across.hpp).
  std::optional<ModelResult> model_result;
  int boosting_processes = 1;  // the main model is the largest job: if any job went out, it did
  if (model_stage)
    clock.run("model", [&] {
      agreed([&] {
        const int64_t jobs = with_boosting_peers(ctx, group, [&](model_detail::BoostingPeers* peers) {
          model_result = train_sampled_model(config, ctx, *counted.model_sample, report, skipped, peers);
        });
        if (jobs > 0) boosting_processes = group.size();
      });
    });

  // From here on the processes hold the same tallies and no longer talk to each other: process 0
  // finishes the stages and writes the result, and every process learns whether that worked.
  Model trained_model;  // saved only after the result is committed, as in a run at once
  auto finish = [&] {
    if (!writer) return;  // the other processes wait to learn whether process 0 succeeded
    if (counted.feature_spec) {
      clock.run("write", [&] {
        const StepTimer step(ctx, "features");
        counted.feature_stats.write(*writer, *counted.feature_spec);
      });
      report.stage_summaries.push_back(format_features_summary(*counted.feature_spec, counted.feature_stats));
    }
    if (segments) {
      clock.run("write", [&] {
        const StepTimer step(ctx, "segments");
        write_segments_results(*writer, *segments, vocabulary);
      });
      report.stage_summaries.push_back(format_segments_summary(*segments, vocabulary));
    }
    FunnelResult run_funnel;  // the flows stage's funnel, for the proposals
    if (config.flows_enabled) {
      const FlowResult flows = clock.run("flows", [&] {
        if (!segments) return finish_flows(pass.flows, config.flows);
        pass.flows.funnel.journey_depth = std::move(by_segment.funnel_depth);
        return finish_flows(pass.flows, config.flows, by_segment.funnel_segment, segments->k);
      });
      clock.run("write", [&] {
        const StepTimer step(ctx, "flows");
        write_flows_results(*writer, flows, vocabulary);
        write_flow_tally(*writer, pass.flows);
      });
      report.stage_summaries.push_back(format_flows_summary(flows, vocabulary));
      run_funnel = flows.funnel;
    }

    if (counted.attribution) {
      const AttributionResult attribution =
          clock.run("attribution", [&] { return counted.attribution->finish(ctx, vocabulary.touchpoints, vocabulary.channels); });
      clock.run("write", [&] { write_attribution_results(*writer, attribution, vocabulary); });
      report.stage_summaries.push_back(format_attribution_summary(attribution, vocabulary));
    }

    // Written after the anomalies stage, which adds its clusters to them.
    std::optional<ProposalResult> proposals;
    if (pass.proposals)
      proposals = clock.run("proposals", [&] { return pass.proposals->finish(vocabulary.touchpoints, run_funnel, config.proposals); });

    if (model_result)
      trained_model = write_sampled_model(config, ctx, *counted.model_sample, outcome, *model_result, boosting_processes,
                                          report, clock, *writer);

    if (config.anomalies_enabled && (config.anomalies.alerts_enabled || counted.anomaly_inputs)) {
      AnomaliesResult anomalies;
      if (counted.anomaly_inputs) {
        anomalies.has_journeys = true;
        anomalies.journeys = std::move(*journey_anomalies);
      }
      if (config.anomalies.alerts_enabled) {
        anomalies.has_alerts = true;
        anomalies.alerts = clock.run("anomalies", [&] {
          const StepTimer step(ctx, "metric alerts");
          // The summary sums the conversion values over the journeys in their order, as the alerts of a
          // run at once do.
          const JourneySummary& summary = report.summary;
          const double mean_value = summary.converted_journeys > 0
                                        ? summary.total_conversion_value / static_cast<double>(summary.converted_journeys)
                                        : 0.0;
          return finish_metric_alerts(pass.alerts, vocabulary, mean_value, config.anomalies.alerts);
        });
      }
      clock.run("write", [&] {
        const StepTimer step(ctx, "anomalies");
        write_anomalies_results(*writer, anomalies);
        if (anomalies.has_alerts) write_alert_tally(*writer, pass.alerts);
      });
      report.stage_summaries.push_back(format_anomalies_summary(anomalies));
      if (proposals && anomalies.has_journeys)
        add_anomaly_cluster_proposals(*proposals, pass.converted, anomalies.journeys, config.proposals);
    }
    if (proposals) {
      clock.run("write", [&] { write_proposal_results(*writer, *proposals); });
      report.stage_summaries.push_back(format_proposal_summary(*proposals));
    }

    for (const std::string& stage : skipped) report.stage_summaries.push_back("skipped " + stage + "\n");
    writer->write_meta(describe_run(config, report, ingest));
    writer->write("/meta/skipped_stages", skipped);
  };
  agreed(finish);
  // Renamed into place only once every process has finished its part.
  agreed([&] {
    if (writer) clock.run("commit", [&] { writer->commit(); });
  });
  if (!trained_model.empty() && !config.model_path.empty())
    clock.run("write", [&] { save_model(trained_model, config.model_path); });
}

}  // namespace jm
