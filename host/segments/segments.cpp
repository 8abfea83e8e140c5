// Behavioural segmentation: standardise the chosen feature columns, run k-means for the requested
// k (or each k of a range, keeping the best sampled silhouette), order segments by size and
// describe each one in words. Also the /segments group and the summary table.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "host/core/statistics.hpp"
#include "host/segments/kmeans_driver.hpp"
#include "host/segments/segment_parts.hpp"
#include "host/segments/silhouette.hpp"
#include "journeymap/common.hpp"
#include "journeymap/result_file.hpp"
#include "journeymap/segments.hpp"
#include "journeymap/step_timing.hpp"

namespace jm {
namespace {

// The `top_n` ids by count, as (name, share of total).
std::vector<std::pair<std::string, double>> top_shares(const std::vector<int64_t>& counts, const Vocabulary& names,
                                                       int top_n) {
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  std::vector<int32_t> ids(counts.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return counts[a] > counts[b]; });
  std::vector<std::pair<std::string, double>> out;
  for (int32_t id : ids) {
    if (static_cast<int>(out.size()) >= top_n || counts[id] == 0) break;
    out.emplace_back(names.name(id), static_cast<double>(counts[id]) / static_cast<double>(total));
  }
  return out;
}

// A short readable label: length class, the touchpoint most over-represented in the segment, the
// leading channel and the conversion rate.
std::string make_label(double length_z, const std::vector<int64_t>& touchpoint_events,
                       const std::vector<double>& population_touchpoint_share, const std::vector<int64_t>& channel_events,
                       const JourneySet& journeys, double conversion_rate) {
  const char* length_word = length_z < -0.5 ? "short" : (length_z > 0.5 ? "long" : "medium-length");
  int64_t total = 0;
  for (int64_t c : touchpoint_events) total += c;
  int32_t heavy = -1;
  double best_lift = 0.0;
  for (size_t t = 0; t < touchpoint_events.size(); ++t) {
    const double share = total > 0 ? static_cast<double>(touchpoint_events[t]) / total : 0.0;
    if (share < 0.10 || population_touchpoint_share[t] <= 0.0) continue;  // only touchpoints that shape the segment
    const double lift = share / population_touchpoint_share[t];
    if (lift > best_lift) {
      best_lift = lift;
      heavy = static_cast<int32_t>(t);
    }
  }
  const int32_t channel = static_cast<int32_t>(std::max_element(channel_events.begin(), channel_events.end()) -
                                               channel_events.begin());
  std::string label = length_word;
  if (heavy >= 0) label += ", " + journeys.touchpoints.name(heavy) + "-heavy";
  if (!channel_events.empty() && channel_events[channel] > 0) label += ", " + journeys.channels.name(channel) + "-led";
  label += fmt::format("; converts {:.0f}%", 100.0 * conversion_rate);
  return label;
}

std::string join_shares(const std::vector<std::pair<std::string, double>>& items) {
  std::string out;
  for (const auto& [name, share] : items) out += (out.empty() ? "" : ", ") + fmt::format("{} {:.0f}%", name, 100.0 * share);
  return out;
}

std::string join_scores(const std::vector<std::pair<std::string, double>>& items) {
  std::string out;
  for (const auto& [name, z] : items) out += (out.empty() ? "" : ", ") + fmt::format("{} {:+.2f}", name, z);
  return out;
}

}  // namespace

std::vector<std::string> default_segment_columns(const FeatureMatrix& features) {
  static const char* const kExcluded[] = {"start_hour", "start_weekday", "recency_days", "customer_journey_number"};
  std::vector<std::string> columns;
  for (int64_t c = 0; c < features.num_features(); ++c) {
    const std::string& name = features.spec.names[c];
    if (features.spec.kinds[c] != FeatureKind::Numeric) continue;
    if (std::find(std::begin(kExcluded), std::end(kExcluded), name) != std::end(kExcluded)) continue;
    if (name.rfind("case:", 0) == 0) continue;  // who the customer is, not how the journey went
    if (name.rfind("cov:", 0) == 0) continue;   // the calendar around the journey, not the journey
    columns.push_back(name);
  }
  return columns;
}

