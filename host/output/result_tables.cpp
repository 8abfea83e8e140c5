// The tables of a result file, read back with ResultReader: one row per entity, typed columns. Most
// tables are a result group's one-dimensional datasets of the group's row count (listed below);
// `journeys` joins the per-journey arrays of every stage, `alert_series` unrolls the alert matrices
// into one row per (metric, bucket).
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/export.hpp"
#include "journeymap/result_file.hpp"

namespace jm {

namespace {

// A result group read as a table: its one-dimensional datasets with as many values as `key`.
struct GroupTableSpec {
  const char* table;
  const char* group;
  const char* key;
  const char* prefix;                // only datasets whose name starts with it ("" = all)
  std::vector<const char*> columns;  // only these datasets (empty = all of the key's length)
};

const std::vector<GroupTableSpec>& group_tables() {
  static const std::vector<GroupTableSpec> specs = {
      {"patterns", "/patterns", "support", "", {}},
      {"segments", "/segments/profile", "size", "", {}},
      {"segment_k_search", "/segments", "k_tried", "", {"k_tried", "inertia_per_k", "silhouette_per_k"}},
      {"paths", "/flows/variants", "journeys", "", {}},
      {"funnel", "/flows/funnel", "reached", "", {}},
      {"transitions", "/flows/transitions", "count", "", {}},
      {"sankey_nodes", "/flows/sankey", "node_label", "node_", {}},
      {"sankey_links", "/flows/sankey", "link_source", "link_", {}},
      {"attribution_channel", "/attribution/channel", "names", "", {}},
      {"attribution_touchpoint", "/attribution/touchpoint", "names", "", {}},
      {"alerts", "/alerts/list", "metric", "", {}},
      {"model_metrics", "/model/metrics", "name", "", {}},
      {"feature_importance", "/model/importance", "feature", "", {}},
      {"model_prefix_curve", "/model/prefix", "k", "", {}},
      {"model_calibration", "/model/calibration", "count", "", {}},
      {"model_holdout", "/model/holdout", "journey", "", {}},
      {"model_in_flight", "/model/in_flight", "journey", "", {}},
      {"anomalies_top", "/anomalies/top", "journey", "", {}},
      {"scores", "/scores", "prediction", "", {}},
  };
  return specs;
}

// uint8 columns that hold yes/no.
bool is_flag_name(const std::string& name) {
  static const std::set<std::string> flags = {"converted", "flagged", "forest_flagged", "partial", "markov_pooled"};
  return flags.count(name) > 0;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TableColumn int_column(std::string name, std::vector<int64_t> values) {
  TableColumn column;
  column.name = std::move(name);
  column.type = TableColumn::Type::Int64;
  column.ints = std::move(values);
  return column;
}

TableColumn float_column(std::string name, std::vector<double> values, TableColumn::Type type) {
  TableColumn column;
  column.name = std::move(name);
  column.type = type;
  column.floats = std::move(values);
  return column;
}

TableColumn string_column(std::string name, std::vector<std::string> values) {
  TableColumn column;
  column.name = std::move(name);
  column.type = TableColumn::Type::String;
  column.strings = std::move(values);
  return column;
}

// A dataset as a column, by its stored type; false for types no table holds (uint64, compound, ...).
bool read_column(const ResultReader& reader, const std::string& path, const std::string& name, TableColumn& column) {
  const std::string type = reader.element_type(path);
  column = TableColumn{};
  column.name = name;
  if (type == "string") {
    column.type = TableColumn::Type::String;
    column.strings = reader.read_strings(path);
  } else if (type == "float32") {
    const std::vector<float> values = reader.read_float(path);
    column.type = TableColumn::Type::Float32;
    column.floats.assign(values.begin(), values.end());
  } else if (type == "float64") {
    column.type = TableColumn::Type::Float64;
    column.floats = reader.read_double(path);
  } else if (type == "uint8" && is_flag_name(name)) {
    column.type = TableColumn::Type::Bool;
    column.bools = reader.read_uint8(path);
  } else if (type.rfind("int", 0) == 0 || (type.rfind("uint", 0) == 0 && type != "uint64")) {
    column.ints = reader.read_int64(path);
    if (ends_with(name, "_ms")) {  // milliseconds since the epoch: a timestamp, named without the unit
      column.type = TableColumn::Type::TimestampMs;
      column.name = name.substr(0, name.size() - 3);
    } else {
      column.type = TableColumn::Type::Int64;
    }
  } else {
    return false;
  }
  return true;
}

bool is_vector(const ResultReader& reader, const std::string& path, uint64_t rows) {
  const std::vector<uint64_t> shape = reader.shape(path);
  return shape.size() == 1 && shape[0] == rows;
}

bool group_table(const ResultReader& reader, const GroupTableSpec& spec, Table& table) {
  const std::string group = spec.group;
  const std::string key_path = group + "/" + spec.key;
  if (!reader.exists(key_path)) return false;
  const std::vector<uint64_t> key_shape = reader.shape(key_path);
  if (key_shape.size() != 1) return false;
  const uint64_t rows = key_shape[0];
  std::vector<std::string> names;
  if (spec.columns.empty()) {
    for (const std::string& member : reader.list(group))
      if (member.rfind(spec.prefix, 0) == 0 && member != spec.key) names.push_back(member);
  } else {
    for (const char* member : spec.columns)
      if (std::string(member) != spec.key) names.emplace_back(member);
  }
  names.insert(names.begin(), spec.key);  // the key column first
  table = Table{};
  table.name = spec.table;
  for (const std::string& name : names) {
    const std::string path = group + "/" + name;
    if (!reader.exists(path)) continue;
    bool dataset = true;
    try {
      dataset = is_vector(reader, path, rows);
    } catch (const Error&) {
      dataset = false;  // a subgroup, not a dataset
    }
    if (!dataset) continue;
    TableColumn column;
    if (read_column(reader, path, name, column)) table.columns.push_back(std::move(column));
  }
  return true;
}

// Touchpoint names of ids, "#id" for an id without a name.
std::string touchpoint_text(const std::vector<std::string>& names, int64_t id) {
  return id >= 0 && id < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(id)] : "#" + std::to_string(id);
}

// "a > b > c" of items [begin, end); past max_steps, the rest is counted instead of listed.
std::string path_text(const std::vector<std::string>& names, const std::vector<int32_t>& items, int64_t begin,
                      int64_t end) {
  constexpr int64_t kMaxSteps = 1000;
  std::string text;
  const int64_t shown = std::min(end - begin, kMaxSteps);
  for (int64_t i = 0; i < shown; ++i) {
    if (i > 0) text += " > ";
    text += touchpoint_text(names, items[static_cast<size_t>(begin + i)]);
  }
  if (end - begin > shown) text += " > ... (+" + std::to_string(end - begin - shown) + " more)";
  return text;
}

void add_pattern_text(const ResultReader& reader, Table& patterns, const std::vector<std::string>& touchpoints) {
  if (!reader.exists("/patterns/offsets") || !reader.exists("/patterns/items")) return;
  const std::vector<int64_t> offsets = reader.read_int64("/patterns/offsets");
  const std::vector<int32_t> items = reader.read_int32("/patterns/items");
  if (offsets.size() != static_cast<size_t>(patterns.rows()) + 1) return;
  std::vector<std::string> text;
  std::vector<int64_t> length;
  for (size_t p = 0; p + 1 < offsets.size(); ++p) {
    text.push_back(path_text(touchpoints, items, offsets[p], offsets[p + 1]));
    length.push_back(offsets[p + 1] - offsets[p]);
  }
  patterns.columns.insert(patterns.columns.begin(), int_column("length", std::move(length)));
  patterns.columns.insert(patterns.columns.begin(), string_column("pattern", std::move(text)));
}

void add_transition_names(const ResultReader& reader, Table& transitions) {
  if (!reader.exists("/flows/state_names")) return;
  const std::vector<std::string> states = reader.read_strings("/flows/state_names");
  for (const char* end : {"from", "to"}) {
    const auto found = std::find_if(transitions.columns.begin(), transitions.columns.end(),
                                    [&](const TableColumn& c) { return c.name == end; });
    if (found == transitions.columns.end()) continue;
    std::vector<std::string> names;
    for (const int64_t id : found->ints) names.push_back(touchpoint_text(states, id));
    transitions.columns.push_back(string_column(std::string(end) + "_name", std::move(names)));
  }
}

// One row per journey: who, when, how it ended, its path and what every stage said about it.
Table journeys_table(const ResultReader& reader, const std::vector<std::string>& touchpoints) {
  Table table;
  table.name = "journeys";
  const std::vector<int64_t> offsets = reader.read_int64("/journeys/offsets");
  const size_t n = offsets.empty() ? 0 : offsets.size() - 1;
  std::vector<int64_t> index(n), length(n);
  for (size_t j = 0; j < n; ++j) {
    index[j] = static_cast<int64_t>(j);
    length[j] = offsets[j + 1] - offsets[j];
  }
  table.columns.push_back(int_column("journey", std::move(index)));

  const std::vector<uint32_t> customer_ids = reader.read_uint32("/journeys/customer");
  const std::vector<std::string> customer_names = reader.read_strings("/vocab/customers");
  std::vector<std::string> customers(n);
  for (size_t j = 0; j < n && j < customer_ids.size(); ++j)
    customers[j] = customer_ids[j] < customer_names.size() ? customer_names[customer_ids[j]]
                                                           : "#" + std::to_string(customer_ids[j]);
  table.columns.push_back(string_column("customer", std::move(customers)));
  TableColumn column;
  for (const char* name : {"start_ms", "end_ms"})
    if (read_column(reader, std::string("/journeys/") + name, name, column)) table.columns.push_back(column);
  table.columns.push_back(int_column("events", std::move(length)));

  if (reader.exists("/journeys/outcome") && reader.exists("/vocab/outcomes")) {
    const std::vector<uint8_t> outcome = reader.read_uint8("/journeys/outcome");
    const std::vector<std::string> labels = reader.read_strings("/vocab/outcomes");
    std::vector<std::string> text(n);
    for (size_t j = 0; j < n && j < outcome.size(); ++j)
      text[j] = outcome[j] < labels.size() ? labels[outcome[j]] : "#" + std::to_string(outcome[j]);
    table.columns.push_back(string_column("outcome", std::move(text)));
    if (reader.exists("/journeys/outcome_ms") && read_column(reader, "/journeys/outcome_ms", "outcome_ms", column)) {
      column.name = "outcome_time";
      column.valid.assign(n, 1);
      for (size_t j = 0; j < n && j < outcome.size(); ++j) column.valid[j] = outcome[j] != 0;  // 0: no outcome event
      table.columns.push_back(column);
    }
  }
  for (const char* name : {"converted", "conversion_value"})
    if (reader.exists(std::string("/journeys/") + name) && read_column(reader, std::string("/journeys/") + name, name, column))
      table.columns.push_back(column);

  const std::vector<int32_t> items = reader.read_int32("/journeys/touchpoint");
  std::vector<std::string> paths(n);
  for (size_t j = 0; j < n; ++j) paths[j] = path_text(touchpoints, items, offsets[j], offsets[j + 1]);
  table.columns.push_back(string_column("path", std::move(paths)));

  if (reader.exists("/segments/label") && is_vector(reader, "/segments/label", n)) {
    const std::vector<int32_t> segment = reader.read_int32("/segments/label");
    table.columns.push_back(int_column("segment", std::vector<int64_t>(segment.begin(), segment.end())));
    if (reader.exists("/segments/profile/label")) {
      const std::vector<std::string> labels = reader.read_strings("/segments/profile/label");
      std::vector<std::string> text(n);
      for (size_t j = 0; j < n; ++j)
        if (segment[j] >= 0 && static_cast<size_t>(segment[j]) < labels.size()) text[j] = labels[segment[j]];
      table.columns.push_back(string_column("segment_label", std::move(text)));
    }
  }
  if (reader.exists("/anomalies/score") && is_vector(reader, "/anomalies/score", n) &&
      read_column(reader, "/anomalies/score", "anomaly_score", column))
    table.columns.push_back(column);
  if (reader.exists("/anomalies/flagged") && is_vector(reader, "/anomalies/flagged", n)) {
    TableColumn flagged;
    flagged.name = "anomaly_flagged";
    flagged.type = TableColumn::Type::Bool;
    flagged.bools = reader.read_uint8("/anomalies/flagged");
    table.columns.push_back(std::move(flagged));
  }
  if (reader.exists("/model/holdout/journey") && reader.exists("/model/holdout/prediction")) {
    // The model's probability for the journeys it was tested on (NaN for training journeys).
    const std::vector<int64_t> journey = reader.read_int64("/model/holdout/journey");
    const std::vector<float> prediction = reader.read_float("/model/holdout/prediction");
    std::vector<double> probability(n, std::nan(""));
    for (size_t i = 0; i < journey.size() && i < prediction.size(); ++i)
      if (journey[i] >= 0 && static_cast<size_t>(journey[i]) < n) probability[journey[i]] = prediction[i];
    table.columns.push_back(float_column("holdout_prediction", std::move(probability), TableColumn::Type::Float32));
  }
  return table;
}

// /alerts matrices [metrics x buckets] as one row per (metric, bucket).
bool alert_series_table(const ResultReader& reader, Table& table) {
  if (!reader.exists("/alerts/metrics") || !reader.exists("/alerts/bucket_start_ms") || !reader.exists("/alerts/observed"))
    return false;
  const std::vector<std::string> metrics = reader.read_strings("/alerts/metrics");
  const std::vector<int64_t> starts = reader.read_int64("/alerts/bucket_start_ms");
  const size_t m = metrics.size(), b = starts.size();
  const std::vector<uint8_t> partial =
      reader.exists("/alerts/partial") ? reader.read_uint8("/alerts/partial") : std::vector<uint8_t>(b, 0);
  table = Table{};
  table.name = "alert_series";
  std::vector<std::string> metric;
  std::vector<int64_t> start;
  TableColumn partial_column;
  partial_column.name = "partial";
  partial_column.type = TableColumn::Type::Bool;
  for (size_t i = 0; i < m; ++i)
    for (size_t k = 0; k < b; ++k) {
      metric.push_back(metrics[i]);
      start.push_back(starts[k]);
      partial_column.bools.push_back(k < partial.size() ? partial[k] : 0);
    }
  table.columns.push_back(string_column("metric", std::move(metric)));
  TableColumn start_column = int_column("bucket_start", std::move(start));
  start_column.type = TableColumn::Type::TimestampMs;
  table.columns.push_back(std::move(start_column));
  table.columns.push_back(std::move(partial_column));
  for (const char* name : {"observed", "expected", "lower", "upper", "z"}) {
    const std::string path = std::string("/alerts/") + name;
    if (!reader.exists(path)) continue;
    const std::vector<float> values = reader.read_float(path);
    if (values.size() != m * b) continue;
    table.columns.push_back(float_column(name, std::vector<double>(values.begin(), values.end()), TableColumn::Type::Float32));
  }
  return true;
}

}  // namespace

std::vector<Table> result_tables(const std::string& result_path) {
  const ResultReader reader(result_path);
  const std::vector<std::string> touchpoints =
      reader.exists("/vocab/touchpoints") ? reader.read_strings("/vocab/touchpoints") : std::vector<std::string>{};
  std::vector<Table> tables;
  if (reader.exists("/journeys/offsets")) tables.push_back(journeys_table(reader, touchpoints));
  for (const GroupTableSpec& spec : group_tables()) {
    Table table;
    if (!group_table(reader, spec, table)) continue;
    if (table.name == "patterns") add_pattern_text(reader, table, touchpoints);
    if (table.name == "transitions") add_transition_names(reader, table);
    tables.push_back(std::move(table));
  }
  Table series;
  if (alert_series_table(reader, series)) tables.push_back(std::move(series));
  for (const Table& table : tables)
    for (const TableColumn& column : table.columns)
      if (static_cast<int64_t>(column.size()) != table.rows())
        throw Error(result_path + ": table " + table.name + ": column " + column.name + " has " +
                    std::to_string(column.size()) + " values, the table " + std::to_string(table.rows()));
  return tables;
}

}  // namespace jm
