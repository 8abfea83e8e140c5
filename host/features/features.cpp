// Public entry of feature extraction: fits the column layout, validates, dispatches to the CPU or
// GPU twin; standardisation, the /features group and the summary block.
#include <algorithm>
#include <limits>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "host/core/thread_pool.hpp"
#include "host/features/feature_tables.hpp"
#include "host/features/feature_tallies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/covariates.hpp"
#include "journeymap/feature_rules.hpp"
#include "journeymap/features.hpp"
#include "journeymap/result_file.hpp"

namespace jm {
namespace {

using namespace feature_rules;

constexpr const char* kScalarFeatureNames[kScalarFeatureCount] = {
    "length",          "duration_seconds",  "distinct_touchpoints", "revisits",       "touchpoint_entropy",
    "channel_count",   "channel_entropy",   "gap_mean_seconds",     "gap_median_seconds", "gap_max_seconds",
    "momentum",        "start_hour",        "start_hour_sin",       "start_hour_cos", "start_weekday",
    "recency_days",    "customer_journey_number", "first_touchpoint",     "last_touchpoint"};

void validate(const FeatureOptions& options) {
  if (options.top_touchpoints < 0 || options.top_touchpoints > 1024)
    throw ConfigError("features.top_touchpoints must be in [0, 1024] (got " + std::to_string(options.top_touchpoints) + ")");
  if (options.top_dimension_values < 0 || options.top_dimension_values > 256)
    throw ConfigError("features.top_dimension_values must be in [0, 256] (got " +
                      std::to_string(options.top_dimension_values) + ")");
  if (options.top_channels < 0 || options.top_channels > 256)
    throw ConfigError("features.top_channels must be in [0, 256] (got " + std::to_string(options.top_channels) + ")");
  if (options.bigram_buckets < 0 || options.bigram_buckets > 4096)
    throw ConfigError("features.bigram_buckets must be in [0, 4096] (got " + std::to_string(options.bigram_buckets) + ")");
  if (options.prefix_events < 0)
    throw ConfigError("features.prefix_events must be >= 0 (0 = whole journeys)");
  if (!(options.prefix_seconds >= 0.0) || !std::isfinite(options.prefix_seconds))
    throw ConfigError("features.prefix_seconds must be a finite number >= 0 (0 = whole journeys)");
}

uint32_t fnv1a(const std::string& text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  return h;
}

// The layout of a spec with the pointers still unset.
FeatureLayout layout_of(const FeatureSpec& spec) {
  FeatureLayout layout;
  layout.n_columns = static_cast<int32_t>(spec.num_features());
  layout.touchpoint_share_begin = kScalarFeatureCount;
  layout.n_touchpoint_slots = static_cast<int32_t>(spec.top_touchpoints.size()) + 1;
  layout.channel_share_begin = layout.touchpoint_share_begin + layout.n_touchpoint_slots;
  layout.n_channel_slots = static_cast<int32_t>(spec.top_channels.size()) + 1;
  layout.bigram_begin = layout.channel_share_begin + layout.n_channel_slots;
  layout.n_bigram_buckets = spec.options.bigram_buckets;
  layout.prefix_events = spec.options.prefix_events;
  layout.prefix_ms = static_cast<int64_t>(std::llround(spec.options.prefix_seconds * 1000.0));
  layout.has_cutoff_time = spec.options.has_cutoff_time;
  layout.cutoff_time_ms = spec.options.cutoff_time_ms;
  layout.reference_time_ms = spec.reference_time_ms;
  return layout;
}

// Slot of every id of `vocabulary`: its rank among `top` names, else the "other" slot.
std::vector<int32_t> slots_for(const Vocabulary& vocabulary, const std::vector<std::string>& top) {
  std::vector<int32_t> slot(static_cast<size_t>(vocabulary.size()), static_cast<int32_t>(top.size()));
  for (size_t s = 0; s < top.size(); ++s) {
    const int32_t id = vocabulary.find(top[s]);
    if (id >= 0) slot[static_cast<size_t>(id)] = static_cast<int32_t>(s);
  }
  return slot;
}

// Names of the `k` most frequent ids by `counts` (ties: lower id first), skipping empty ones.
std::vector<std::string> top_names(const Vocabulary& vocabulary, const std::vector<int64_t>& counts, int k) {
  std::vector<int32_t> ids(counts.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return counts[a] > counts[b]; });
  std::vector<std::string> names;
  for (int32_t id : ids) {
    if (static_cast<int>(names.size()) >= k || counts[id] == 0) break;
    names.push_back(vocabulary.name(id));
  }
  return names;
}

// The repeat links of one value column (touchpoint or channel ids < n_values): for each event the
// distance to the next event of its journey with the same value (0: none), and `first_bit` set in
// `first_occurrence` when no earlier event of the journey has it. Linear in the events: each task
// walks its journeys backwards with a "last position of each value" table stamped by journey, so
// the table is never cleared.
void link_repeats(const JourneySet& journeys, const std::vector<int32_t>& value, int32_t n_values, uint8_t first_bit,
                  int num_threads, std::vector<int32_t>& next_same, std::vector<uint8_t>& first_occurrence) {
  const int64_t n_journeys = journeys.size();
  next_same.assign(value.size(), 0);
  const int64_t n_tasks = std::min<int64_t>(n_journeys, 8 * static_cast<int64_t>(std::max(1, num_threads)));
  parallel_for(n_tasks, num_threads, [&](int64_t task) {
    std::vector<int64_t> last_position(static_cast<size_t>(n_values));
    std::vector<int64_t> stamp(static_cast<size_t>(n_values), -1);
    const int64_t first = n_journeys * task / n_tasks, last = n_journeys * (task + 1) / n_tasks;
    for (int64_t j = first; j < last; ++j) {
      for (int64_t e = journeys.offsets[j + 1] - 1; e >= journeys.offsets[j]; --e) {
        const size_t v = static_cast<size_t>(value[static_cast<size_t>(e)]);
        first_occurrence[static_cast<size_t>(e)] |= first_bit;
        if (stamp[v] == j) {
          next_same[static_cast<size_t>(e)] = static_cast<int32_t>(last_position[v] - e);
          first_occurrence[static_cast<size_t>(last_position[v])] &= static_cast<uint8_t>(~first_bit);
        }
        stamp[v] = j;
        last_position[v] = e;
      }
    }
  });
}

}  // namespace