namespace segments_detail {

void validate(const SegmentOptions& options) {
  if (options.k < 0) throw ConfigError("segments.k must be >= 0 (0 = choose k automatically)");
  if (options.k == 0) {
    if (options.k_min < 2) throw ConfigError("segments.k_min must be >= 2 (got " + std::to_string(options.k_min) + ")");
    if (options.k_max < options.k_min)
      throw ConfigError("segments.k_max (" + std::to_string(options.k_max) + ") must be >= k_min (" +
                        std::to_string(options.k_min) + ")");
  }
  if (options.silhouette_sample < 2) throw ConfigError("segments.silhouette_sample must be >= 2");
  if (options.search_sample < 0) throw ConfigError("segments.search_sample must be >= 0 (0 = all journeys)");
  if (options.top_n < 0) throw ConfigError("segments.top_n must be >= 0");
  const KMeansOptions& km = options.kmeans;
  if (km.max_iterations < 1 || km.restarts < 1 || km.init_sample < 1)
    throw ConfigError("k-means max_iterations, restarts and init_sample must be >= 1");
  if (!(km.tolerance >= 0.0) || !std::isfinite(km.tolerance))
    throw ConfigError("k-means tolerance must be a finite number >= 0");
}

std::vector<int64_t> sample_indices(int64_t n, int64_t count, uint64_t seed) {
  std::vector<int64_t> index(static_cast<size_t>(n));
  std::iota(index.begin(), index.end(), 0);
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < count; ++i) std::swap(index[i], index[i + static_cast<int64_t>(rng() % static_cast<uint64_t>(n - i))]);
  index.resize(static_cast<size_t>(count));
  std::sort(index.begin(), index.end());
  return index;
}

SearchPlan plan_search(const SegmentOptions& options, int64_t n) {
  SearchPlan plan;
  if (options.k > 0) {
    plan.ks.push_back(options.k);
  } else {
    for (int k = options.k_min; k <= std::min<int64_t>(options.k_max, n); ++k) plan.ks.push_back(k);
    if (plan.ks.empty()) plan.ks.push_back(static_cast<int>(std::min<int64_t>(n, options.k_min)));
    plan.automatic = true;
  }
  // The search over k runs on a sample of the journeys when there are many (its cost is restarts x
  // k values x iterations passes over the points); the winner is refitted to all of them.
  if (plan.ks.size() > 1 && options.search_sample > 0 && n > options.search_sample)
    plan.sample = sample_indices(n, options.search_sample, options.kmeans.seed ^ 0x5eac4u);
  return plan;
}

uint64_t silhouette_seed(const SegmentOptions& options) { return options.kmeans.seed ^ 0x5111u; }

KMeansResult try_k(const Context& ctx, StepTimer& timer, LloydStep& step, const float* points, int64_t n, int dims, int k,
                   const SegmentOptions& options, double tolerance, const SilhouetteSample& sample, double& silhouette) {
  timer.next("k search: k-means");
  KMeansResult candidate = kmeans_detail::run_kmeans(ctx, step, points, n, dims, k, options.kmeans, tolerance);
  timer.next("k search: silhouette");
  silhouette = sample.score(candidate.labels, k);
  return candidate;
}

KMeansResult search_k(const Context& ctx, StepTimer& timer, LloydStep& step, const float* points, int64_t n, int dims,
                      const SegmentOptions& options, double tolerance, SegmentResult& result) {
  // One silhouette sample (drawn, and on the CPU its pairwise distances measured, once) scores every k.
  timer.next("k search: silhouette");
  const SilhouetteSample silhouette_sample(ctx, points, n, dims, options.silhouette_sample, silhouette_seed(options));
  const std::vector<int> ks = result.k_tried;
  result.k_tried.clear();
  KMeansResult best;
  int best_index = -1;
  for (size_t i = 0; i < ks.size(); ++i) {
    report_progress(ctx, "k search", static_cast<double>(i) / static_cast<double>(ks.size()));
    double silhouette = 0.0;
    KMeansResult candidate =
        try_k(ctx, timer, step, points, n, dims, ks[i], options, tolerance, silhouette_sample, silhouette);
    result.k_tried.push_back(ks[i]);
    result.inertia_per_k.push_back(candidate.inertia);
    result.silhouette_per_k.push_back(silhouette);
    // Highest silhouette wins; strictly greater, so the smaller k wins ties.
    if (best_index < 0 || silhouette > result.silhouette_per_k[best_index]) {
      best_index = static_cast<int>(i);
      best = std::move(candidate);
    }
  }
  report_progress(ctx, "k search", 1.0);
  result.silhouette = result.silhouette_per_k[best_index];
  return best;
}

