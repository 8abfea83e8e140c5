// Journey features: one dense float matrix [n_journeys x n_features] with a name for every column,
// the shared input of segmentation, conversion prediction and anomaly detection.
//
//   jm::FeatureOptions options;                        // defaults: whole journeys, top 16 touchpoints
//   jm::FeatureSpec spec = jm::fit_feature_spec(journeys, options);
//   jm::FeatureMatrix features = jm::extract_features(ctx, journeys, spec);
//   float length = features.at(j, features.column("length"));
//   // in-flight scoring: the same spec, only the first 5 events of every journey
//   jm::FeatureSpec prefix = spec;  prefix.options.prefix_events = 5;
//   jm::FeatureMatrix early = jm::extract_features(ctx, new_journeys, prefix);
//
// No label leakage: journeys are cut before their outcome (outcome.hpp), so features see only events
// before it; `converted` and `conversion_value` are never inputs, and no column looks at later
// journeys of the customer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/host_device_vector.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

class ResultWriter;

struct FeatureOptions {
  int top_touchpoints = 16;  ///< touchpoints with their own share column (most frequent first); the rest is "other"
  int top_channels = 8;      ///< channels with their own share column
  int bigram_buckets = 16;   ///< hashed transition buckets (0 = no bigram columns)
  int top_dimension_values = 16;  ///< values of each custom dimension with their own code; the rest is "other"
  /// Prefix mode, for journeys still in flight: > 0 keeps only the first k events of every journey.
  int64_t prefix_events = 0;
  /// Prefix mode by time: > 0 keeps only events at most this many seconds after the journey's first event.
  double prefix_seconds = 0.0;
  /// Snapshot mode: when set, only events at or before this time (ms since epoch) are seen.
  bool has_cutoff_time = false;
  int64_t cutoff_time_ms = 0;
  /// "Now" for the recency column; when unset, the last event time in the journey set.
  bool has_reference_time = false;
  int64_t reference_time_ms = 0;
};

enum class FeatureKind : uint8_t { Numeric = 0, Categorical = 1 };

/// The column layout fitted on one journey set and reusable on new data: the names of the
/// touchpoints and channels that own a share column, and the reference time. Applying a spec to
/// another journey set maps those names through its vocabulary, so columns mean the same thing.
struct FeatureSpec {
  FeatureOptions options;
  std::vector<std::string> top_touchpoints;  ///< share slot s -> touchpoint name; slot size() is "other"
  std::vector<std::string> top_channels;
  int64_t reference_time_ms = 0;
  /// Case attribute columns (case:<name>, last in the matrix), fitted from the journeys' attributes:
  /// names, 1 for categorical, and the category names by code. Applied to another journey set by name.
  std::vector<std::string> case_attributes;
  std::vector<uint8_t> case_attribute_categorical;
  std::vector<std::vector<std::string>> case_attribute_categories;
  /// Custom dimension columns (dim:<name>, after the case columns): the first value of the
  /// dimension among the journey's events inside the feature window (so a prefix sees only its own
  /// events), as its rank among `dimension_values` (most frequent first journey values of the
  /// fitted set); rank dimension_values.size() is "other"; NaN when the window has no value.
  std::vector<std::string> dimensions;
  std::vector<std::vector<std::string>> dimension_values;
  /// External factor columns (cov:<name>, last in the matrix): the factor's value in the bucket of
  /// the journey's first event (known from the journey's start, so a fair in-flight input), read
  /// from the journeys' covariates table, whose buckets must be `covariate_bucket_seconds` long.
  std::vector<std::string> covariates;
  int64_t covariate_bucket_seconds = 0;
  std::vector<std::string> names;            ///< [n_features]
  std::vector<FeatureKind> kinds;            ///< [n_features]; categorical columns hold slot ids

  int64_t num_features() const { return static_cast<int64_t>(names.size()); }
  /// Column index of `name`, or -1.
  int column(const std::string& name) const;
};

/// The feature matrix, row-major [n_rows x n_features]; row j belongs to journey j. Made on the GPU
/// it stays there for segments, the model and the anomaly scores; the host copy is made on first read.
struct FeatureMatrix {
  FeatureSpec spec;
  int64_t n_rows = 0;
  HostDeviceVector<float> values;