namespace feature_detail {

FeatureTables make_tables(const JourneySet& journeys, const FeatureSpec& spec, int num_threads) {
  FeatureTables tables;
  tables.touchpoint_slot = slots_for(journeys.touchpoints, spec.top_touchpoints);
  tables.channel_slot = slots_for(journeys.channels, spec.top_channels);
  tables.touchpoint_hash.resize(static_cast<size_t>(journeys.touchpoints.size()));
  for (int32_t id = 0; id < journeys.touchpoints.size(); ++id)
    tables.touchpoint_hash[static_cast<size_t>(id)] = fnv1a(journeys.touchpoints.name(id));
  // Journeys are ordered by customer, then time, so a customer's journeys are one run. Only earlier
  // journeys count: a total over the set would let later journeys leak into earlier ones' rows.
  const int64_t n = journeys.size();
  tables.customer_journey_number.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j)
    tables.customer_journey_number[static_cast<size_t>(j)] =
        j > 0 && journeys.customer[j] == journeys.customer[j - 1] ? tables.customer_journey_number[static_cast<size_t>(j - 1)] + 1.0f
                                                                  : 1.0f;
  for (int64_t j = 0; j < n; ++j)
    if (journeys.offsets[j + 1] - journeys.offsets[j] > std::numeric_limits<int32_t>::max())
      throw Error(fmt::format("journey {} has {} events; features support at most {} (see [journeys] max_length)", j,
                                   journeys.offsets[j + 1] - journeys.offsets[j], std::numeric_limits<int32_t>::max()));
  tables.first_occurrence.assign(journeys.touchpoint.size(), 0);
  link_repeats(journeys, journeys.touchpoint, journeys.touchpoints.size(), kFirstTouchpointBit, num_threads,
               tables.next_same_touchpoint, tables.first_occurrence);
  link_repeats(journeys, journeys.channel, journeys.channels.size(), kFirstChannelBit, num_threads,
               tables.next_same_channel, tables.first_occurrence);
  tables.layout = layout_of(spec);
  return tables;
}

}  // namespace feature_detail

