// CSV event-log reader.
//
// Design (reviewer's first question: "why not getline + split?"): the file is streamed in
// line-aligned blocks (BlockReader); each block is cut into one chunk per thread at line
// boundaries, and threads parse their chunk into columnar buffers with chunk-local dictionaries of
// string views into the block (no per-field allocation). The merge walks chunks in file order:
// it numbers lines, picks the first error in file order, and turns local ids into Vocabulary ids,
// so the result is identical for any thread count or block size. Then the chunks are copied into
// the EventTable in parallel. Memory is bounded by the block size, not the file size.
//
// Quoted fields may not span lines: that keeps every '\n' a record boundary, which is what lets
// chunks be cut anywhere without a sequential pre-scan of quote state.
#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/core/thread_pool.hpp"
#include "host/core/utf8.hpp"
#include "host/ingest/field_flags.hpp"
#include "host/ingest/text_blocks.hpp"
#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"

namespace jm {
namespace {

using ingest_detail::BlockReader;
using ingest_detail::LocalDictionary;
using ingest_detail::parse_flag;
using ingest_detail::resize_for_append;
using ingest_detail::VocabularyIndex;

constexpr std::string_view kUnknownChannel = "unknown";
constexpr int kAbsent = -1;

/// What the header told us: which field index holds which role, plus the parsing settings.
struct CsvLayout {
  std::vector<std::string> header_names;  // as written, trimmed
  int customer = kAbsent, timestamp = kAbsent, touchpoint = kAbsent;
  int channel = kAbsent, value = kAbsent, conversion = kAbsent;
  std::vector<int> extra;  // field of each CsvColumns::extra column
  char delimiter = ',';
  TimestampFormat timestamp_format = TimestampFormat::Auto;
  TimeZone time_zone;
  int64_t min_timestamp_ms = 0, max_timestamp_ms = 0;
  std::string conversion_touchpoint;
  bool skip_bad_rows = false;
  // Character classes for the field scanner: which bytes end an unquoted / quoted run.
  bool ends_unquoted[256] = {};
  bool ends_quoted[256] = {};

  size_t field_count() const { return header_names.size(); }
  std::string column_name(size_t field) const { return field < header_names.size() ? header_names[field] : ""; }
};

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

void init_char_classes(CsvLayout& layout) {
  for (int c = 0; c < 256; ++c) {
    const auto byte = static_cast<unsigned char>(c);
    layout.ends_unquoted[c] = is_control(byte) || byte == static_cast<unsigned char>(layout.delimiter);
    layout.ends_quoted[c] = is_control(byte) || byte == '"';
  }
}

/// One problem with one row; `line` is relative to the chunk until the merge makes it absolute.
struct RowError {
  int64_t line = 0;
  std::string column;
  std::string value;
  std::string reason;
};

/// Splits a row into fields. Returns false (filling `error`) on an unterminated quote, text after a
/// closing quote or a control byte. `fields` gets the first `fields.size()` fields; `count` the total.
class FieldSplitter {
 public:
  explicit FieldSplitter(const CsvLayout& layout) : layout_(layout), fields_(layout.field_count()) {}

  bool split(std::string_view row, std::deque<std::string>& unescaped, RowError& error) {
    count_ = 0;
    const char* p = row.data();
    const char* const end = p + row.size();
    const char delimiter = layout_.delimiter;
    const bool trim = delimiter != ' ';
    for (;;) {
      const char* field_begin = p;
      if (trim)
        while (p < end && *p == ' ') ++p;
      std::string_view field;
      if (p < end && *p == '"') {
        const char* quote = p;
        const char* content = ++p;
        bool has_escape = false;
        for (;;) {
          while (p < end && !layout_.ends_quoted[static_cast<unsigned char>(*p)]) ++p;
          if (p == end)
            return fail(error, std::string_view(quote, static_cast<size_t>(end - quote)),
                        "unterminated quoted field (quoted fields may not span lines)");
          if (*p != '"') return fail_control(error, field_begin, end);
          if (p + 1 < end && p[1] == '"') {  // "" inside quotes is one literal quote
            has_escape = true;
            p += 2;
            continue;
          }
          break;
        }
        field = std::string_view(content, static_cast<size_t>(p - content));
        ++p;  // closing quote
        if (trim)
          while (p < end && *p == ' ') ++p;
        if (p < end && *p != delimiter)
          return fail(error, std::string_view(quote, static_cast<size_t>(std::min(end, p + 1) - quote)),
                      "unexpected text after a closing quote");
        if (has_escape) field = unescape(field, unescaped);
      } else {
        const char* content = p;
        // A '"' inside an unquoted field is taken literally (e.g. 5'10").
        while (p < end && !layout_.ends_unquoted[static_cast<unsigned char>(*p)]) ++p;
        if (p < end && *p != delimiter) return fail_control(error, field_begin, end);
        const char* content_end = p;
        if (trim)
          while (content_end > content && content_end[-1] == ' ') --content_end;
        field = std::string_view(content, static_cast<size_t>(content_end - content));
      }
      if (count_ < fields_.size()) fields_[count_] = field;
      ++count_;
      if (p == end) return true;
      ++p;  // delimiter; a delimiter at the end of the row is followed by one more (empty) field
    }
  }