void take_clustering(const KMeansResult& best, SegmentResult& result) {
  // Segment 0 is the largest (ties: lower k-means label first).
  const int k = best.k, dims = best.dims;
  std::vector<int32_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return best.sizes[a] > best.sizes[b]; });
  std::vector<int32_t> new_label(static_cast<size_t>(k));
  for (int s = 0; s < k; ++s) new_label[order[s]] = s;
  result.k = k;
  result.inertia = best.inertia;
  result.iterations = best.iterations;
  result.labels.resize(best.labels.size());
  for (size_t j = 0; j < best.labels.size(); ++j) result.labels[j] = new_label[best.labels[j]];
  result.centroids_scaled.resize(size_t(k) * dims);
  result.initial_centroids_scaled.resize(size_t(k) * dims);
  for (int s = 0; s < k; ++s) {
    const size_t from = size_t(order[s]) * dims, to = size_t(s) * dims;
    std::copy_n(best.centroids.begin() + from, dims, result.centroids_scaled.begin() + to);
    std::copy_n(best.initial_centroids.begin() + from, dims, result.initial_centroids_scaled.begin() + to);
  }
}

SegmentProfileTally::SegmentProfileTally(int k, int dims, int32_t n_touchpoints, int32_t n_channels)
    : k_(k), dims_(dims), raw_sum_(size_t(k) * dims, 0.0), scaled_sum_(size_t(k) * dims, 0.0),
      size_(static_cast<size_t>(k), 0), conversions_(static_cast<size_t>(k), 0),
      touchpoint_events_(static_cast<size_t>(k), std::vector<int64_t>(static_cast<size_t>(n_touchpoints), 0)),
      channel_events_(static_cast<size_t>(k), std::vector<int64_t>(static_cast<size_t>(n_channels), 0)),
      lengths_(static_cast<size_t>(k)), durations_(static_cast<size_t>(k)),
      population_touchpoints_(static_cast<size_t>(n_touchpoints), 0) {}