namespace {

// The case:<name> columns (last in the matrix) from the journeys' attributes, matched by name and,
// for categories, by category name; NaN where the journeys lack the attribute or the value. Host
// code after either backend: one lookup per row and attribute.
void fill_case_attribute_columns(const JourneySet& journeys, FeatureMatrix& out) {
  const FeatureSpec& spec = out.spec;
  const int64_t n_cases = static_cast<int64_t>(spec.case_attributes.size());
  if (n_cases == 0) return;
  const int64_t f = out.num_features(),
                first = f - n_cases - static_cast<int64_t>(spec.dimensions.size() + spec.covariates.size());
  const CaseAttributes& have = journeys.case_attributes;
  for (int64_t a = 0; a < n_cases; ++a) {
    const auto found = std::find(have.names.begin(), have.names.end(), spec.case_attributes[static_cast<size_t>(a)]);
    const int32_t source = found == have.names.end() ? -1 : static_cast<int32_t>(found - have.names.begin());
    const bool categorical = spec.case_attribute_categorical[static_cast<size_t>(a)] != 0;
    if (source >= 0 && categorical != (have.categorical[static_cast<size_t>(source)] != 0))
      throw ConfigError("case attribute '" + spec.case_attributes[static_cast<size_t>(a)] +
                        "' is numeric in one data set and categorical in the other");
    // Category codes of the journeys' attribute -> codes of the spec.
    std::vector<float> code_map;
    if (source >= 0 && categorical) {
      const auto& spec_categories = spec.case_attribute_categories[static_cast<size_t>(a)];
      for (const std::string& name : have.categories[static_cast<size_t>(source)]) {
        const auto at = std::find(spec_categories.begin(), spec_categories.end(), name);
        code_map.push_back(at == spec_categories.end() ? std::numeric_limits<float>::quiet_NaN()
                                                       : static_cast<float>(at - spec_categories.begin()));
      }
    }
    std::vector<float>& values = out.values.host_mut();
    for (int64_t j = 0; j < out.n_rows; ++j) {
      float value = std::numeric_limits<float>::quiet_NaN();
      const uint32_t customer = journeys.customer[static_cast<size_t>(j)];
      if (source >= 0 && customer < have.n_customers) {
        value = have.at(customer, source);
        if (categorical && !std::isnan(value)) value = code_map[static_cast<size_t>(value)];
      }
      values[static_cast<size_t>(j * f + first + a)] = value;
    }
  }
}

// The dim:<name> columns (after the case columns): per row, the first code of the dimension among
// the events inside the feature window, mapped by value name to the spec's rank (the last rank is
// "other"); NaN when the window holds no value or the journeys lack the dimension.
void fill_dimension_columns(const JourneySet& journeys, FeatureMatrix& out) {
  const FeatureSpec& spec = out.spec;
  const int64_t n_dimensions = static_cast<int64_t>(spec.dimensions.size());
  if (n_dimensions == 0) return;
  const int64_t f = out.num_features(), first = f - n_dimensions - static_cast<int64_t>(spec.covariates.size());
  const FeatureLayout window = layout_of(spec);
  std::vector<float>& values = out.values.host_mut();
  for (int64_t d = 0; d < n_dimensions; ++d) {
    const JourneyDimension* dimension = find_dimension(journeys, spec.dimensions[static_cast<size_t>(d)]);
    const auto& ranked = spec.dimension_values[static_cast<size_t>(d)];
    std::vector<float> rank_of_code;
    if (dimension != nullptr)
      for (const std::string& value : dimension->values) {
        const auto at = std::find(ranked.begin(), ranked.end(), value);
        rank_of_code.push_back(static_cast<float>(at - ranked.begin()));  // end(): "other"
      }
    for (int64_t j = 0; j < out.n_rows; ++j) {
      float value = std::numeric_limits<float>::quiet_NaN();
      if (dimension != nullptr) {
        const int64_t begin = journeys.offsets[j];
        const int64_t end = feature_window_end(journeys.timestamp_ms.data(), begin, journeys.offsets[j + 1], window);
        for (int64_t e = begin; e < end; ++e)
          if (const int32_t code = dimension->event_code[static_cast<size_t>(e)]; code >= 0) {
            value = rank_of_code[static_cast<size_t>(code)];
            break;
          }
      }
      values[static_cast<size_t>(j * f + first + d)] = value;
    }
  }
}

// The cov:<name> columns (last): each factor's value in the bucket of the journey's first event.
// A spec with covariate columns needs the journeys' covariates table, with the same buckets and
// every factor it names: scoring without it would silently see "no campaign".
void fill_covariate_columns(const JourneySet& journeys, FeatureMatrix& out) {
  const FeatureSpec& spec = out.spec;
  const int64_t n_covariates = static_cast<int64_t>(spec.covariates.size());
  if (n_covariates == 0) return;
  std::string listed;
  for (const std::string& name : spec.covariates) listed += (listed.empty() ? "cov:" : ", cov:") + name;
  if (!journeys.covariates)
    throw ConfigError("the features include covariate columns (" + listed +
                      "); give the covariates file (--covariates or [input] covariates)");
  const CovariateTable& table = *journeys.covariates;
  if (table.bucket_seconds != spec.covariate_bucket_seconds)
    throw ConfigError(fmt::format("covariates {} were read for buckets of {} s; the features use buckets of {} s",
                                  table.file, table.bucket_seconds, spec.covariate_bucket_seconds));
  const int64_t f = out.num_features(), first = f - n_covariates;
  std::vector<float>& values = out.values.host_mut();
  for (int64_t c = 0; c < n_covariates; ++c) {
    const int32_t column = table.column(spec.covariates[static_cast<size_t>(c)]);
    if (column < 0)
      throw ConfigError("covariates " + table.file + " have no column '" + spec.covariates[static_cast<size_t>(c)] +
                        "', which the features use");
    for (int64_t j = 0; j < out.n_rows; ++j)
      values[static_cast<size_t>(j * f + first + c)] = static_cast<float>(table.value_at(column, journeys.start_ms[j]));
  }
}

}  // namespace