  size_t count() const { return count_; }
  std::string_view field(int index) const { return fields_[static_cast<size_t>(index)]; }

 private:
  bool fail(RowError& error, std::string_view value, const char* reason) {
    error.column = layout_.column_name(count_);
    error.value = std::string(value);
    error.reason = reason;
    return false;
  }

  bool fail_control(RowError& error, const char* field_begin, const char* row_end) {
    const char* field_end = field_begin;
    while (field_end < row_end && *field_end != layout_.delimiter) ++field_end;
    return fail(error, std::string_view(field_begin, static_cast<size_t>(field_end - field_begin)),
                "contains a NUL byte or control character (binary data?)");
  }

  static std::string_view unescape(std::string_view quoted, std::deque<std::string>& storage) {
    std::string& text = storage.emplace_back();
    text.reserve(quoted.size());
    for (size_t i = 0; i < quoted.size(); ++i) {
      text.push_back(quoted[i]);
      if (quoted[i] == '"') ++i;  // the scanner only lets doubled quotes through
    }
    return text;
  }

  const CsvLayout& layout_;
  std::vector<std::string_view> fields_;
  size_t count_ = 0;
};

std::optional<float> parse_value(std::string_view text) {
  if (text.empty()) return 0.0f;
  if (text.front() == '+') text.remove_prefix(1);
  float value = 0.0f;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

const char* timestamp_format_name(TimestampFormat format) {
  switch (format) {
    case TimestampFormat::Iso8601: return "iso8601";
    case TimestampFormat::EpochSeconds: return "epoch_s";
    case TimestampFormat::EpochMillis: return "epoch_ms";
    case TimestampFormat::Auto: break;
  }
  return "auto";
}

/// One thread's share of a block, parsed into columns with chunk-local ids.
class CsvChunk {
 public:
  void parse(std::string_view text, const CsvLayout& layout) {
    extra_values.resize(layout.extra.size());
    extra_codes_.resize(layout.extra.size());
    clear();
    FieldSplitter splitter(layout);
    const size_t expected_rows = text.size() / 40 + 16;
    customer_.reserve(expected_rows);
    timestamp_ms_.reserve(expected_rows);
    touchpoint_.reserve(expected_rows);
    channel_.reserve(expected_rows);
    value_.reserve(expected_rows);
    is_conversion_.reserve(expected_rows);

    const char* p = text.data();
    const char* const end = p + text.size();
    RowError error;
    while (p < end) {
      const auto* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      const char* row_end = newline != nullptr ? newline : end;
      std::string_view row(p, static_cast<size_t>(row_end - p));
      const int64_t line = newlines;
      p = newline != nullptr ? newline + 1 : end;
      if (newline != nullptr) ++newlines;
      if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
      if (row.empty()) continue;  // blank lines are not rows
      ++rows_read;
      if (parse_row(row, layout, splitter, error)) continue;
      error.line = line;
      if (!layout.skip_bad_rows) {
        first_error = std::move(error);
        return;  // the merge throws this one; later rows do not matter
      }
      ++rows_skipped;
      if (bad_rows.size() < IngestResult::kMaxReportedBadRows) bad_rows.push_back(std::move(error));
      error = RowError{};
    }
    // The conversion touchpoint is matched once per distinct name, not once per row.
    touchpoint_is_conversion.assign(touchpoints.size(), 0);
    if (!layout.conversion_touchpoint.empty())
      for (size_t id = 0; id < touchpoints.size(); ++id)
        touchpoint_is_conversion[id] = touchpoints.name(id) == layout.conversion_touchpoint;
  }

  size_t size() const { return customer_.size(); }

  /// Copies this chunk's rows into `events` and `extra` from row `offset`, with local ids mapped to
  /// global ones.
  void write_to(EventTable& events, std::vector<ExtraColumn>& extra, size_t offset) const {
    for (size_t k = 0; k < extra.size(); ++k) {
      const std::vector<int32_t>& local = extra_codes_[k];
      const std::vector<int32_t>& global = extra_global[k];
      int32_t* out = extra[k].codes.data() + offset;
      for (size_t i = 0; i < size(); ++i) out[i] = local[i] < 0 ? -1 : global[static_cast<size_t>(local[i])];
    }
    for (size_t i = 0; i < size(); ++i) {
      const size_t row = offset + i;
      events.customer[row] = static_cast<uint32_t>(customer_global[customer_[i]]);
      events.timestamp_ms[row] = timestamp_ms_[i];
      events.touchpoint[row] = touchpoint_global[touchpoint_[i]];
      events.channel[row] = channel_global[channel_[i]];
      events.value[row] = value_[i];
      events.is_conversion[row] = is_conversion_[i] | touchpoint_is_conversion[touchpoint_[i]];
    }
  }

  // Filled by parse().
  LocalDictionary customers, touchpoints, channels;
  std::vector<LocalDictionary> extra_values;      // one per extra column
  std::vector<uint8_t> touchpoint_is_conversion;  // [touchpoints.size()]
  int64_t newlines = 0;
  int64_t rows_read = 0, rows_skipped = 0;
  std::vector<RowError> bad_rows;
  std::optional<RowError> first_error;
  // Filled by the merge.
  std::vector<int32_t> customer_global, touchpoint_global, channel_global;
  std::vector<std::vector<int32_t>> extra_global;

 private:
  void clear() {
    customers.clear();
    touchpoints.clear();
    channels.clear();
    for (LocalDictionary& values : extra_values) values.clear();
    for (std::vector<int32_t>& codes : extra_codes_) codes.clear();
    newlines = rows_read = rows_skipped = 0;
    bad_rows.clear();
    first_error.reset();
    unescaped_.clear();
    customer_.clear();
    timestamp_ms_.clear();
    touchpoint_.clear();
    channel_.clear();
    value_.clear();
    is_conversion_.clear();
  }

  // Validates every field before touching the dictionaries, so a skipped row leaves no names behind.
  bool parse_row(std::string_view row, const CsvLayout& layout, FieldSplitter& splitter, RowError& error) {
    if (!splitter.split(row, unescaped_, error)) return false;
    if (splitter.count() != layout.field_count()) {
      error.column.clear();
      error.value = std::string(row);
      error.reason = "expected " + std::to_string(layout.field_count()) + " fields, found " +
                     std::to_string(splitter.count());
      return false;
    }
    auto fail = [&](int field, std::string reason) {
      error.column = layout.header_names[static_cast<size_t>(field)];
      error.value = std::string(splitter.field(field));
      error.reason = std::move(reason);
      return false;
    };
    const std::string_view customer = splitter.field(layout.customer);
    if (customer.empty()) return fail(layout.customer, "empty customer id");
    if (!is_valid_utf8(customer)) return fail(layout.customer, "not valid UTF-8 (convert the file to UTF-8)");
    const std::string_view timestamp_text = splitter.field(layout.timestamp);
    const std::optional<int64_t> time_ms = parse_timestamp(timestamp_text, layout.timestamp_format, layout.time_zone);
    if (!time_ms)
      return fail(layout.timestamp,
                  std::string("not a valid timestamp (format ") + timestamp_format_name(layout.timestamp_format) + ")");
    // One year-0000 or year-9999 row would stretch every daily series over millennia.
    if (*time_ms < layout.min_timestamp_ms || *time_ms >= layout.max_timestamp_ms)
      return fail(layout.timestamp, "timestamp outside the accepted range " + format_iso8601(layout.min_timestamp_ms) +
                                        " .. " + format_iso8601(layout.max_timestamp_ms) +
                                        " ([input] min_timestamp / max_timestamp)");
    const std::string_view touchpoint = splitter.field(layout.touchpoint);
    if (touchpoint.empty()) return fail(layout.touchpoint, "empty touchpoint");
    if (!is_valid_utf8(touchpoint)) return fail(layout.touchpoint, "not valid UTF-8 (convert the file to UTF-8)");
    std::string_view channel = layout.channel == kAbsent ? std::string_view() : splitter.field(layout.channel);
    if (!is_valid_utf8(channel)) return fail(layout.channel, "not valid UTF-8 (convert the file to UTF-8)");
    if (channel.empty()) channel = kUnknownChannel;
    float value = 0.0f;
    if (layout.value != kAbsent) {
      const std::optional<float> parsed = parse_value(splitter.field(layout.value));
      if (!parsed) return fail(layout.value, "not a finite number");
      value = *parsed;
    }
    bool conversion = false;
    if (layout.conversion != kAbsent) {
      const std::optional<bool> parsed = parse_flag(splitter.field(layout.conversion));
      if (!parsed) return fail(layout.conversion, "not a conversion flag (expected 1/0, true/false or yes/no)");
      conversion = *parsed;
    }
    for (const int field : layout.extra)
      if (!is_valid_utf8(splitter.field(field))) return fail(field, "not valid UTF-8 (convert the file to UTF-8)");
    for (size_t k = 0; k < layout.extra.size(); ++k) {
      const std::string_view text = splitter.field(layout.extra[k]);
      extra_codes_[k].push_back(text.empty() ? -1 : extra_values[k].encode(text));
    }
    customer_.push_back(customers.encode(customer));
    timestamp_ms_.push_back(*time_ms);
    touchpoint_.push_back(touchpoints.encode(touchpoint));
    channel_.push_back(channels.encode(channel));
    value_.push_back(value);
    is_conversion_.push_back(conversion ? 1 : 0);
    return true;
  }

  std::deque<std::string> unescaped_;  // fields that had "" escapes; the dictionaries view into it
  std::vector<int32_t> customer_, touchpoint_, channel_;
  std::vector<std::vector<int32_t>> extra_codes_;  // [extra column][row] local id, -1 when empty
  std::vector<int64_t> timestamp_ms_;
  std::vector<float> value_;
  std::vector<uint8_t> is_conversion_;
};

std::string_view trim_name(std::string_view name) {
  while (!name.empty() && (name.front() == ' ' || name.front() == '"')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '"')) name.remove_suffix(1);
  return name;
}

/// Reads the header row and maps the configured column names onto field indices.
CsvLayout parse_header(std::string_view header, int64_t header_line, const std::string& file,
                       const CsvOptions& options) {
  CsvLayout layout;
  layout.delimiter = options.delimiter;
  layout.timestamp_format = options.timestamp_format;
  layout.time_zone = TimeZone::parse(options.time_zone);
  layout.min_timestamp_ms = options.min_timestamp_ms;
  layout.max_timestamp_ms = options.max_timestamp_ms;
  layout.conversion_touchpoint = options.conversion_touchpoint;
  layout.skip_bad_rows = options.on_error == OnError::Skip;
  init_char_classes(layout);

  // Split leniently (quotes are trimmed, not interpreted): header names rarely need escaping.
  size_t begin = 0;
  for (;;) {
    const size_t end = std::min(header.find(options.delimiter, begin), header.size());
    const std::string_view name = header.substr(begin, end - begin);
    for (char c : name)
      if (is_control(static_cast<unsigned char>(c)))
        throw InputError(file, header_line, "", std::string(header),
                         "header contains a NUL byte or control character (binary data?)");
    layout.header_names.emplace_back(trim_name(name));
    if (end == header.size()) break;
    begin = end + 1;
  }

  std::string available;
  for (const std::string& name : layout.header_names) available += (available.empty() ? "" : ", ") + name;
  auto find_column = [&](const std::string& configured, bool required) -> int {
    const std::string_view wanted = trim_name(configured);
    if (wanted.empty()) return kAbsent;  // an empty name means "not in this file"
    int found = kAbsent;
    for (size_t i = 0; i < layout.header_names.size(); ++i) {
      if (layout.header_names[i] != wanted) continue;
      if (found != kAbsent)
        throw InputError(file, header_line, std::string(wanted), std::string(header),
                         "the header names column '" + std::string(wanted) + "' twice (fields " +
                             std::to_string(found + 1) + " and " + std::to_string(i + 1) + ")");
      found = static_cast<int>(i);
    }
    if (found != kAbsent) return found;
    if (required)
      throw InputError(file, header_line, std::string(wanted), std::string(header),
                       "missing required column '" + std::string(wanted) + "' (header has: " + available + ")");
    return kAbsent;  // optional columns that are not in the header are simply absent
  };
  layout.customer = find_column(options.columns.customer, true);
  layout.timestamp = find_column(options.columns.timestamp, true);
  layout.touchpoint = find_column(options.columns.touchpoint, true);
  layout.channel = find_column(options.columns.channel, false);
  layout.value = find_column(options.columns.value, false);
  layout.conversion = find_column(options.columns.conversion, false);
  for (const std::string& name : options.columns.extra) layout.extra.push_back(find_column(name, true));
  return layout;
}

void validate_options(const CsvOptions& options) {
  const std::pair<const char*, const std::string*> required[] = {{"customer", &options.columns.customer},
                                                                 {"timestamp", &options.columns.timestamp},
                                                                 {"touchpoint", &options.columns.touchpoint}};
  for (const auto& [role, name] : required)
    if (trim_name(*name).empty())
      throw ConfigError(std::string("the ") + role + " column name must not be empty (it is a required column)");
  const char d = options.delimiter;
  if (d == '"' || d == '\n' || d == '\r' || d == '\0')
    throw ConfigError("the CSV delimiter may not be a quote, a line break or NUL");
  if (options.block_bytes == 0) throw ConfigError("block_bytes must be positive");
}

}  // namespace

OnError parse_on_error(const std::string& text) {
  if (text == "fail") return OnError::Fail;
  if (text == "skip") return OnError::Skip;
  throw ConfigError("unknown on_error value '" + text + "' (expected fail or skip)");
}

namespace {

// Takes the lines up to the header off `text` (whole lines; at the file's start a UTF-8 byte
// order mark goes first): the header is the first line that is not blank (a lone "\r" is blank).
// Counts the lines taken in `lines`; returns the header, or nothing when `text` ends before it.
std::optional<std::string_view> take_header_line(std::string_view& text, bool at_file_start, int64_t& lines) {
  if (at_file_start && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++lines;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) return line;
  }
  return std::nullopt;
}

}  // namespace

