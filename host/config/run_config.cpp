#include "journeymap/run_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <tuple>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "journeymap/common.hpp"

namespace jm {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The integer a TOML node holds, when it fits T: an integer, or a float with an integral value
// (`rounds = 200.0`). toml++'s own float-to-integer conversion is undefined beyond int64 (found by
// fuzz_config with `max_bin = 2E56`), and a plain cast would wrap values that do not fit T.
template <typename T>
std::optional<T> exact_integer(const toml::node& node) {
  int64_t value = 0;
  if (const auto* integer = node.as_integer()) {
    value = integer->get();
  } else if (const auto* floating = node.as_floating_point()) {
    const double d = floating->get();
    if (!(d >= -9.0e18 && d <= 9.0e18) || std::trunc(d) != d) return std::nullopt;
    value = static_cast<int64_t>(d);
  } else {
    return std::nullopt;
  }
  if constexpr (std::is_unsigned_v<T>) {
    if (value < 0 || static_cast<uint64_t>(value) > std::numeric_limits<T>::max()) return std::nullopt;
  } else {
    if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max()) return std::nullopt;
  }
  return static_cast<T>(value);
}

// Reads typed values out of one TOML table, remembering which keys were used so that leftovers
// (typos such as `sesion_gap_seconds`) are reported instead of silently ignored.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, std::string source)
      : table_(table), prefix_(std::move(prefix)), source_(std::move(source)) {}

  template <typename T>
  void read(const std::string& key, T& target) {
    used_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return;
    if constexpr (std::is_same_v<T, bool>) {
      if (auto v = node->value<bool>()) { target = *v; return; }
    } else if constexpr (std::is_integral_v<T>) {
      if (auto v = exact_integer<T>(*node)) { target = *v; return; }
      if (node->is_number())
        throw ConfigError(source_ + ": key '" + prefix_ + key + "' must be an integer from " +
                          std::to_string(std::numeric_limits<T>::min()) + " to " + std::to_string(std::numeric_limits<T>::max()));
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto v = node->value<double>()) {
        // A double beyond float's range does not convert (undefined behaviour): refuse it.
        if (std::isfinite(*v) && std::fabs(*v) > static_cast<double>(std::numeric_limits<T>::max()))
          throw ConfigError(source_ + ": key '" + prefix_ + key + "' is out of range");
        target = static_cast<T>(*v);
        return;
      }
    } else {
      if (auto v = node->value<std::string>()) { target = *v; return; }
    }
    throw ConfigError(source_ + ": key '" + prefix_ + key + "' has the wrong type");
  }

  void read(const std::string& key, std::vector<std::string>& target) {
    used_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return;
    const toml::array* array = node->as_array();
    if (!array) throw ConfigError(source_ + ": key '" + prefix_ + key + "' must be an array of strings");
    std::vector<std::string> values;
    for (const toml::node& element : *array) {
      auto text = element.value<std::string>();
      if (!text) throw ConfigError(source_ + ": key '" + prefix_ + key + "' must be an array of strings");
      values.push_back(*text);
    }
    target = std::move(values);
  }

  void read(const std::string& key, std::vector<int>& target) {
    used_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return;
    const toml::array* array = node->as_array();
    if (!array) throw ConfigError(source_ + ": key '" + prefix_ + key + "' must be an array of integers");
    std::vector<int> values;
    for (const toml::node& element : *array) {
      auto number = exact_integer<int>(element);
      if (!number) throw ConfigError(source_ + ": key '" + prefix_ + key + "' must be an array of integers (32-bit)");
      values.push_back(*number);
    }
    target = std::move(values);
  }

  /// The raw node of `key` (nullptr when absent), for values of more than one type.
  const toml::node* node(const std::string& key) {
    used_.insert(key);
    return table_.get(key);
  }

  const toml::table* subtable(const std::string& key) {
    used_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return nullptr;
    if (!node->is_table()) throw ConfigError(source_ + ": '" + prefix_ + key + "' must be a table");
    return node->as_table();
  }

  void reject_unknown_keys() const {
    for (const auto& [key, node] : table_)
      if (!used_.count(std::string(key.str())))
        throw ConfigError(source_ + ": unknown key '" + prefix_ + std::string(key.str()) + "'");
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  std::string source_;
  std::set<std::string> used_;
};

// A [input.columns] or [source.columns] table: the header names of the event fields.
void read_columns(const toml::table& table, const std::string& prefix, const std::string& file, CsvColumns& columns) {
  TableReader col(table, prefix, file);
  col.read("customer", columns.customer);
  col.read("timestamp", columns.timestamp);
  col.read("touchpoint", columns.touchpoint);
  col.read("channel", columns.channel);
  col.read("value", columns.value);
  col.read("conversion", columns.conversion);
  col.reject_unknown_keys();
}

// The stage's own validation of a table's options, its message prefixed with the config's name.
template <typename Options>
void validate_in(const std::string& source, const Options& options) {
  try {
    validate(options);
  } catch (const ConfigError& error) {
    throw ConfigError(source + ": " + error.what());
  }
}