int FeatureSpec::column(const std::string& name) const {
  for (size_t c = 0; c < names.size(); ++c)
    if (names[c] == name) return static_cast<int>(c);
  return -1;
}

namespace {
// `part` added element by element to `total` (grown to part's size): tallies saved by another process.
template <typename T>
void add_elementwise(std::vector<T>& total, const std::vector<T>& part) {
  if (total.size() < part.size()) total.resize(part.size(), T{});
  for (size_t i = 0; i < part.size(); ++i) total[i] += part[i];
}
}  // namespace

FeatureSpecTally::FeatureSpecTally(const FeatureOptions& options) : options_(options) { validate(options); }

void FeatureSpecTally::add(const JourneySet& journeys) {
  // Reference time first: the layout used to find the windows below needs none of the rest.
  for (int64_t j = 0; j < journeys.size(); ++j) {
    last_event_ = journeys_ == 0 && j == 0 ? journeys.end_ms[j] : std::max(last_event_, journeys.end_ms[j]);
  }
  // Events per touchpoint and channel inside the feature windows.
  FeatureSpec windows;
  windows.options = options_;
  const FeatureLayout window_rules = layout_of(windows);
  touchpoint_events_.resize(std::max(touchpoint_events_.size(), static_cast<size_t>(journeys.touchpoints.size())), 0);
  channel_events_.resize(std::max(channel_events_.size(), static_cast<size_t>(journeys.channels.size())), 0);
  for (int64_t j = 0; j < journeys.size(); ++j) {
    const int64_t begin = journeys.offsets[j];
    const int64_t end = feature_window_end(journeys.timestamp_ms.data(), begin, journeys.offsets[j + 1], window_rules);
    for (int64_t e = begin; e < end; ++e) {
      ++touchpoint_events_[static_cast<size_t>(journeys.touchpoint[e])];
      ++channel_events_[static_cast<size_t>(journeys.channel[e])];
    }
  }
  journeys_ += journeys.size();
}

void FeatureSpecTally::save(RecordWriter& out) const {
  out.value(journeys_);
  out.value(last_event_);
  out.values(touchpoint_events_);
  out.values(channel_events_);
}

void FeatureSpecTally::add_saved(RecordReader& in) {
  const auto journeys = in.value<int64_t>();
  const auto last_event = in.value<int64_t>();
  const std::vector<int64_t> touchpoint_events = in.values<int64_t>(), channel_events = in.values<int64_t>();
  if (journeys == 0) return;  // its latest event time is no event's
  last_event_ = journeys_ == 0 ? last_event : std::max(last_event_, last_event);
  journeys_ += journeys;
  add_elementwise(touchpoint_events_, touchpoint_events);
  add_elementwise(channel_events_, channel_events);
}