uint64_t csv_data_begin(const std::string& path) {
  BlockReader reader(path, size_t{1} << 20);
  std::string_view block;
  uint64_t offset = 0;
  int64_t lines = 0;
  for (bool at_file_start = true; reader.next(block); at_file_start = false) {
    const size_t size = block.size();
    const bool found = take_header_line(block, at_file_start, lines).has_value();
    offset += size - block.size();
    if (found) return offset;
  }
  return offset;
}

IngestResult read_events_csv(const std::string& path, const CsvOptions& options) {
  validate_options(options);
  const int num_threads = resolve_thread_count(options.num_threads);

  IngestResult result;
  result.file = path;
  EventTable& events = result.events;
  VocabularyIndex customer_index(events.customers), touchpoint_index(events.touchpoints),
      channel_index(events.channels);
  result.extra_columns.resize(options.columns.extra.size());  // sized once: the indexes below refer to them
  std::vector<VocabularyIndex> extra_index;
  extra_index.reserve(result.extra_columns.size());
  for (size_t k = 0; k < result.extra_columns.size(); ++k) {
    result.extra_columns[k].name = std::string(trim_name(options.columns.extra[k]));
    extra_index.emplace_back(result.extra_columns[k].values);
  }

  if (options.on_events && (!options.columns.extra.empty() || !options.columns.dimensions.empty()))
    throw ConfigError("events handed over block by block cannot carry extra columns or dimensions");
  int64_t rows_kept = 0;  // rows handed to on_events
  std::optional<CsvLayout> layout;
  // The header is the first non-blank line, after a UTF-8 byte order mark; takes it off `block`.
  // `next_line` is the number of the block's first line.
  const auto take_header = [&](std::string_view& block, int64_t& next_line, bool at_file_start) {
    if (const std::optional<std::string_view> header = take_header_line(block, at_file_start, next_line))
      layout = parse_header(*header, next_line - 1, path, options);  // the last line taken
  };
  const bool whole_file = options.share_begin == 0 && options.share_end == UINT64_MAX;
  if (options.share_begin > 0) {  // a later share: the header from the file's start
    BlockReader start(path, std::min<size_t>(options.block_bytes, size_t{1} << 20));
    std::string_view block;
    int64_t line = 1;
    for (bool first = true; !layout && start.next(block); first = false) take_header(block, line, first);
  }
  BlockReader reader(path, options.block_bytes, options.share_begin, options.share_end);
  std::vector<CsvChunk> chunks(static_cast<size_t>(num_threads));
  int64_t next_line = 1;  // line number (in the file, or in the share) of the first line still to parse
  bool at_file_start = options.share_begin == 0;
  std::error_code size_error;
  const uint64_t file_size = std::filesystem::file_size(path, size_error);
  std::string_view block;
  while (reader.next(block)) {
    if (options.progress) options.progress(reader.bytes_read(), size_error ? 0 : file_size);
    if (!layout) {
      const int64_t before = next_line;
      take_header(block, next_line, at_file_start);
      result.line_ends += next_line - before;
    }
    at_file_start = false;
    if (!layout || block.empty()) continue;

    const std::vector<std::string_view> pieces = ingest_detail::split_at_lines(block, num_threads);
    parallel_for(static_cast<int64_t>(pieces.size()), num_threads,
                 [&](int64_t k) { chunks[static_cast<size_t>(k)].parse(pieces[static_cast<size_t>(k)], *layout); });

    // Sequential, in file order: line numbers, errors, and global ids in first-appearance order.
    std::vector<size_t> offsets(pieces.size());
    size_t total = events.size();
    for (size_t k = 0; k < pieces.size(); ++k) {
      CsvChunk& chunk = chunks[k];
      if (chunk.first_error) {
        RowError& error = *chunk.first_error;
        throw InputError(path, next_line + error.line, std::move(error.column), std::move(error.value),
                         std::move(error.reason));
      }
      for (RowError& bad : chunk.bad_rows) {
        if (result.first_bad_rows.size() >= IngestResult::kMaxReportedBadRows) break;
        result.first_bad_rows.push_back(BadRow{next_line + bad.line, std::move(bad.column), std::move(bad.value),
                                               std::move(bad.reason), std::string()});
      }
      next_line += chunk.newlines;
      result.line_ends += chunk.newlines;
      result.rows_read += chunk.rows_read;
      result.rows_skipped += chunk.rows_skipped;
      auto map_ids = [](const LocalDictionary& local, VocabularyIndex& global, std::vector<int32_t>& ids) {
        global.reserve_more(local.size());
        ids.resize(local.size());
        for (size_t id = 0; id < local.size(); ++id) ids[id] = global.encode(local.name(id), local.hash(id));
      };
      map_ids(chunk.customers, customer_index, chunk.customer_global);
      map_ids(chunk.touchpoints, touchpoint_index, chunk.touchpoint_global);
      map_ids(chunk.channels, channel_index, chunk.channel_global);
      chunk.extra_global.resize(extra_index.size());
      for (size_t e = 0; e < extra_index.size(); ++e) map_ids(chunk.extra_values[e], extra_index[e], chunk.extra_global[e]);
      offsets[k] = total;
      total += chunk.size();
    }
    resize_for_append(events.customer, total);
    resize_for_append(events.timestamp_ms, total);
    resize_for_append(events.touchpoint, total);
    resize_for_append(events.channel, total);
    resize_for_append(events.value, total);
    resize_for_append(events.is_conversion, total);
    for (ExtraColumn& column : result.extra_columns) resize_for_append(column.codes, total);
    parallel_for(static_cast<int64_t>(pieces.size()), num_threads, [&](int64_t k) {
      chunks[static_cast<size_t>(k)].write_to(events, result.extra_columns, offsets[static_cast<size_t>(k)]);
    });
    if (options.on_events) {  // handed over: memory holds one block of events
      rows_kept += static_cast<int64_t>(events.size());
      options.on_events(events);
      events.truncate(0);
    }
  }
  result.file_bytes = whole_file || size_error ? reader.bytes_read() : file_size;

  if (!layout) throw InputError(path, 0, "", "", "empty file: expected a header line");
  if (events.size() == 0 && rows_kept == 0 && whole_file)
    throw InputError(path, 0, "", "", "no valid data rows (" + std::to_string(result.rows_read) + " rows read, " +
                                          std::to_string(result.rows_skipped) + " skipped)");
#ifndef NDEBUG
  events.check_consistent();
#endif
  return result;
}

}  // namespace jm