// `dimensions = ["campaign", "device=device_type"]` of [input] or a [[source]], when given.
void read_dimensions(TableReader& table, const std::string& where, std::vector<DimensionColumn>& dimensions) {
  if (!table.node("dimensions")) return;
  std::vector<std::string> entries;
  table.read("dimensions", entries);
  dimensions.clear();
  try {
    for (const std::string& entry : entries) dimensions.push_back(parse_dimension_column(entry));
  } catch (const ConfigError& error) {
    throw ConfigError(where + ": " + error.what());
  }
}

std::vector<std::string> dimension_entries(const std::vector<DimensionColumn>& dimensions) {
  std::vector<std::string> entries;
  for (const DimensionColumn& d : dimensions) entries.push_back(d.name == d.column ? d.name : d.name + "=" + d.column);
  return entries;
}

// One [[source]] table, starting from the [input] settings.
SourceSpec read_source(const toml::table& table, const std::string& file, const RunConfig& config) {
  SourceSpec spec;
  spec.csv = config.csv;
  TableReader src(table, "source.", file);
  src.read("name", spec.name);
  const std::string prefix = "source '" + spec.name + "'";
  if (spec.name.empty()) throw ConfigError(file + ": every [[source]] needs a name");
  if (const toml::node* path = src.node("path")) {
    if (auto text = path->value<std::string>()) {
      spec.paths = {*text};
    } else {
      src.read("path", spec.paths);
    }
  }
  if (spec.paths.empty()) throw ConfigError(file + ": " + prefix + " needs a path (a file, a glob or a list of them)");
  std::string format = "auto", on_error = spec.csv.on_error == OnError::Skip ? "skip" : "fail",
              timestamp_format, delimiter(1, spec.csv.delimiter);
  src.read("format", format);
  src.read("on_error", on_error);
  src.read("timestamp_format", timestamp_format);
  src.read("time_zone", spec.csv.time_zone);
  src.read("delimiter", delimiter);
  src.read("channel", spec.channel);
  src.read("id_kind", spec.id_kind);
  src.read("conversion_touchpoint", spec.csv.conversion_touchpoint);
  try {
    spec.format = parse_input_format(format);
    spec.csv.on_error = parse_on_error(on_error);
    if (!timestamp_format.empty()) spec.csv.timestamp_format = parse_timestamp_format(timestamp_format);
    TimeZone::parse(spec.csv.time_zone);
  } catch (const ConfigError& error) {
    throw ConfigError(file + ": " + prefix + ": " + error.what());
  }
  if (delimiter.size() != 1) throw ConfigError(file + ": " + prefix + ": delimiter must be a single character");
  spec.csv.delimiter = delimiter[0];
  if (const toml::table* columns = src.subtable("columns"))
    read_columns(*columns, "source.columns.", file, spec.csv.columns);
  read_dimensions(src, file + ": " + prefix, spec.csv.columns.dimensions);
  if (const toml::table* linked = src.subtable("linked_ids")) {
    for (const auto& [kind, column] : *linked) {
      const auto text = column.value<std::string>();
      if (!text || text->empty())
        throw ConfigError(file + ": " + prefix + ": linked_ids." + std::string(kind.str()) + " must name a column");
      spec.linked_ids.emplace_back(std::string(kind.str()), *text);
    }
  }
  src.reject_unknown_keys();
  return spec;
}