FeatureSpec FeatureSpecTally::finish(const JourneySet& journeys) const {
  const FeatureOptions& options = options_;
  FeatureSpec spec;
  spec.options = options;
  spec.reference_time_ms = options.has_reference_time ? options.reference_time_ms : last_event_;
  std::vector<int64_t> touchpoint_events = touchpoint_events_, channel_events = channel_events_;
  touchpoint_events.resize(static_cast<size_t>(journeys.touchpoints.size()), 0);
  channel_events.resize(static_cast<size_t>(journeys.channels.size()), 0);
  spec.top_touchpoints = top_names(journeys.touchpoints, touchpoint_events, options.top_touchpoints);
  spec.top_channels = top_names(journeys.channels, channel_events, options.top_channels);
  for (int c = 0; c < kScalarFeatureCount; ++c) {
    spec.names.emplace_back(kScalarFeatureNames[c]);
    spec.kinds.push_back(c == kFirstTouchpoint || c == kLastTouchpoint ? FeatureKind::Categorical : FeatureKind::Numeric);
  }
  for (const auto& name : spec.top_touchpoints) spec.names.push_back("touchpoint_share:" + name);
  spec.names.emplace_back("touchpoint_share:(other)");
  for (const auto& name : spec.top_channels) spec.names.push_back("channel_share:" + name);
  spec.names.emplace_back("channel_share:(other)");
  for (int b = 0; b < options.bigram_buckets; ++b) spec.names.push_back(fmt::format("bigram_share:{:02d}", b));
  spec.kinds.resize(spec.names.size(), FeatureKind::Numeric);
  const CaseAttributes& attributes = journeys.case_attributes;
  for (int32_t a = 0; a < attributes.size(); ++a) {
    spec.case_attributes.push_back(attributes.names[static_cast<size_t>(a)]);
    spec.case_attribute_categorical.push_back(attributes.categorical[static_cast<size_t>(a)]);
    spec.case_attribute_categories.push_back(attributes.categories[static_cast<size_t>(a)]);
    spec.names.push_back("case:" + attributes.names[static_cast<size_t>(a)]);
    spec.kinds.push_back(attributes.categorical[static_cast<size_t>(a)] ? FeatureKind::Categorical : FeatureKind::Numeric);
  }
  for (const JourneyDimension& dimension : journeys.dimensions) {
    std::vector<int64_t> journeys_with(dimension.values.size(), 0);
    for (const int32_t code : dimension.journey_code)
      if (code >= 0) ++journeys_with[static_cast<size_t>(code)];
    Vocabulary values;
    for (const std::string& value : dimension.values) values.encode(value);
    spec.dimensions.push_back(dimension.name);
    spec.dimension_values.push_back(top_names(values, journeys_with, options.top_dimension_values));
    spec.names.push_back("dim:" + dimension.name);
    spec.kinds.push_back(FeatureKind::Categorical);
  }
  if (journeys.covariates) {
    spec.covariates = journeys.covariates->names;
    spec.covariate_bucket_seconds = journeys.covariates->bucket_seconds;
    for (const std::string& name : spec.covariates) {
      spec.names.push_back("cov:" + name);
      spec.kinds.push_back(FeatureKind::Numeric);
    }
  }
  return spec;
}

FeatureSpec fit_feature_spec(const JourneySet& journeys, const FeatureOptions& options) {
  FeatureSpecTally tally(options);
  tally.add(journeys);
  return tally.finish(journeys);
}

FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureSpec& spec) {
  validate(spec.options);
  if (spec.names.size() != static_cast<size_t>(kScalarFeatureCount) + spec.top_touchpoints.size() + 1 +
                               spec.top_channels.size() + 1 + static_cast<size_t>(spec.options.bigram_buckets) +
                               spec.case_attributes.size() + spec.dimensions.size() + spec.covariates.size() ||
      spec.dimension_values.size() != spec.dimensions.size() ||
      spec.kinds.size() != spec.names.size() || spec.case_attribute_categorical.size() != spec.case_attributes.size() ||
      spec.case_attribute_categories.size() != spec.case_attributes.size())
    throw ConfigError("feature spec is inconsistent (its names do not match its options); refit it with fit_feature_spec");
  if (journeys.offsets.empty() || static_cast<int64_t>(journeys.converted.size()) != journeys.size() ||
      static_cast<int64_t>(journeys.customer.size()) != journeys.size())
    throw ConfigError("journey set is incomplete (offsets or journey columns missing)");
  FeatureMatrix out = ctx.backend == Backend::Gpu ? cuda_impl::extract_features(ctx, journeys, spec)
                                                  : cpu_impl::extract_features(ctx, journeys, spec);
  fill_case_attribute_columns(journeys, out);
  fill_dimension_columns(journeys, out);
  fill_covariate_columns(journeys, out);
  return out;
}

FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureOptions& options) {
  return extract_features(ctx, journeys, fit_feature_spec(journeys, options));
}

// ------------------------------------------------------------------ scaling

FeatureTransform feature_transform(const std::string& name) {
  static const char* const kLogScaled[] = {"length",           "duration_seconds",   "distinct_touchpoints",
                                           "revisits",         "channel_count",      "gap_mean_seconds",
                                           "gap_median_seconds", "gap_max_seconds", "recency_days",
                                           "customer_journey_number"};
  for (const char* candidate : kLogScaled)
    if (name == candidate) return FeatureTransform::Log1p;
  if (!share_block(name).empty()) return FeatureTransform::Sqrt;
  return FeatureTransform::Identity;
}

