// Parquet event logs: the columns come from the Parquet module (Apache Arrow, opened on first use);
// this file checks each column's type against its role and builds the event table by the same rules
// as the CSV reader (same names, same first-appearance ids, same timestamp range and flag spellings),
// so one log gives identical results from either format. Text columns arrive dictionary-encoded, so
// names, timestamps written as text and flags are checked and parsed once per distinct value.
// A bad row is named by its 1-based row number in the `line` of the InputError.
#include <cmath>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "host/core/paths.hpp"
#include "host/core/utf8.hpp"
#include "host/ingest/field_flags.hpp"
#include "host/output/parquet_module.hpp"
#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"
#include "journeymap/timestamp.hpp"

namespace jm {
namespace {

using parquet_input::Column;
using parquet_input::Kind;

enum Role { kCustomer, kTimestamp, kTouchpoint, kChannel, kValue, kConversion, kRoleCount };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::Text: return "text";
    case Kind::Int: return "integer";
    case Kind::Float: return "floating point";
    case Kind::Bool: return "boolean";
    case Kind::TimestampMs: return "timestamp";
    case Kind::Absent: break;
  }
  return "absent";
}

// A column's value at `row` as text (for names and messages).
std::string text_at(const Column& column, size_t row) {
  switch (column.kind) {
    case Kind::Text: return column.codes[row] < 0 ? std::string() : column.dictionary[static_cast<size_t>(column.codes[row])];
    case Kind::Int:
    case Kind::Bool:
    case Kind::TimestampMs: return std::to_string(column.ints[row]);
    case Kind::Float: return fmt::format("{}", column.floats[row]);
    case Kind::Absent: break;
  }
  return std::string();
}

// Dense ids of a name column in first-appearance order. Rows are checked (problem) before any of
// their names is encoded, so a skipped row leaves no name behind, as in the CSV reader; a text
// column's dictionary entries are checked once each.
class NameEncoder {
 public:
  /// `empty_name`: what an empty or null value stands for ("" when it is an error).
  NameEncoder(const Column& column, Vocabulary& vocabulary, std::string empty_name = "")
      : column_(column), vocabulary_(vocabulary), empty_name_(std::move(empty_name)) {
    if (column.kind == Kind::Text) id_of_code_.assign(column.dictionary.size(), kUnchecked);
  }

  /// Makes room for dictionary entries added since (row groups handed over one at a time).
  void grow() {
    if (column_.kind == Kind::Text) id_of_code_.resize(column_.dictionary.size(), kUnchecked);
  }

  /// Why row `row`'s name is not acceptable, or "" when it is.
  std::string problem(size_t row, const char* what) {
    if (is_empty(row)) return empty_name_.empty() ? std::string("empty ") + what : std::string();
    if (column_.kind != Kind::Text) return "";
    int32_t& id = id_of_code_[static_cast<size_t>(column_.codes[row])];
    if (id == kUnchecked) id = is_valid_utf8(column_.dictionary[static_cast<size_t>(column_.codes[row])]) ? kUnencoded : kInvalid;
    return id == kInvalid ? "not valid UTF-8 (convert the file to UTF-8)" : "";
  }

  int32_t encode(size_t row) {
    if (is_empty(row)) return vocabulary_.encode(empty_name_);
    if (column_.kind != Kind::Text) return vocabulary_.encode(text_at(column_, row));
    int32_t& id = id_of_code_[static_cast<size_t>(column_.codes[row])];
    if (id < 0) id = vocabulary_.encode(column_.dictionary[static_cast<size_t>(column_.codes[row])]);
    return id;
  }

  bool is_empty(size_t row) const {
    return column_.kind == Kind::Absent || !column_.valid[row] ||
           (column_.kind == Kind::Text && column_.dictionary[static_cast<size_t>(column_.codes[row])].empty());
  }