void apply_table(const toml::table& root, const std::string& source, RunConfig& config) {
  TableReader top(root, "", source);
  if (const toml::table* input = top.subtable("input")) {
    TableReader in(*input, "input.", source);
    std::string format = "auto", on_error = "fail", timestamp_format = "auto", delimiter(1, config.csv.delimiter);
    in.read("path", config.input_path);
    in.read("format", format);
    in.read("on_error", on_error);
    in.read("timestamp_format", timestamp_format);
    in.read("delimiter", delimiter);
    in.read("conversion_touchpoint", config.csv.conversion_touchpoint);
    in.read("time_zone", config.csv.time_zone);
    TimeZone::parse(config.csv.time_zone);  // an unknown zone fails here, naming the key's value
    int64_t block_bytes = static_cast<int64_t>(config.csv.block_bytes);
    in.read("block_bytes", block_bytes);
    if (block_bytes < 4096 || block_bytes > (int64_t{1} << 34))
      throw ConfigError(source + ": input.block_bytes must be between 4096 and 2^34 (got " + std::to_string(block_bytes) + ")");
    config.csv.block_bytes = static_cast<size_t>(block_bytes);
    in.read("case_attributes", config.case_attributes_path);
    in.read("covariates", config.covariates_path);
    for (auto [key, target] : {std::pair{"min_timestamp", &config.csv.min_timestamp_ms},
                               std::pair{"max_timestamp", &config.csv.max_timestamp_ms}}) {
      std::string text;
      in.read(key, text);
      if (text.empty()) continue;
      const std::optional<int64_t> ms = parse_timestamp(text);
      if (!ms) throw ConfigError(source + ": input." + key + " is not a timestamp: '" + text + "'");
      *target = *ms;
    }
    if (config.csv.min_timestamp_ms >= config.csv.max_timestamp_ms)
      throw ConfigError(source + ": input.min_timestamp must be earlier than input.max_timestamp");
    if (delimiter.size() != 1) throw ConfigError(source + ": input.delimiter must be a single character");
    config.csv.delimiter = delimiter[0];
    config.input_format = parse_input_format(format);
    config.csv.on_error = parse_on_error(on_error);
    config.csv.timestamp_format = parse_timestamp_format(timestamp_format);
    if (const toml::table* columns = in.subtable("columns"))
      read_columns(*columns, "input.columns.", source, config.csv.columns);
    read_dimensions(in, source + ": input.dimensions", config.csv.columns.dimensions);
    in.reject_unknown_keys();
  }
  if (const toml::node* sources = top.node("source")) {
    const toml::array* tables = sources->as_array();
    if (!tables || !tables->is_array_of_tables())
      throw ConfigError(source + ": 'source' must be an array of tables ([[source]])");
    config.sources.clear();
    for (const toml::node& element : *tables) config.sources.push_back(read_source(*element.as_table(), source, config));
  }
  if (const toml::table* identity = top.subtable("identity")) {
    TableReader id(*identity, "identity.", source);
    id.read("files", config.identity.files);
    id.read("max_links_per_id", config.identity.max_links_per_id);
    if (config.identity.max_links_per_id < 0)
      throw ConfigError(source + ": identity.max_links_per_id must be >= 0 (0: no limit)");
    id.reject_unknown_keys();
  }
  if (const toml::table* breakdowns = top.subtable("breakdowns")) {
    TableReader b(*breakdowns, "breakdowns.", source);
    b.read("enabled", config.breakdowns_enabled);
    b.read("dimensions", config.breakdowns.dimensions);
    b.read("max_values", config.breakdowns.max_values);
    b.read("top_paths", config.breakdowns.top_paths);
    b.reject_unknown_keys();
    validate_in(source, config.breakdowns);
  }
  if (const toml::table* proposals = top.subtable("proposals")) {
    TableReader pr(*proposals, "proposals.", source);
    ProposalOptions& o = config.proposals;
    pr.read("enabled", config.proposals_enabled);
    pr.read("minimum_detectable_effect", o.minimum_detectable_effect);
    pr.read("alpha", o.alpha);
    pr.read("power", o.power);
    pr.read("max_proposals", o.max_proposals);
    pr.read("min_journeys", o.min_journeys);
    pr.reject_unknown_keys();
    validate_in(source, o);
  }
  if (const toml::table* experiment = top.subtable("experiment")) {
    TableReader e(*experiment, "experiment.", source);
    ExperimentOptions& o = config.experiment;
    e.read("dimension", o.dimension);
    e.read("control", o.control);
    e.read("covariate", o.covariate);
    e.read("alpha", o.alpha);
    e.read("msprt_tau", o.msprt_tau);
    e.read("segment_by", o.segment_by);
    e.read("max_segments", o.max_segments);
    if (const toml::node* allocation = e.node("allocation")) {
      const toml::table* shares = allocation->as_table();
      if (!shares) throw ConfigError(source + ": experiment.allocation must be a table, e.g. { A = 0.5, B = 0.5 }");
      o.allocation.clear();
      for (const auto& [name, share] : *shares) {
        const auto value = share.value<double>();
        if (!value) throw ConfigError(source + ": experiment.allocation." + std::string(name.str()) + " must be a number");
        o.allocation.emplace_back(std::string(name.str()), *value);
      }
    }
    e.reject_unknown_keys();
    validate_in(source, o);
  }
  if (const toml::table* taxonomy = top.subtable("taxonomy")) {
    TableReader tax(*taxonomy, "taxonomy.", source);
    tax.read("file", config.taxonomy.file);
    tax.read("level", config.taxonomy.level);
    tax.read("max_touchpoints", config.taxonomy.max_touchpoints);
    tax.read("unmapped", config.taxonomy.unmapped);
    tax.reject_unknown_keys();
    validate_in(source, config.taxonomy);
  }
  if (const toml::table* journeys = top.subtable("journeys")) {
    TableReader j(*journeys, "journeys.", source);
    j.read("session_gap_seconds", config.journeys.session_gap_seconds);
    j.read("drop_duplicates", config.journeys.drop_duplicates);
    j.read("max_length", config.journeys.max_length);
    j.reject_unknown_keys();
  }
  if (const toml::table* outcome = top.subtable("outcome")) {
    TableReader o(*outcome, "outcome.", source);
    OutcomeDefinition& d = config.outcome;
    std::string after;
    o.read("positive", d.positive);
    o.read("same_instant_seconds", d.same_instant_seconds);
    o.read("after", after);
    if (!after.empty()) d.after = parse_after_outcome(after);
    o.read("label_file", d.label_file);
    o.read("label_file_only", d.label_file_only);
    o.read("window_days", d.window_days);
    if (const toml::table* events = o.subtable("events")) {
      d.events.clear();
      for (const auto& [touchpoint, label] : *events) {
        auto text = label.value<std::string>();
        if (!text) throw ConfigError(source + ": outcome.events." + std::string(touchpoint.str()) + " must be a label (a string)");
        d.events.push_back(OutcomeEvent{std::string(touchpoint.str()), *text});
      }
    }
    o.reject_unknown_keys();
    validate(d);
  }
  if (const toml::table* patterns = top.subtable("patterns")) {
    TableReader p(*patterns, "patterns.", source);
    PatternOptions& o = config.patterns;
    p.read("enabled", config.patterns_enabled);
    if (const toml::node* min_support = p.node("min_support")) {
      if (auto count = min_support->value_exact<int64_t>()) {
        o.min_support = MinSupport::count(*count);
      } else if (auto share = min_support->value_exact<double>()) {
        o.min_support = MinSupport::fraction(*share);
      } else if (auto text = min_support->value_exact<std::string>()) {
        o.min_support = MinSupport::parse(*text);
      } else {
        throw ConfigError(source + ": patterns.min_support must be a count, a fraction or a text like \"5%\"");
      }
    }
    p.read("max_length", o.max_length);
    p.read("min_length", o.min_length);
    p.read("max_gap", o.max_gap);
    p.read("top_k", o.top_k);
    p.read("max_patterns", o.max_patterns);
    p.read("max_explored", o.max_explored);
    p.read("contrast_top_k", o.contrast_top_k);
    p.read("significance_level", o.significance_level);
    p.read("gpu_batch_bytes", o.gpu_batch_bytes);
    p.reject_unknown_keys();
  }
  if (const toml::table* features = top.subtable("features")) {
    TableReader f(*features, "features.", source);
    f.read("top_touchpoints", config.features.top_touchpoints);
    f.read("top_channels", config.features.top_channels);
    f.read("top_dimension_values", config.features.top_dimension_values);
    f.read("bigram_buckets", config.features.bigram_buckets);
    f.read("store_matrix", config.store_feature_matrix);
    f.reject_unknown_keys();
  }
  if (const toml::table* segments = top.subtable("segments")) {
    TableReader g(*segments, "segments.", source);
    SegmentOptions& o = config.segments;
    g.read("enabled", config.segments_enabled);
    g.read("k", o.k);
    g.read("k_min", o.k_min);
    g.read("k_max", o.k_max);
    g.read("restarts", o.kmeans.restarts);
    g.read("max_iterations", o.kmeans.max_iterations);
    g.read("tolerance", o.kmeans.tolerance);
    g.read("seed", o.kmeans.seed);
    g.read("silhouette_sample", o.silhouette_sample);
    g.read("search_sample", o.search_sample);
    g.read("columns", o.columns);
    g.read("top_n", o.top_n);
    g.reject_unknown_keys();
  }
  if (const toml::table* flows = top.subtable("flows")) {
    TableReader f(*flows, "flows.", source);
    f.read("enabled", config.flows_enabled);
    f.read("max_steps", config.flows.max_steps);
    f.read("other_threshold", config.flows.other_threshold);
    f.read("top_variants", config.flows.top_variants);
    f.read("funnel", config.flows.funnel);
    f.read("anchor", config.flows.anchor);
    f.read("anchor_at_end", config.flows.anchor_at_end);
    f.read("collapse_repeats", config.flows.collapse_repeats);
    f.reject_unknown_keys();
  }
  if (const toml::table* attribution = top.subtable("attribution")) {
    TableReader a(*attribution, "attribution.", source);
    AttributionOptions& o = config.attribution;
    a.read("enabled", config.attribution_enabled);
    a.read("time_decay_half_life_days", o.time_decay_half_life_days);
    a.read("position_first_share", o.position_first_share);
    a.read("position_last_share", o.position_last_share);
    a.read("markov_order", o.markov_order);
    a.read("markov_max_ids", o.markov_max_ids);
    a.reject_unknown_keys();
  }
  if (const toml::table* model = top.subtable("model")) {
    TableReader m(*model, "model.", source);
    ModelOptions& o = config.model;
    std::string target, split;
    m.read("enabled", config.model_enabled);
    m.read("path", config.model_path);
    m.read("target", target);
    if (!target.empty()) o.target = parse_model_target(target);
    m.read("churn_days", o.churn_days);
    m.read("rounds", o.rounds);
    m.read("early_stopping_rounds", o.early_stopping_rounds);
    m.read("learning_rate", o.learning_rate);
    m.read("max_depth", o.max_depth);
    m.read("min_child_weight", o.min_child_weight);
    m.read("subsample", o.subsample);
    m.read("colsample_bytree", o.colsample_bytree);
    m.read("reg_lambda", o.reg_lambda);
    m.read("max_bin", o.max_bin);
    m.read("split", split);
    if (!split.empty()) o.split = parse_split_mode(split);
    m.read("test_fraction", o.test_fraction);
    m.read("early_stopping_fraction", o.early_stopping_fraction);
    m.read("seed", o.seed);
    m.read("calibration_bins", o.calibration_bins);
    m.read("prefix_max_events", o.prefix_max_events);
    m.read("prefix_models", o.prefix_models);
    m.read("max_train_rows", o.max_train_rows);
    m.read("excluded_features", o.excluded_features);
    m.read("leakage_auc", o.leakage_auc);
    m.read("strict_leakage", o.strict_leakage);
    m.read("baseline_column", o.baseline_column);
    m.reject_unknown_keys();
  }
  if (const toml::table* anomalies = top.subtable("anomalies")) {
    TableReader a(*anomalies, "anomalies.", source);
    AnomaliesOptions& o = config.anomalies;
    std::string threshold;
    a.read("enabled", config.anomalies_enabled);
    a.read("journeys", o.journeys_enabled);
    a.read("alerts", o.alerts_enabled);
    a.read("columns", o.journeys.columns);
    a.read("hidden", o.journeys.autoencoder.hidden);
    a.read("epochs", o.journeys.autoencoder.epochs);
    a.read("batch_size", o.journeys.autoencoder.batch_size);
    a.read("learning_rate", o.journeys.autoencoder.learning_rate);
    a.read("max_train_rows", o.journeys.autoencoder.max_train_rows);
    a.read("seed", o.journeys.autoencoder.seed);
    a.read("threshold", threshold);
    if (!threshold.empty()) o.journeys.threshold_rule = parse_threshold_rule(threshold);
    a.read("percentile", o.journeys.percentile);
    a.read("robust_k", o.journeys.robust_k);
    a.read("log_robust_k", o.journeys.log_robust_k);
    a.read("top", o.journeys.top_n);
    a.read("compare", o.journeys.compare);
    a.read("trees", o.journeys.forest.trees);
    a.read("bucket_seconds", o.alerts.bucket_seconds);
    a.read("window", o.alerts.window);
    a.read("k_sigma", o.alerts.k_sigma);
    a.read("min_support", o.alerts.min_support);
    a.read("funnel_steps", o.alerts.funnel_steps);
    a.read("max_touchpoints", o.alerts.max_touchpoints);
    std::string seasonality;
    a.read("seasonality", seasonality);
    if (!seasonality.empty()) o.alerts.seasonality = parse_seasonality(seasonality);
    a.reject_unknown_keys();
  }
  if (const toml::table* filter = top.subtable("filter")) {
    TableReader f(*filter, "filter.", source);
    for (auto [key, target, has] : {std::tuple{"from", &config.filter.from_ms, &config.filter.has_from},
                                    std::tuple{"to", &config.filter.to_ms, &config.filter.has_to}}) {
      std::string text;
      f.read(key, text);
      if (text.empty()) continue;
      const std::optional<int64_t> ms = parse_timestamp(text);
      if (!ms) throw ConfigError(source + ": filter." + key + " is not a timestamp: '" + text + "'");
      *target = *ms;
      *has = true;
    }
    f.read("channels", config.filter.channels);
    std::vector<int> segments;
    f.read("segments", segments);
    for (const int segment : segments) {
      if (segment < 0 || segment > 4096) throw ConfigError(source + ": filter.segments holds segment numbers 0..4096");
      config.filter.segments.push_back(static_cast<int32_t>(segment));
    }
    f.reject_unknown_keys();
  }
  if (const toml::table* compare = top.subtable("compare")) {
    TableReader c(*compare, "compare.", source);
    for (auto [key, target] : {std::pair{"a_from", &config.compare.a.from_ms}, std::pair{"a_to", &config.compare.a.to_ms},
                               std::pair{"b_from", &config.compare.b.from_ms}, std::pair{"b_to", &config.compare.b.to_ms}}) {
      std::string text;
      c.read(key, text);
      const std::optional<int64_t> ms = parse_timestamp(text);
      if (!ms) throw ConfigError(source + ": compare." + key + " is required and must be a timestamp (got '" + text + "')");
      *target = *ms;
    }
    c.read("top_paths", config.compare.top_paths);
    c.read("significance_level", config.compare.significance_level);
    c.reject_unknown_keys();
    config.compare_enabled = true;
  }
  if (const toml::table* run = top.subtable("run")) {
    TableReader r(*run, "run.", source);
    std::string device = "auto";
    r.read("device", device);
    r.read("threads", config.threads);
    r.read("output", config.output_path);
    r.read("compression", config.output_compression);
    if (config.output_compression < 0 || config.output_compression > 9)
      throw ConfigError(source + ": run.compression must be a deflate level 0..9 (0: none)");
    r.read("progress", config.progress);
    std::string budget;
    r.read("host_memory_budget", budget);
    if (!budget.empty()) config.host_memory_budget = parse_memory_size(budget, source + ": run.host_memory_budget");
    std::string device_budget;
    r.read("device_memory_budget", device_budget);
    if (!device_budget.empty())
      config.device_memory_budget = parse_memory_size(device_budget, source + ": run.device_memory_budget");
    r.read("model_sample_events", config.model_sample_events);
    if (config.model_sample_events < 0) throw ConfigError(source + ": run.model_sample_events must be >= 0 (0: one batch)");
    config.device = parse_device_choice(device);
    r.reject_unknown_keys();
  }
  top.reject_unknown_keys();
}

}  // namespace