std::string share_block(const std::string& name) {
  for (const char* block : {"touchpoint_share", "channel_share", "bigram_share"}) {
    const std::string prefix = std::string(block) + ":";
    if (name.compare(0, prefix.size(), prefix) == 0) return block;
  }
  return {};
}

ScalingTally::ScalingTally(const FeatureSpec& spec, const std::vector<std::string>& columns) {
  if (columns.empty()) {
    for (int64_t c = 0; c < spec.num_features(); ++c)
      if (spec.kinds[c] == FeatureKind::Numeric) scaling_.columns.push_back(spec.names[c]);
  } else {
    scaling_.columns = columns;
  }
  const int64_t d = scaling_.dims();
  for (int64_t i = 0; i < d; ++i) {
    const int column = spec.column(scaling_.columns[i]);
    if (column < 0) throw ConfigError("unknown feature column '" + scaling_.columns[i] + "'");
    if (spec.kinds[column] != FeatureKind::Numeric)
      throw ConfigError("feature column '" + scaling_.columns[i] + "' is categorical and cannot be standardised");
    matrix_columns_.push_back(column);
    scaling_.transform.push_back(static_cast<uint8_t>(feature_transform(scaling_.columns[i])));
  }
  sum_.assign(static_cast<size_t>(d), 0.0);
  sum_sq_.assign(static_cast<size_t>(d), 0.0);
}

void ScalingTally::add(const float* values, int64_t n, int64_t stride, const std::vector<int>& columns) {
  // One pass over the rows with every column's sums side by side: the matrix is row-major, so a
  // pass per column would read all of it once per column. Each column still adds its rows in order.
  const int64_t d = scaling_.dims();
  for (int64_t r = 0; r < n; ++r) {
    const float* row = values + r * stride;
    for (int64_t i = 0; i < d; ++i) {
      const double x = feature_rules::transform_value(row[columns[i]], scaling_.transform[i]);
      sum_[i] += x;
      sum_sq_[i] += x * x;
    }
  }
  rows_ += n;
}

FeatureScaling ScalingTally::finish() const {
  FeatureScaling scaling = scaling_;
  const int64_t d = scaling.dims(), n = rows_;
  scaling.mean.assign(static_cast<size_t>(d), 0.0f);
  scaling.scale.assign(static_cast<size_t>(d), 1.0f);
  std::vector<double> variance(static_cast<size_t>(d), 0.0);
  for (int64_t i = 0; i < d; ++i) {
    const double mean = n > 0 ? sum_[i] / n : 0.0;
    variance[i] = n > 0 ? std::max(0.0, sum_sq_[i] / n - mean * mean) : 0.0;
    scaling.mean[i] = static_cast<float>(mean);
  }
  // Plain columns: their own standard deviation; share columns: the pooled one of their block.
  std::map<std::string, std::pair<double, int>> block_variance;
  for (int64_t i = 0; i < d; ++i) {
    const std::string block = share_block(scaling.columns[i]);
    if (block.empty()) continue;
    block_variance[block].first += variance[i];
    block_variance[block].second += 1;
  }
  for (int64_t i = 0; i < d; ++i) {
    const std::string block = share_block(scaling.columns[i]);
    const double v = block.empty() ? variance[i] : block_variance[block].first / block_variance[block].second;
    const double sd = std::sqrt(v);
    scaling.scale[i] = sd > 1e-12 ? static_cast<float>(sd) : 1.0f;
  }
  return scaling;
}

void ScalingTally::save(RecordWriter& out) const {
  out.value(rows_);
  out.values(sum_);
  out.values(sum_sq_);
}

void ScalingTally::add_saved(RecordReader& in) {
  const auto rows = in.value<int64_t>();
  const std::vector<double> sum = in.values<double>(), sum_sq = in.values<double>();
  if (sum.size() != sum_.size() || sum_sq.size() != sum_sq_.size())
    throw Error("feature scaling: another process's sums have other columns");
  add_elementwise(sum_, sum);
  add_elementwise(sum_sq_, sum_sq);
  rows_ += rows;
}

ScalingTally ScalingTally::without_rows() const {
  ScalingTally empty = *this;
  std::fill(empty.sum_.begin(), empty.sum_.end(), 0.0);
  std::fill(empty.sum_sq_.begin(), empty.sum_sq_.end(), 0.0);
  empty.rows_ = 0;
  return empty;
}