 private:
  static constexpr int32_t kUnchecked = -1, kUnencoded = -2, kInvalid = -3;
  const Column& column_;
  Vocabulary& vocabulary_;
  std::string empty_name_;
  std::vector<int32_t> id_of_code_;
};

void require_kind(const std::string& path, const std::string& name, const Column& column,
                  std::initializer_list<Kind> accepted, const char* role) {
  for (const Kind kind : accepted)
    if (column.kind == kind) return;
  std::string expected;
  for (const Kind kind : accepted) expected += (expected.empty() ? "" : " or ") + std::string(kind_name(kind));
  throw InputError(path, 0, name, column.arrow_type,
                   fmt::format("the {} column has type {}; expected {}", role, column.arrow_type, expected));
}

// Epoch numbers by the configured format (auto: 12 or more digits are milliseconds, as for CSV text).
int64_t epoch_ms(int64_t value, TimestampFormat format) {
  if (format == TimestampFormat::EpochMillis) return value;
  if (format == TimestampFormat::EpochSeconds) return value * 1000;
  return std::llabs(value) >= 100000000000LL ? value : value * 1000;
}

// The events of the rows a read holds, by the CSV reader's rules: types checked once, names encoded
// in first-appearance order across calls, timestamps and flags written as text parsed once per
// distinct value. Called once for a whole file, or once per row group when they are handed over
// (the columns then hold one group's rows; dictionaries only grow).
class ParquetEventRows {
 public:
  ParquetEventRows(const std::string& path, const CsvOptions& options, const std::vector<std::string>& names,
                   const std::vector<Column>& columns, IngestResult& result)
      : path_(path), options_(options), names_(names), columns_(columns), zone_(TimeZone::parse(options.time_zone)),
        customers_(columns[kCustomer], result.events.customers),
        touchpoints_(columns[kTouchpoint], result.events.touchpoints),
        channels_(columns[kChannel], result.events.channels, "unknown") {
    const CsvColumns& roles = options.columns;
    require_kind(path, roles.customer, columns[kCustomer], {Kind::Text, Kind::Int}, "customer");
    require_kind(path, roles.timestamp, columns[kTimestamp], {Kind::TimestampMs, Kind::Int, Kind::Text}, "timestamp");
    require_kind(path, roles.touchpoint, columns[kTouchpoint], {Kind::Text, Kind::Int}, "touchpoint");
    if (columns[kChannel].kind != Kind::Absent) require_kind(path, roles.channel, columns[kChannel], {Kind::Text}, "channel");
    if (columns[kValue].kind != Kind::Absent)
      require_kind(path, roles.value, columns[kValue], {Kind::Float, Kind::Int}, "value");
    if (columns[kConversion].kind != Kind::Absent)
      require_kind(path, roles.conversion, columns[kConversion], {Kind::Bool, Kind::Int, Kind::Text}, "conversion");
    for (size_t k = 0; k < roles.extra.size(); ++k)
      require_kind(path, roles.extra[k], columns[kRoleCount + k], {Kind::Text, Kind::Int}, "extra");
    if (columns[kTimestamp].kind == Kind::Int && options.timestamp_format == TimestampFormat::Iso8601)
      throw InputError(path, 0, roles.timestamp, "", "the timestamp column holds numbers, not ISO-8601 text");
    result.extra_columns.resize(roles.extra.size());
    extra_.reserve(roles.extra.size());
    for (size_t k = 0; k < roles.extra.size(); ++k) {
      result.extra_columns[k].name = roles.extra[k];
      extra_.emplace_back(columns[kRoleCount + k], result.extra_columns[k].values);
    }
  }