int64_t parse_memory_size(const std::string& text, const std::string& what) {
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"", 1},          {"b", 1},          {"kb", 1000},          {"mb", 1000 * 1000},
      {"gb", 1000LL * 1000 * 1000},         {"tb", 1000LL * 1000 * 1000 * 1000},
      {"kib", 1LL << 10}, {"mib", 1LL << 20}, {"gib", 1LL << 30}, {"tib", 1LL << 40}};
  size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) ++digits;
  std::string unit = text.substr(digits);
  unit.erase(0, unit.find_first_not_of(' '));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string number = text.substr(0, digits);
  char* end = nullptr;
  const double value = number.empty() ? -1.0 : std::strtod(number.c_str(), &end);
  for (const auto& [name, bytes] : kUnits)
    if (unit == name && end == number.c_str() + number.size() && value > 0.0 && value * bytes < 9.0e18 &&
        value * bytes >= 1.0)
      return static_cast<int64_t>(value * static_cast<double>(bytes));
  throw ConfigError(what + " must be a memory size such as 4GiB, 512MB or a number of bytes (got '" + text + "')");
}

std::string format_memory_size(int64_t bytes) {
  for (const auto& [name, shift] : {std::pair<const char*, int>{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}})
    if (bytes > 0 && bytes % (int64_t{1} << shift) == 0) return std::to_string(bytes >> shift) + name;
  return std::to_string(bytes) + "B";
}