  int64_t num_features() const { return spec.num_features(); }
  float at(int64_t row, int64_t col) const { return values[static_cast<size_t>(row * num_features() + col)]; }
  int column(const std::string& name) const { return spec.column(name); }
};

/// Chooses the top touchpoints/channels (by events inside feature windows) and the reference time,
/// and names the columns. Throws ConfigError on invalid options.
FeatureSpec fit_feature_spec(const JourneySet& journeys, const FeatureOptions& options);

/// Computes the matrix on the backend of `ctx`; both backends agree within float rounding
/// (identical except a few ulp in the entropy and hour sin/cos columns).
FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureSpec& spec);

/// fit_feature_spec + extract_features.
FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureOptions& options);

/// How a column is transformed before standardisation.
enum class FeatureTransform : uint8_t {
  Identity = 0,
  Log1p = 1,  ///< heavy-tailed non-negative columns: lengths, counts, durations, gaps, recency
  Sqrt = 2,   ///< share columns: Euclidean distance between square-rooted shares is the Hellinger distance
};

/// Standardisation of selected columns, stored so that new data is transformed the same way:
/// scaled = (f(x) - mean) / scale with f from `transform`. Share columns of one block
/// (touchpoint_share:*, channel_share:*, bigram_share:*) share one scale, the block's pooled standard
/// deviation: a rare touchpoint then weighs in proportion to how much it varies instead of being
/// blown up to unit variance (which turns every rare side path into a cluster of its own).
struct FeatureScaling {
  std::vector<std::string> columns;   ///< [d] feature names, in output order
  std::vector<uint8_t> transform;     ///< [d] FeatureTransform of each column
  std::vector<float> mean;            ///< [d] mean of f(x) on the fitting data
  std::vector<float> scale;           ///< [d] standard deviation of f(x), pooled over a share block (1 where 0)

  int64_t dims() const { return static_cast<int64_t>(columns.size()); }
};

/// The transform a column gets by its name (see FeatureTransform).
FeatureTransform feature_transform(const std::string& name);

/// The share block of a column ("touchpoint_share", "channel_share", "bigram_share"), or "" for none.
std::string share_block(const std::string& name);

/// Fits the scaling of `columns` (all numeric columns when empty). Throws ConfigError on an
/// unknown or categorical column.
FeatureScaling fit_scaling(const FeatureMatrix& features, const std::vector<std::string>& columns = {});

/// Returns the scaled columns, row-major [n_rows x scaling.dims()], each value
/// feature_rules::standardise of its feature. Throws ConfigError when a column of the scaling is
/// missing from `features`.
std::vector<float> apply_scaling(const FeatureMatrix& features, const FeatureScaling& scaling);

/// The same on ctx's backend: on a GPU context computed on the device from the matrix where it
/// lives (uploaded only if it is not there) and left there for the stages that read it next.
HostDeviceVector<float> apply_scaling(const Context& ctx, const FeatureMatrix& features, const FeatureScaling& scaling);

/// Writes /features: names, kinds, per-column summary (mean, std, min, max), the spec as attributes
/// and, when `include_matrix`, the full matrix /features/matrix [n_journeys x n_features].
void write_features_results(ResultWriter& writer, const FeatureMatrix& features, const JourneySet& journeys,
                            bool include_matrix = true);

/// Readable summary block: number of features and the headline columns' means.
std::string format_features_summary(const FeatureMatrix& features, const JourneySet& journeys);

namespace cpu_impl {
FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureSpec& spec);
}  // namespace cpu_impl

namespace cuda_impl {
/// GPU twin: one thread per journey over the CSR on the device; the matrix stays there.
FeatureMatrix extract_features(const Context& ctx, const JourneySet& journeys, const FeatureSpec& spec);
/// GPU twin of apply_scaling: one thread per value; `column_index` [d] are the matrix columns scaled.
void apply_scaling(const Context& ctx, const FeatureMatrix& features, const std::vector<int32_t>& column_index,
                   const FeatureScaling& scaling, HostDeviceVector<float>& out);
}  // namespace cuda_impl

}  // namespace jm