FeatureScaling fit_scaling(const FeatureMatrix& features, const std::vector<std::string>& columns) {
  ScalingTally tally(features.spec, columns);
  tally.add(features.values.host().data(), features.n_rows, features.num_features(), tally.matrix_columns());
  return tally.finish();
}

namespace {
// The matrix column of each scaled column; ConfigError when one is missing or the scaling is malformed.
std::vector<int32_t> scaled_column_index(const FeatureMatrix& features, const FeatureScaling& scaling) {
  const int64_t d = scaling.dims();
  if (static_cast<int64_t>(scaling.transform.size()) != d || static_cast<int64_t>(scaling.mean.size()) != d ||
      static_cast<int64_t>(scaling.scale.size()) != d)
    throw ConfigError("feature scaling is inconsistent (columns, transform, mean and scale differ in length)");
  std::vector<int32_t> index(static_cast<size_t>(d));
  for (int64_t i = 0; i < d; ++i) {
    index[i] = features.column(scaling.columns[i]);
    if (index[i] < 0) throw ConfigError("feature column '" + scaling.columns[i] + "' of the scaling is missing");
  }
  return index;
}
}  // namespace

namespace {
// Each value on its own (the rows are independent), in blocks of rows over `num_threads` threads.
std::vector<float> apply_scaling_on_threads(const FeatureMatrix& features, const FeatureScaling& scaling,
                                            int num_threads) {
  const std::vector<int32_t> index = scaled_column_index(features, scaling);
  const int64_t d = scaling.dims(), n = features.n_rows, f = features.num_features();
  const std::vector<float>& values = features.values.host();
  std::vector<float> out(static_cast<size_t>(n * d));
  constexpr int64_t kRowsPerTask = 16384;
  parallel_for((n + kRowsPerTask - 1) / kRowsPerTask, num_threads, [&](int64_t task) {
    for (int64_t r = task * kRowsPerTask, end = std::min(n, (task + 1) * kRowsPerTask); r < end; ++r)
      for (int64_t i = 0; i < d; ++i)
        out[r * d + i] = feature_rules::standardise(values[r * f + index[i]], scaling.transform[i], scaling.mean[i],
                                                    scaling.scale[i]);
  });
  return out;
}
}  // namespace

std::vector<float> apply_scaling(const FeatureMatrix& features, const FeatureScaling& scaling) {
  return apply_scaling_on_threads(features, scaling, 1);
}

HostDeviceVector<float> apply_scaling(const Context& ctx, const FeatureMatrix& features, const FeatureScaling& scaling) {
  if (ctx.backend != Backend::Gpu) return apply_scaling_on_threads(features, scaling, resolve_thread_count(ctx.num_threads));
  HostDeviceVector<float> out;
  cuda_impl::apply_scaling(ctx, features, scaled_column_index(features, scaling), scaling, out);
  return out;
}

// ------------------------------------------------------------------ output

void FeatureColumnStats::start_columns(size_t columns) {
  if (!sum_.empty()) return;
  sum_.assign(columns, 0.0);
  sum_sq_.assign(columns, 0.0);
  minimum_.assign(columns, std::numeric_limits<double>::infinity());
  maximum_.assign(columns, -std::numeric_limits<double>::infinity());
  present_.assign(columns, 0);
}