namespace {

const char* format_name(InputFormat format) {
  switch (format) {
    case InputFormat::Csv: return "csv";
    case InputFormat::Spmf: return "spmf";
    case InputFormat::Parquet: return "parquet";
    default: return "auto";
  }
}

const char* timestamp_format_name(TimestampFormat format) {
  switch (format) {
    case TimestampFormat::Iso8601: return "iso8601";
    case TimestampFormat::EpochSeconds: return "epoch_s";
    case TimestampFormat::EpochMillis: return "epoch_ms";
    default: return "auto";
  }
}

const char* device_name(DeviceChoice choice) {
  switch (choice) {
    case DeviceChoice::Cpu: return "cpu";
    case DeviceChoice::Gpu: return "gpu";
    default: return "auto";
  }
}

}  // namespace

InputFormat parse_input_format(const std::string& text) {
  const std::string lower = lowercase(text);
  if (lower == "auto") return InputFormat::Auto;
  if (lower == "csv") return InputFormat::Csv;
  if (lower == "spmf") return InputFormat::Spmf;
  if (lower == "parquet") return InputFormat::Parquet;
  throw ConfigError("input format must be auto, csv, spmf or parquet (got '" + text + "')");
}

std::string describe_input(const RunConfig& config) {
  if (config.sources.empty()) return config.input_path;
  std::string names;
  for (const SourceSpec& spec : config.sources) names += (names.empty() ? "" : ", ") + spec.name;
  return "source" + std::string(config.sources.size() > 1 ? "s " : " ") + names;
}