  /// Appends the events of the rows held (file rows from `first_row` on) to result.events.
  void add(int64_t first_row, IngestResult& result) {
    const CsvOptions& options = options_;
    const std::string& path = path_;
    const std::vector<Column>& columns = columns_;
    EventTable& events = result.events;
    NameEncoder &customers = customers_, &touchpoints = touchpoints_, &channels = channels_;
    std::vector<NameEncoder>& extra = extra_;
    for (NameEncoder* encoder : {&customers, &touchpoints, &channels}) encoder->grow();
    for (NameEncoder& encoder : extra) encoder.grow();
    // Timestamps and flags written as text: parsed once per distinct value.
    if (columns[kTimestamp].kind == Kind::Text)
      for (size_t code = time_of_code_.size(); code < columns[kTimestamp].dictionary.size(); ++code)
        time_of_code_.push_back(parse_timestamp(columns[kTimestamp].dictionary[code], options.timestamp_format, zone_));
    if (columns[kConversion].kind == Kind::Text)
      for (size_t code = flag_of_code_.size(); code < columns[kConversion].dictionary.size(); ++code)
        flag_of_code_.push_back(ingest_detail::parse_flag(columns[kConversion].dictionary[code]));
    const std::vector<std::optional<int64_t>>& time_of_code = time_of_code_;
    const std::vector<std::optional<bool>>& flag_of_code = flag_of_code_;
    size_t rows = 0;
    for (const Column& column : columns) rows = std::max(rows, column.valid.size());
    events.reserve(events.size() + rows);

    std::string reason;
    for (size_t row = 0; row < rows; ++row) {
      ++result.rows_read;
      int failed_role = -1;
      auto fail = [&](int role, std::string why) {
        if (failed_role >= 0 || why.empty()) return;
        failed_role = role;
        reason = std::move(why);
      };
      fail(kCustomer, customers.problem(row, "customer id"));
      std::optional<int64_t> time_ms;
      const Column& time_column = columns[kTimestamp];
      if (!time_column.valid[row]) fail(kTimestamp, "empty timestamp");
      else if (time_column.kind == Kind::TimestampMs) time_ms = time_column.ints[row];
      else if (time_column.kind == Kind::Int) time_ms = epoch_ms(time_column.ints[row], options.timestamp_format);
      else if (!(time_ms = time_of_code[static_cast<size_t>(time_column.codes[row])])) fail(kTimestamp, "not a valid timestamp");
      if (time_ms && (*time_ms < options.min_timestamp_ms || *time_ms >= options.max_timestamp_ms))
        fail(kTimestamp, "timestamp outside the accepted range " + format_iso8601(options.min_timestamp_ms) + " .. " +
                             format_iso8601(options.max_timestamp_ms) + " ([input] min_timestamp / max_timestamp)");
      fail(kTouchpoint, touchpoints.problem(row, "touchpoint"));
      fail(kChannel, channels.problem(row, "channel"));
      float value = 0.0f;
      const Column& value_column = columns[kValue];
      if (value_column.kind != Kind::Absent && value_column.valid[row]) {
        const double number = value_column.kind == Kind::Float ? value_column.floats[row] : static_cast<double>(value_column.ints[row]);
        value = static_cast<float>(number);
        if (!std::isfinite(value)) fail(kValue, "not a finite number");
      }
      bool conversion = false;
      const Column& flag_column = columns[kConversion];
      if (flag_column.kind != Kind::Absent && flag_column.valid[row]) {
        const std::optional<bool> flag =
            flag_column.kind == Kind::Text ? flag_of_code[static_cast<size_t>(flag_column.codes[row])]
            : flag_column.ints[row] == 0 || flag_column.ints[row] == 1 ? std::optional<bool>(flag_column.ints[row] == 1)
                                                                       : std::nullopt;
        if (!flag) fail(kConversion, "not a conversion flag (expected 1/0, true/false or yes/no)");
        conversion = flag.value_or(false);
      }
      for (size_t k = 0; k < extra.size(); ++k) fail(kRoleCount + static_cast<int>(k), extra[k].is_empty(row) ? "" : extra[k].problem(row, "value"));
      if (failed_role >= 0) {
        const std::string& column_name = names_[static_cast<size_t>(failed_role)];
        const std::string value_text = text_at(columns[static_cast<size_t>(failed_role)], row);
        if (options.on_error == OnError::Fail)
          throw InputError(path, first_row + static_cast<int64_t>(row) + 1, column_name, value_text, reason + " (line = row of the Parquet file)");
        ++result.rows_skipped;
        if (result.first_bad_rows.size() < IngestResult::kMaxReportedBadRows)
          result.first_bad_rows.push_back(BadRow{first_row + static_cast<int64_t>(row) + 1, column_name, value_text, reason, std::string()});
        continue;
      }
      const int32_t customer = customers.encode(row), touchpoint = touchpoints.encode(row), channel = channels.encode(row);
      const bool is_conversion_touchpoint = !options.conversion_touchpoint.empty() &&
                                            events.touchpoints.name(touchpoint) == options.conversion_touchpoint;
      events.push_back(static_cast<uint32_t>(customer), *time_ms, touchpoint, channel, value,
                       conversion || is_conversion_touchpoint);
      for (size_t k = 0; k < extra.size(); ++k)
        result.extra_columns[k].codes.push_back(extra[k].is_empty(row) ? -1 : extra[k].encode(row));
    }
  }