void FeatureColumnStats::add(const FeatureMatrix& features) {
  const int64_t n = features.n_rows, f = features.num_features();
  start_columns(static_cast<size_t>(f));
  if (static_cast<int64_t>(sum_.size()) != f) throw Error("feature statistics: the batches have different columns");
  // Over the values present: case attribute columns hold NaN where a customer has no value. Each
  // column adds its rows in journey order, batch after batch.
  const std::vector<float>& values = features.values.host();
  for (int64_t c = 0; c < f; ++c) {
    double sum = sum_[c], sum_sq = sum_sq_[c], lo = minimum_[c], hi = maximum_[c];
    int64_t present = present_[c];
    for (int64_t r = 0; r < n; ++r) {
      const double x = values[r * f + c];
      if (std::isnan(x)) continue;
      ++present;
      sum += x;
      sum_sq += x * x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    sum_[c] = sum, sum_sq_[c] = sum_sq, minimum_[c] = lo, maximum_[c] = hi, present_[c] = present;
  }
  rows_ += n;
}

void FeatureColumnStats::save(RecordWriter& out) const {
  out.value(rows_);
  out.values(sum_);
  out.values(sum_sq_);
  out.values(minimum_);
  out.values(maximum_);
  out.values(present_);
}

void FeatureColumnStats::add_saved(RecordReader& in) {
  const auto rows = in.value<int64_t>();
  const std::vector<double> sum = in.values<double>(), sum_sq = in.values<double>(), minimum = in.values<double>(),
                            maximum = in.values<double>();
  const std::vector<int64_t> present = in.values<int64_t>();
  if (sum.empty()) return;  // a process that extracted no features
  start_columns(sum.size());
  if (sum.size() != sum_.size() || sum_sq.size() != sum.size() || minimum.size() != sum.size() ||
      maximum.size() != sum.size() || present.size() != sum.size())
    throw Error("feature statistics: another process's have other columns");
  for (size_t c = 0; c < sum.size(); ++c) {
    sum_[c] += sum[c];
    sum_sq_[c] += sum_sq[c];
    minimum_[c] = std::min(minimum_[c], minimum[c]);
    maximum_[c] = std::max(maximum_[c], maximum[c]);
    present_[c] += present[c];
  }
  rows_ += rows;
}

void FeatureColumnStats::write(ResultWriter& writer, const FeatureSpec& spec) const {
  const auto f = static_cast<size_t>(spec.num_features());
  writer.write("/features/names", spec.names);
  std::vector<uint8_t> kinds(spec.kinds.size());
  for (size_t c = 0; c < kinds.size(); ++c) kinds[c] = static_cast<uint8_t>(spec.kinds[c]);
  writer.write("/features/kind", kinds);
  std::vector<double> mean(f, 0.0), stddev(f, 0.0), minimum(f, 0.0), maximum(f, 0.0);
  for (size_t c = 0; c < f && c < sum_.size(); ++c) {
    const int64_t present = present_[c];
    mean[c] = present > 0 ? sum_[c] / present : 0.0;
    stddev[c] = present > 0 ? std::sqrt(std::max(0.0, sum_sq_[c] / present - mean[c] * mean[c])) : 0.0;
    minimum[c] = present > 0 ? minimum_[c] : 0.0;
    maximum[c] = present > 0 ? maximum_[c] : 0.0;
  }
  writer.write("/features/mean", mean);
  writer.write("/features/std", stddev);
  writer.write("/features/min", minimum);
  writer.write("/features/max", maximum);
  writer.write("/features/top_touchpoints", spec.top_touchpoints);
  writer.write("/features/top_channels", spec.top_channels);
  writer.write_attribute("/features", "n_journeys", rows_);
  writer.write_attribute("/features", "n_features", static_cast<int64_t>(f));
  writer.write_attribute("/features", "reference_time_ms", spec.reference_time_ms);
  writer.write_attribute("/features", "prefix_events", spec.options.prefix_events);
  writer.write_attribute("/features", "prefix_seconds", spec.options.prefix_seconds);
  writer.write_attribute("/features", "bigram_buckets", static_cast<int64_t>(spec.options.bigram_buckets));
}

void write_features_results(ResultWriter& writer, const FeatureMatrix& features, const JourneySet& journeys,
                            bool include_matrix) {
  (void)journeys;
  FeatureColumnStats stats;
  stats.add(features);
  stats.write(writer, features.spec);
  if (include_matrix)
    writer.write_matrix("/features/matrix", features.values, static_cast<size_t>(features.n_rows),
                        static_cast<size_t>(features.num_features()));
}

std::string format_features_summary(const FeatureSpec& spec, const FeatureColumnStats& stats) {
  std::ostringstream out;
  const int64_t n = stats.rows(), f = spec.num_features();
  out << fmt::format("Features: {} columns for {} journeys ({} top touchpoints, {} top channels, {} bigram buckets{})\n",
                     f, n, spec.top_touchpoints.size(), spec.top_channels.size(), spec.options.bigram_buckets,
                     spec.options.prefix_events > 0 ? fmt::format(", prefix of {} events", spec.options.prefix_events)
                                                    : std::string());
  for (const char* name : {"length", "duration_seconds", "distinct_touchpoints", "channel_count", "gap_median_seconds"}) {
    const int c = spec.column(name);
    if (c < 0 || n == 0) continue;
    out << fmt::format("  mean {:<22} {:>12.2f}\n", name, stats.sum(c) / n);
  }
  return out.str();
}

std::string format_features_summary(const FeatureMatrix& features, const JourneySet& journeys) {
  (void)journeys;
  FeatureColumnStats stats;
  stats.add(features);
  return format_features_summary(features.spec, stats);
}

}  // namespace jm