OutcomeDefinition effective_outcome(const RunConfig& config) {
  OutcomeDefinition outcome = config.outcome;
  const std::string& shorthand = config.csv.conversion_touchpoint;
  const bool listed = std::any_of(outcome.events.begin(), outcome.events.end(),
                                  [&](const OutcomeEvent& event) { return event.touchpoint == shorthand; });
  if (!shorthand.empty() && !listed) outcome.events.push_back(OutcomeEvent{shorthand, "converted"});
  return outcome;
}

void apply_config_text(const std::string& toml_text, const std::string& source_name, RunConfig& config) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& error) {
    std::ostringstream message;
    message << source_name << ":" << error.source().begin.line << ": " << error.description();
    throw ConfigError(message.str());
  }
  apply_table(root, source_name, config);
}

void apply_config_file(const std::string& path, RunConfig& config) {
  if (std::filesystem::is_directory(path)) throw ConfigError("config file '" + path + "' is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot open config file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  apply_config_text(text.str(), path, config);
}

std::string to_toml(const RunConfig& config) {
  toml::table columns{{"customer", config.csv.columns.customer},     {"timestamp", config.csv.columns.timestamp},
                      {"touchpoint", config.csv.columns.touchpoint}, {"channel", config.csv.columns.channel},
                      {"value", config.csv.columns.value},           {"conversion", config.csv.columns.conversion}};
  toml::table input{{"path", config.input_path},
                    {"format", format_name(config.input_format)},
                    {"on_error", config.csv.on_error == OnError::Skip ? "skip" : "fail"},
                    {"timestamp_format", timestamp_format_name(config.csv.timestamp_format)},
                    {"delimiter", std::string(1, config.csv.delimiter)},
                    {"conversion_touchpoint", config.csv.conversion_touchpoint},
                    {"time_zone", config.csv.time_zone},
                    {"block_bytes", static_cast<int64_t>(config.csv.block_bytes)},
                    {"case_attributes", config.case_attributes_path},
                    {"covariates", config.covariates_path},
                    {"min_timestamp", format_iso8601(config.csv.min_timestamp_ms)},
                    {"max_timestamp", format_iso8601(config.csv.max_timestamp_ms)},
                    {"columns", columns}};
  toml::table journeys{{"session_gap_seconds", config.journeys.session_gap_seconds},
                       {"drop_duplicates", config.journeys.drop_duplicates},
                       {"max_length", config.journeys.max_length}};
  toml::table run{{"device", device_name(config.device)},
                  {"threads", config.threads},
                  {"output", config.output_path},
                  {"compression", config.output_compression},
                  {"progress", config.progress}};
  if (config.host_memory_budget > 0) run.insert("host_memory_budget", format_memory_size(config.host_memory_budget));
  if (config.device_memory_budget > 0)
    run.insert("device_memory_budget", format_memory_size(config.device_memory_budget));
  if (config.model_sample_events > 0) run.insert("model_sample_events", config.model_sample_events);
  const PatternOptions& po = config.patterns;
  toml::table patterns{{"enabled", config.patterns_enabled},
                       {"max_length", po.max_length},
                       {"min_length", po.min_length},
                       {"max_gap", po.max_gap},
                       {"top_k", po.top_k},
                       {"max_patterns", po.max_patterns},
                       {"max_explored", po.max_explored},
                       {"contrast_top_k", po.contrast_top_k},
                       {"significance_level", po.significance_level},
                       {"gpu_batch_bytes", po.gpu_batch_bytes}};
  // A count stays an integer and a fraction a float, so that the TOML reads back the same way.
  if (po.min_support.journeys > 0)
    patterns.insert("min_support", po.min_support.journeys);
  else
    patterns.insert("min_support", po.min_support.share);
  auto string_array = [](const std::vector<std::string>& values) {
    toml::array array;
    for (const auto& value : values) array.push_back(value);
    return array;
  };
  input.insert("dimensions", string_array(dimension_entries(config.csv.columns.dimensions)));
  toml::table features{{"top_touchpoints", config.features.top_touchpoints},
                       {"top_channels", config.features.top_channels},
                       {"top_dimension_values", config.features.top_dimension_values},
                       {"bigram_buckets", config.features.bigram_buckets},
                       {"store_matrix", config.store_feature_matrix}};
  const SegmentOptions& so = config.segments;
  toml::table segments{{"enabled", config.segments_enabled},
                       {"k", so.k},
                       {"k_min", so.k_min},
                       {"k_max", so.k_max},
                       {"restarts", so.kmeans.restarts},
                       {"max_iterations", so.kmeans.max_iterations},
                       {"tolerance", so.kmeans.tolerance},
                       {"seed", static_cast<int64_t>(so.kmeans.seed)},
                       {"silhouette_sample", so.silhouette_sample},
                       {"search_sample", so.search_sample},
                       {"columns", string_array(so.columns)},
                       {"top_n", so.top_n}};
  toml::table flows{{"enabled", config.flows_enabled},
                    {"max_steps", config.flows.max_steps},
                    {"other_threshold", config.flows.other_threshold},
                    {"top_variants", config.flows.top_variants},
                    {"funnel", string_array(config.flows.funnel)},
                    {"anchor", config.flows.anchor},
                    {"anchor_at_end", config.flows.anchor_at_end},
                    {"collapse_repeats", config.flows.collapse_repeats}};
  const AttributionOptions& ao = config.attribution;
  toml::table attribution{{"enabled", config.attribution_enabled},
                          {"time_decay_half_life_days", ao.time_decay_half_life_days},
                          {"position_first_share", ao.position_first_share},
                          {"position_last_share", ao.position_last_share},
                          {"markov_order", ao.markov_order},
                          {"markov_max_ids", ao.markov_max_ids}};
  const ModelOptions& mo = config.model;
  toml::table model{{"enabled", config.model_enabled},
                    {"path", config.model_path},
                    {"target", to_string(mo.target)},
                    {"churn_days", mo.churn_days},
                    {"rounds", mo.rounds},
                    {"early_stopping_rounds", mo.early_stopping_rounds},
                    {"learning_rate", mo.learning_rate},
                    {"max_depth", mo.max_depth},
                    {"min_child_weight", mo.min_child_weight},
                    {"subsample", mo.subsample},
                    {"colsample_bytree", mo.colsample_bytree},
                    {"reg_lambda", mo.reg_lambda},
                    {"max_bin", mo.max_bin},
                    {"split", to_string(mo.split)},
                    {"test_fraction", mo.test_fraction},
                    {"early_stopping_fraction", mo.early_stopping_fraction},
                    {"seed", static_cast<int64_t>(mo.seed)},
                    {"calibration_bins", mo.calibration_bins},
                    {"prefix_max_events", mo.prefix_max_events},
                    {"prefix_models", mo.prefix_models},
                    {"max_train_rows", mo.max_train_rows},
                    {"excluded_features", string_array(mo.excluded_features)},
                    {"leakage_auc", mo.leakage_auc},
                    {"strict_leakage", mo.strict_leakage},
                    {"baseline_column", mo.baseline_column}};
  const AnomaliesOptions& an = config.anomalies;
  toml::array hidden;
  for (int width : an.journeys.autoencoder.hidden) hidden.push_back(width);
  toml::table anomalies{{"enabled", config.anomalies_enabled},
                        {"journeys", an.journeys_enabled},
                        {"alerts", an.alerts_enabled},
                        {"columns", string_array(an.journeys.columns)},
                        {"hidden", hidden},
                        {"epochs", an.journeys.autoencoder.epochs},
                        {"batch_size", an.journeys.autoencoder.batch_size},
                        {"learning_rate", static_cast<double>(an.journeys.autoencoder.learning_rate)},
                        {"max_train_rows", an.journeys.autoencoder.max_train_rows},
                        {"seed", static_cast<int64_t>(an.journeys.autoencoder.seed)},
                        {"threshold", to_string(an.journeys.threshold_rule)},
                        {"percentile", an.journeys.percentile},
                        {"robust_k", an.journeys.robust_k},
                        {"log_robust_k", an.journeys.log_robust_k},
                        {"top", an.journeys.top_n},
                        {"compare", an.journeys.compare},
                        {"trees", an.journeys.forest.trees},
                        {"bucket_seconds", an.alerts.bucket_seconds},
                        {"window", an.alerts.window},
                        {"k_sigma", an.alerts.k_sigma},
                        {"min_support", an.alerts.min_support},
                        {"funnel_steps", string_array(an.alerts.funnel_steps)},
                        {"max_touchpoints", an.alerts.max_touchpoints},
                        {"seasonality", to_string(an.alerts.seasonality)}};
  const OutcomeDefinition& od = config.outcome;
  toml::table outcome_events;
  for (const OutcomeEvent& event : od.events) outcome_events.insert(event.touchpoint, event.label);
  toml::table outcome{{"positive", od.positive},
                      {"same_instant_seconds", od.same_instant_seconds},
                      {"after", to_string(od.after)},
                      {"label_file", od.label_file},
                      {"label_file_only", od.label_file_only},
                      {"window_days", od.window_days},
                      {"events", outcome_events}};
  toml::array filter_segments;
  for (const int32_t segment : config.filter.segments) filter_segments.push_back(int64_t{segment});
  toml::table filter{{"channels", string_array(config.filter.channels)}, {"segments", filter_segments}};
  if (config.filter.has_from) filter.insert("from", format_iso8601(config.filter.from_ms));
  if (config.filter.has_to) filter.insert("to", format_iso8601(config.filter.to_ms));
  toml::table root{{"input", input},       {"journeys", journeys}, {"outcome", outcome}, {"patterns", patterns},
                   {"features", features}, {"segments", segments}, {"flows", flows},
                   {"attribution", attribution}, {"model", model}, {"anomalies", anomalies}, {"run", run},
                   {"filter", filter}};
  if (config.compare_enabled) {
    const CompareOptions& c = config.compare;
    root.insert("compare", toml::table{{"a_from", format_iso8601(c.a.from_ms)}, {"a_to", format_iso8601(c.a.to_ms)},
                                       {"b_from", format_iso8601(c.b.from_ms)}, {"b_to", format_iso8601(c.b.to_ms)},
                                       {"top_paths", c.top_paths}, {"significance_level", c.significance_level}});
  }
  if (!config.sources.empty()) {
    toml::array sources;
    for (const SourceSpec& spec : config.sources) {
      toml::table linked;
      for (const auto& [kind, column] : spec.linked_ids) linked.insert(kind, column);
      const CsvColumns& c = spec.csv.columns;
      sources.push_back(toml::table{
          {"name", spec.name},
          {"path", string_array(spec.paths)},
          {"format", format_name(spec.format)},
          {"on_error", spec.csv.on_error == OnError::Skip ? "skip" : "fail"},
          {"timestamp_format", timestamp_format_name(spec.csv.timestamp_format)},
          {"time_zone", spec.csv.time_zone},
          {"delimiter", std::string(1, spec.csv.delimiter)},
          {"channel", spec.channel},
          {"id_kind", spec.id_kind},
          {"conversion_touchpoint", spec.csv.conversion_touchpoint},
          {"dimensions", string_array(dimension_entries(spec.csv.columns.dimensions))},
          {"columns", toml::table{{"customer", c.customer}, {"timestamp", c.timestamp}, {"touchpoint", c.touchpoint},
                                  {"channel", c.channel}, {"value", c.value}, {"conversion", c.conversion}}},
          {"linked_ids", linked}});
    }
    root.insert("source", sources);
    root.insert("identity", toml::table{{"files", string_array(config.identity.files)},
                                        {"max_links_per_id", config.identity.max_links_per_id}});
  }
  root.insert("breakdowns", toml::table{{"enabled", config.breakdowns_enabled},
                                        {"dimensions", string_array(config.breakdowns.dimensions)},
                                        {"max_values", config.breakdowns.max_values},
                                        {"top_paths", config.breakdowns.top_paths}});
  root.insert("proposals", toml::table{{"enabled", config.proposals_enabled},
                                       {"minimum_detectable_effect", config.proposals.minimum_detectable_effect},
                                       {"alpha", config.proposals.alpha},
                                       {"power", config.proposals.power},
                                       {"max_proposals", config.proposals.max_proposals},
                                       {"min_journeys", config.proposals.min_journeys}});
  if (!config.experiment.dimension.empty()) {
    const ExperimentOptions& o = config.experiment;
    toml::table allocation;
    for (const auto& [name, share] : o.allocation) allocation.insert(name, share);
    root.insert("experiment", toml::table{{"dimension", o.dimension},
                                          {"control", o.control},
                                          {"allocation", allocation},
                                          {"covariate", o.covariate},
                                          {"alpha", o.alpha},
                                          {"msprt_tau", o.msprt_tau},
                                          {"segment_by", o.segment_by},
                                          {"max_segments", o.max_segments}});
  }
  if (!config.taxonomy.file.empty())
    root.insert("taxonomy", toml::table{{"file", config.taxonomy.file},
                                        {"level", config.taxonomy.level},
                                        {"max_touchpoints", config.taxonomy.max_touchpoints},
                                        {"unmapped", config.taxonomy.unmapped}});
  std::ostringstream out;
  out << root;
  return out.str();
}

}  // namespace jm