void SegmentProfileTally::add(const JourneySet& journeys, const int32_t* labels, const float* raw, int64_t raw_stride,
                              const std::vector<int>& raw_columns, const float* scaled) {
  const int dims = dims_;
  const int64_t n = journeys.size();
  for (int64_t j = 0; j < n; ++j) {
    const int s = labels[j];
    ++size_[s];
    for (int i = 0; i < dims; ++i) {
      raw_sum_[size_t(s) * dims + i] += raw[j * raw_stride + raw_columns[i]];
      scaled_sum_[size_t(s) * dims + i] += scaled[j * dims + i];
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    const int s = labels[j];
    conversions_[s] += journeys.converted[j];
    lengths_[s].push_back(static_cast<double>(journeys.length(j)));
    durations_[s].push_back(static_cast<double>(journeys.end_ms[j] - journeys.start_ms[j]) / 1000.0);
    for (int64_t e = journeys.offsets[j]; e < journeys.offsets[j + 1]; ++e) {
      ++touchpoint_events_[s][journeys.touchpoint[e]];
      ++channel_events_[s][journeys.channel[e]];
      ++population_touchpoints_[journeys.touchpoint[e]];
    }
  }
  for (int64_t j = 0; j < n; ++j) length_sum_ += static_cast<double>(journeys.length(j));
  journeys_ += n;
  events_ += journeys.num_events();
}

void SegmentProfileTally::finish(const JourneySet& vocabulary, const SegmentOptions& options, SegmentResult& result) const {
  const int k = k_, dims = dims_;
  const int64_t n = journeys_;
  const std::vector<int64_t>& size = size_;
  const std::vector<double>& scaled_sum = scaled_sum_;
  const JourneySet& journeys = vocabulary;
  // Centroids in original units: member means of the raw columns.
  result.centroids.resize(size_t(k) * dims);
  for (int s = 0; s < k; ++s)
    for (int i = 0; i < dims; ++i)
      result.centroids[size_t(s) * dims + i] =
          size[s] > 0 ? static_cast<float>(raw_sum_[size_t(s) * dims + i] / size[s]) : 0.0f;

  // Profiles.
  const size_t n_touchpoints = population_touchpoints_.size();
  std::vector<double> population_touchpoint_share(n_touchpoints, 0.0);
  const double total_events = static_cast<double>(events_);
  for (size_t t = 0; t < n_touchpoints; ++t)
    population_touchpoint_share[t] = total_events > 0 ? population_touchpoints_[t] / total_events : 0.0;
  const int length_column = [&] {
    for (int i = 0; i < dims; ++i)
      if (result.scaling.columns[i] == "length") return i;
    return -1;
  }();
  const double population_mean_length = length_sum_ / static_cast<double>(n);

  result.profiles.resize(static_cast<size_t>(k));
  for (int s = 0; s < k; ++s) {
    SegmentProfile& p = result.profiles[s];
    const std::vector<double>& lengths = lengths_[s];
    p.size = size[s];
    p.share = static_cast<double>(size[s]) / static_cast<double>(n);
    p.conversion_rate = size[s] > 0 ? static_cast<double>(conversions_[s]) / size[s] : 0.0;
    p.mean_length = lengths.empty() ? 0.0 : std::accumulate(lengths.begin(), lengths.end(), 0.0) / size[s];
    p.median_length = lengths.empty() ? 0.0 : median_of(lengths);
    p.median_duration_seconds = durations_[s].empty() ? 0.0 : median_of(durations_[s]);
    p.top_touchpoints = top_shares(touchpoint_events_[s], journeys.touchpoints, options.top_n);
    p.top_channels = top_shares(channel_events_[s], journeys.channels, options.top_n);
    // The segment mean of a standardised column is its z-score against the population.
    std::vector<std::pair<std::string, double>> z(static_cast<size_t>(dims));
    for (int i = 0; i < dims; ++i)
      z[i] = {result.scaling.columns[i], size[s] > 0 ? scaled_sum[size_t(s) * dims + i] / size[s] : 0.0};
    std::stable_sort(z.begin(), z.end(), [](const auto& a, const auto& b) { return std::fabs(a.second) > std::fabs(b.second); });
    z.resize(std::min<size_t>(z.size(), static_cast<size_t>(options.top_n)));
    p.distinguishing = z;
    const double length_z = length_column >= 0
                                ? (size[s] > 0 ? scaled_sum[size_t(s) * dims + length_column] / size[s] : 0.0)
                                : (p.mean_length / std::max(population_mean_length, 1e-9) - 1.0);
    p.label = make_label(length_z, touchpoint_events_[s], population_touchpoint_share, channel_events_[s], journeys,
                         p.conversion_rate);
  }
}

void SegmentProfileTally::save(RecordWriter& out) const {
  out.value(journeys_);
  out.value(events_);
  out.value(length_sum_);
  out.values(raw_sum_);
  out.values(scaled_sum_);
  out.values(size_);
  out.values(conversions_);
  for (int s = 0; s < k_; ++s) {
    out.values(touchpoint_events_[s]);
    out.values(channel_events_[s]);
    out.values(lengths_[s]);
    out.values(durations_[s]);
  }
  out.values(population_touchpoints_);
}

void SegmentProfileTally::add_saved(RecordReader& in) {
  // Each part added in the order add() adds it, element by element.
  auto add = [](auto& total, const auto& part) {
    if (part.size() != total.size()) throw Error("segment profiles: another process's have another shape");
    for (size_t i = 0; i < part.size(); ++i) total[i] += part[i];
  };
  const auto journeys = in.value<int64_t>();
  const auto events = in.value<int64_t>();
  const auto length_sum = in.value<double>();
  add(raw_sum_, in.values<double>());
  add(scaled_sum_, in.values<double>());
  add(size_, in.values<int64_t>());
  add(conversions_, in.values<int64_t>());
  for (int s = 0; s < k_; ++s) {
    add(touchpoint_events_[s], in.values<int64_t>());
    add(channel_events_[s], in.values<int64_t>());
    const std::vector<double> lengths = in.values<double>(), durations = in.values<double>();
    lengths_[s].insert(lengths_[s].end(), lengths.begin(), lengths.end());
    durations_[s].insert(durations_[s].end(), durations.begin(), durations.end());
  }
  add(population_touchpoints_, in.values<int64_t>());
  journeys_ += journeys;
  events_ += events;
  length_sum_ += length_sum;
}

}  // namespace segments_detail