 private:
  const std::string& path_;
  const CsvOptions& options_;
  const std::vector<std::string>& names_;
  const std::vector<Column>& columns_;
  TimeZone zone_;
  NameEncoder customers_, touchpoints_, channels_;
  std::vector<NameEncoder> extra_;
  std::vector<std::optional<int64_t>> time_of_code_;
  std::vector<std::optional<bool>> flag_of_code_;
};

}  // namespace

IngestResult read_events_parquet(const std::string& path, const CsvOptions& options) {
  const CsvColumns& names = options.columns;
  if (options.on_events && (!names.extra.empty() || !names.dimensions.empty()))
    throw ConfigError("events handed over block by block cannot carry extra columns or dimensions");
  parquet_input::Request request;
  request.names = {names.customer, names.timestamp, names.touchpoint, names.channel, names.value, names.conversion};
  request.required = {1, 1, 1, 0, 0, 0};
  for (const std::string& extra : names.extra) {
    request.names.push_back(extra);
    request.required.push_back(1);
  }
  request.num_threads = options.num_threads;
  request.share_index = options.parquet_share_index;
  request.share_count = options.parquet_share_count;
  if (request.share_count < 1 || request.share_index < 0 || request.share_index >= request.share_count)
    throw ConfigError("a Parquet share must be one of its count (0 <= index < count)");
  const bool whole_file = request.share_count == 1;
  IngestResult result;
  result.file = path;
  result.file_bytes = file_size_or_zero(path);
  std::optional<ParquetEventRows> rows;  // made from the first columns read
  int64_t rows_handed_over = 0;
  std::exception_ptr failure;  // an error of the hand-over, rethrown here with its type
  if (options.on_events)
    request.on_row_group = [&](const parquet_input::Result& group) {
      try {
        if (!rows) rows.emplace(path, options, request.names, group.columns, result);
        rows->add(group.first_row, result);
        rows_handed_over += static_cast<int64_t>(result.events.size());
        options.on_events(result.events);  // memory holds one row group of events
        result.events.truncate(0);
        return true;
      } catch (...) {
        failure = std::current_exception();
        return false;
      }
    };
  parquet_input::Result read;
  const bool read_ok = read_parquet_columns(path, request, read);
  if (failure) std::rethrow_exception(failure);
  if (!read_ok) throw InputError(path, 0, read.error_column, "", read.error);
  if (!rows) {
    rows.emplace(path, options, request.names, read.columns, result);
    rows->add(read.first_row, result);
  }
  if (result.events.size() == 0 && rows_handed_over == 0 && whole_file)
    throw InputError(path, 0, "", "", "no valid data rows (" + std::to_string(result.rows_read) + " rows read, " +
                                          std::to_string(result.rows_skipped) + " skipped)");
  return result;
}

}  // namespace jm