SegmentResult segment_journeys(const Context& ctx, const JourneySet& journeys, const FeatureMatrix& features,
                               const SegmentOptions& options) {
  using namespace segments_detail;
  validate(options);
  const int64_t n = journeys.size();
  if (features.n_rows != n)
    throw ConfigError("feature matrix has " + std::to_string(features.n_rows) + " rows but the journey set has " +
                      std::to_string(n) + " journeys");
  StepTimer timer(ctx, "scaling");
  SegmentResult result;
  result.scaling = fit_scaling(features, options.columns.empty() ? default_segment_columns(features) : options.columns);
  const int dims = static_cast<int>(result.scaling.dims());
  if (dims == 0) throw ConfigError("no feature columns to segment on");
  if (n == 0) return result;
  if (options.k > n)
    throw ConfigError("segments.k = " + std::to_string(options.k) + " exceeds the number of journeys (" +
                      std::to_string(n) + ")");
  // On the GPU the scaled matrix is computed on the device and the full-data Lloyd passes read it
  // there; the host copy (tolerance, search sample, silhouette) comes home once.
  const HostDeviceVector<float> scaled = apply_scaling(ctx, features, result.scaling);
  const std::vector<float>& points = scaled.host();
  timer.next("search sample");
  const SearchPlan plan = plan_search(options, n);
  result.k_chosen_automatically = plan.automatic;
  result.k_tried = plan.ks;
  const double tolerance = options.kmeans.tolerance * kmeans_detail::mean_variance(points.data(), n, dims);
  const bool search_on_sample = !plan.sample.empty();
  std::vector<float> sample_points;
  for (const int64_t row : plan.sample) sample_points.insert(sample_points.end(), points.begin() + row * dims, points.begin() + (row + 1) * dims);
  const float* search_points = search_on_sample ? sample_points.data() : points.data();
  const int64_t search_n = search_on_sample ? static_cast<int64_t>(plan.sample.size()) : n;
  result.search_rows = search_n;
  KMeansResult best;
  {
    auto step = search_on_sample ? kmeans_detail::make_step(ctx, search_points, search_n, dims)
                                 : kmeans_detail::make_step(ctx, scaled, n, dims);
    best = search_k(ctx, timer, *step, search_points, search_n, dims, options, tolerance, result);
  }
  if (search_on_sample) {
    timer.next("final fit");
    // Every journey, from the sample's centroids: its start is what initial_centroids records.
    auto full_step = kmeans_detail::make_step(ctx, scaled, n, dims);
    best = kmeans_detail::run_lloyd(*full_step, points.data(), n, dims, best.centroids, best.k, options.kmeans, tolerance,
                                    true);
  }

  timer.next("profiles");
  take_clustering(best, result);
  std::vector<int> column(static_cast<size_t>(dims));
  for (int i = 0; i < dims; ++i) column[i] = features.column(result.scaling.columns[i]);
  SegmentProfileTally profiles(result.k, dims, journeys.touchpoints.size(), journeys.channels.size());
  profiles.add(journeys, result.labels.data(), features.values.host().data(), features.num_features(), column,
               points.data());
  profiles.finish(journeys, options, result);
  return result;
}

void write_segments_results(ResultWriter& writer, const SegmentResult& result, const JourneySet& journeys) {
  (void)journeys;
  const size_t k = static_cast<size_t>(result.k), dims = static_cast<size_t>(result.scaling.dims());
  writer.write("/segments/label", result.labels);
  writer.write("/segments/columns", result.scaling.columns);
  writer.write_matrix("/segments/centroids", result.centroids, k, dims);
  writer.write_matrix("/segments/centroids_scaled", result.centroids_scaled, k, dims);
  writer.write_matrix("/segments/initial_centroids_scaled", result.initial_centroids_scaled, k, dims);
  writer.write("/segments/scaling_mean", result.scaling.mean);
  writer.write("/segments/scaling_scale", result.scaling.scale);
  writer.write("/segments/scaling_transform", result.scaling.transform);
  std::vector<int64_t> k_tried(result.k_tried.begin(), result.k_tried.end());
  writer.write("/segments/k_tried", k_tried);
  writer.write("/segments/inertia_per_k", result.inertia_per_k);
  writer.write("/segments/silhouette_per_k", result.silhouette_per_k);

  std::vector<int64_t> size;
  std::vector<double> share, conversion_rate, mean_length, median_length, median_duration;
  std::vector<std::string> label, top_touchpoints, top_channels, distinguishing;
  for (const SegmentProfile& p : result.profiles) {
    size.push_back(p.size);
    share.push_back(p.share);
    conversion_rate.push_back(p.conversion_rate);
    mean_length.push_back(p.mean_length);
    median_length.push_back(p.median_length);
    median_duration.push_back(p.median_duration_seconds);
    label.push_back(p.label);
    top_touchpoints.push_back(join_shares(p.top_touchpoints));
    top_channels.push_back(join_shares(p.top_channels));
    distinguishing.push_back(join_scores(p.distinguishing));
  }
  writer.write("/segments/profile/size", size);
  writer.write("/segments/profile/share", share);
  writer.write("/segments/profile/conversion_rate", conversion_rate);
  writer.write("/segments/profile/mean_length", mean_length);
  writer.write("/segments/profile/median_length", median_length);
  writer.write("/segments/profile/median_duration_seconds", median_duration);
  writer.write("/segments/profile/label", label);
  writer.write("/segments/profile/top_touchpoints", top_touchpoints);
  writer.write("/segments/profile/top_channels", top_channels);
  writer.write("/segments/profile/distinguishing_features", distinguishing);

  writer.write_attribute("/segments", "k", static_cast<int64_t>(result.k));
  writer.write_attribute("/segments", "k_chosen_automatically", static_cast<int64_t>(result.k_chosen_automatically));
  writer.write_attribute("/segments", "inertia", result.inertia);
  writer.write_attribute("/segments", "search_rows", result.search_rows);
  writer.write_attribute("/segments", "silhouette", result.silhouette);
  writer.write_attribute("/segments", "iterations", static_cast<int64_t>(result.iterations));
}

std::string format_segments_summary(const SegmentResult& result, const JourneySet& journeys) {
  (void)journeys;
  std::ostringstream out;
  if (result.k == 0) return "Segments: none (no journeys)\n";
  if (result.k_chosen_automatically)
    out << fmt::format("Segments: k = {} (best sampled silhouette over k = {}..{}: {:.3f})\n", result.k,
                       result.k_tried.front(), result.k_tried.back(), result.silhouette);
  else
    out << fmt::format("Segments: k = {} (silhouette {:.3f})\n", result.k, result.silhouette);
  out << fmt::format("  {:>3} {:>10} {:>7} {:>8} {:>8} {:>10}  {}\n", "#", "journeys", "share", "convert", "med.len",
                     "med.time", "label");
  for (int s = 0; s < result.k; ++s) {
    const SegmentProfile& p = result.profiles[s];
    out << fmt::format("  {:>3} {:>10} {:>6.1f}% {:>7.1f}% {:>8.1f} {:>9.0f}s  {}\n", s, p.size, 100.0 * p.share,
                       100.0 * p.conversion_rate, p.median_length, p.median_duration_seconds, p.label);
    out << fmt::format("      touchpoints: {}; channels: {}\n", join_shares(p.top_touchpoints), join_shares(p.top_channels));
    out << fmt::format("      distinguishing: {}\n", join_scores(p.distinguishing));
  }
  return out.str();
}

}  // namespace jm
