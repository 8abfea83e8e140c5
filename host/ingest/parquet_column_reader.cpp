// The reading half of the Parquet module (libjourneymap_parquet.so): reads the requested columns of
// an events file row group by row group, the next group decoded while the current one is converted
// (Arrow decodes the columns of a group on its threads), with
// text columns read as dictionaries, and converts each to a parquet_input::Column. Nested and other
// unsupported types are refused by name. Built as C++20 with the writer (Arrow's headers need it).
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/schema.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <functional>
#include <future>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host/ingest/parquet_columns.hpp"

namespace jm::parquet_input {
namespace {

struct ColumnError : std::runtime_error {
  ColumnError(std::string column_name, const std::string& reason) : std::runtime_error(reason), column(std::move(column_name)) {}
  std::string column;
};

void check(const arrow::Status& status, const std::string& what) {
  if (!status.ok()) throw std::runtime_error(what + ": " + status.ToString());
}

int64_t ms_per_unit(arrow::TimeUnit::type unit, int64_t& divide) {
  divide = 1;
  switch (unit) {
    case arrow::TimeUnit::SECOND: return 1000;
    case arrow::TimeUnit::MILLI: return 1;
    case arrow::TimeUnit::MICRO: divide = 1000; return 1;
    case arrow::TimeUnit::NANO: divide = 1000000; return 1;
  }
  return 1;
}

// Hash of std::string that also takes a string_view, so lookups need no temporary string.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// The dictionary indices of a chunk as codes of the column, via `code_of_value` (one per entry of
// the chunk's dictionary); `valid` gets 0 for nulls. Indices are read straight from their buffer.
template <typename IndexArray>
void append_indices(const arrow::DictionaryArray& array, const std::vector<int32_t>& code_of_value, Column& column) {
  const auto* index = static_cast<const IndexArray&>(*array.indices()).raw_values();
  const int64_t n = array.length();
  const size_t base = column.codes.size();
  column.codes.resize(base + static_cast<size_t>(n));
  column.valid.resize(base + static_cast<size_t>(n), 1);
  int32_t* codes = column.codes.data() + base;
  uint8_t* valid = column.valid.data() + base;
  if (array.null_count() == 0) {
    for (int64_t i = 0; i < n; ++i) codes[i] = code_of_value[static_cast<size_t>(index[i])];
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const bool present = array.IsValid(i);
    valid[i] = present ? 1 : 0;
    codes[i] = present ? code_of_value[static_cast<size_t>(index[i])] : -1;
  }
}

// Appends one chunk to a Text column, mapping its values onto the column's dictionary.
class TextAppender {
 public:
  explicit TextAppender(Column& column) : column_(column) {}

  int32_t code_of(std::string_view value) {
    const auto found = index_.find(value);
    if (found != index_.end()) return found->second;
    const auto code = static_cast<int32_t>(column_.dictionary.size());
    column_.dictionary.emplace_back(value);
    index_.emplace(column_.dictionary.back(), code);
    return code;
  }

  template <typename StringArray>
  void append_strings(const StringArray& array) {
    for (int64_t i = 0; i < array.length(); ++i) {
      const bool present = array.IsValid(i);
      column_.valid.push_back(present ? 1 : 0);
      column_.codes.push_back(present ? code_of(array.GetView(i)) : -1);
    }
  }

  void append_dictionary(const arrow::DictionaryArray& array, const std::string& name) {
    const auto& values = *array.dictionary();
    std::vector<int32_t> chunk_code(static_cast<size_t>(values.length()));
    for (int64_t v = 0; v < values.length(); ++v) {
      if (values.type_id() == arrow::Type::STRING)
        chunk_code[static_cast<size_t>(v)] = code_of(static_cast<const arrow::StringArray&>(values).GetView(v));
      else if (values.type_id() == arrow::Type::LARGE_STRING)
        chunk_code[static_cast<size_t>(v)] = code_of(static_cast<const arrow::LargeStringArray&>(values).GetView(v));
      else
        throw ColumnError(name, "column '" + name + "' is a dictionary of " + values.type()->ToString() +
                                    ", which journeymap cannot read as text");
    }
    switch (array.indices()->type_id()) {
      case arrow::Type::INT8: append_indices<arrow::Int8Array>(array, chunk_code, column_); return;
      case arrow::Type::INT16: append_indices<arrow::Int16Array>(array, chunk_code, column_); return;
      case arrow::Type::INT32: append_indices<arrow::Int32Array>(array, chunk_code, column_); return;
      case arrow::Type::INT64: append_indices<arrow::Int64Array>(array, chunk_code, column_); return;
      default:
        for (int64_t i = 0; i < array.length(); ++i) {
          const bool present = array.IsValid(i);
          column_.valid.push_back(present ? 1 : 0);
          column_.codes.push_back(present ? chunk_code[static_cast<size_t>(array.GetValueIndex(i))] : -1);
        }
    }
  }

 private:
  Column& column_;
  std::unordered_map<std::string, int32_t, TextHash, std::equal_to<>> index_;
};

Kind kind_of(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::DICTIONARY: return Kind::Text;
    case arrow::Type::INT8: case arrow::Type::INT16: case arrow::Type::INT32: case arrow::Type::INT64:
    case arrow::Type::UINT8: case arrow::Type::UINT16: case arrow::Type::UINT32: return Kind::Int;
    case arrow::Type::FLOAT: case arrow::Type::DOUBLE: return Kind::Float;
    case arrow::Type::BOOL: return Kind::Bool;
    case arrow::Type::TIMESTAMP: case arrow::Type::DATE32: case arrow::Type::DATE64: return Kind::TimestampMs;
    default: return Kind::Absent;
  }
}

template <typename ArrayType, typename Out>
void append_numbers(const arrow::Array& chunk, std::vector<Out>& out, std::vector<uint8_t>& valid, int64_t multiply = 1,
                    int64_t divide = 1) {
  const auto& array = static_cast<const ArrayType&>(chunk);
  if (array.null_count() == 0) {  // the common case: no validity checks
    const auto* values = array.raw_values();
    valid.insert(valid.end(), static_cast<size_t>(array.length()), 1);
    for (int64_t i = 0; i < array.length(); ++i) {
      if constexpr (std::is_integral_v<Out>) {
        const auto raw = static_cast<int64_t>(values[i]);
        out.push_back(raw / divide * multiply - (raw % divide < 0 ? multiply : 0));
      } else {
        out.push_back(static_cast<Out>(values[i]));
      }
    }
    return;
  }
  for (int64_t i = 0; i < array.length(); ++i) {
    const bool present = array.IsValid(i);
    valid.push_back(present ? 1 : 0);
    if (!present) {
      out.push_back(Out{});
    } else if constexpr (std::is_integral_v<Out>) {
      const auto raw = static_cast<int64_t>(array.Value(i));
      // Floor division so instants before 1970 stay on the right millisecond.
      out.push_back(raw / divide * multiply - (raw % divide < 0 ? multiply : 0));
    } else {
      out.push_back(static_cast<Out>(array.Value(i)));
    }
  }
}

void append_chunk(Column& column, TextAppender& text, const arrow::Array& chunk, const std::string& name) {
  switch (chunk.type_id()) {
    case arrow::Type::STRING: text.append_strings(static_cast<const arrow::StringArray&>(chunk)); return;
    case arrow::Type::LARGE_STRING: text.append_strings(static_cast<const arrow::LargeStringArray&>(chunk)); return;
    case arrow::Type::DICTIONARY: text.append_dictionary(static_cast<const arrow::DictionaryArray&>(chunk), name); return;
    case arrow::Type::INT8: append_numbers<arrow::Int8Array>(chunk, column.ints, column.valid); return;
    case arrow::Type::INT16: append_numbers<arrow::Int16Array>(chunk, column.ints, column.valid); return;
    case arrow::Type::INT32: append_numbers<arrow::Int32Array>(chunk, column.ints, column.valid); return;
    case arrow::Type::INT64: append_numbers<arrow::Int64Array>(chunk, column.ints, column.valid); return;
    case arrow::Type::UINT8: append_numbers<arrow::UInt8Array>(chunk, column.ints, column.valid); return;
    case arrow::Type::UINT16: append_numbers<arrow::UInt16Array>(chunk, column.ints, column.valid); return;
    case arrow::Type::UINT32: append_numbers<arrow::UInt32Array>(chunk, column.ints, column.valid); return;
    case arrow::Type::FLOAT: append_numbers<arrow::FloatArray>(chunk, column.floats, column.valid); return;
    case arrow::Type::DOUBLE: append_numbers<arrow::DoubleArray>(chunk, column.floats, column.valid); return;
    case arrow::Type::BOOL: {
      const auto& array = static_cast<const arrow::BooleanArray&>(chunk);
      for (int64_t i = 0; i < array.length(); ++i) {
        column.valid.push_back(array.IsValid(i) ? 1 : 0);
        column.ints.push_back(array.IsValid(i) && array.Value(i) ? 1 : 0);
      }
      return;
    }
    case arrow::Type::TIMESTAMP: {
      int64_t divide = 1;
      const int64_t multiply =
          ms_per_unit(static_cast<const arrow::TimestampType&>(*chunk.type()).unit(), divide);
      append_numbers<arrow::TimestampArray>(chunk, column.ints, column.valid, multiply, divide);
      return;
    }
    case arrow::Type::DATE32: append_numbers<arrow::Date32Array>(chunk, column.ints, column.valid, 86400000); return;
    case arrow::Type::DATE64: append_numbers<arrow::Date64Array>(chunk, column.ints, column.valid); return;
    default:
      throw ColumnError(name, "column '" + name + "' has type " + chunk.type()->ToString() +
                                  ", which journeymap cannot read (nested and binary columns are not supported)");
  }
}

Result read_columns(const std::string& path, const Request& request) {
  parquet::arrow::FileReaderBuilder builder;
  try {
    check(builder.OpenFile(path), "not a readable Parquet file (truncated or another format?)");
  } catch (const parquet::ParquetException& error) {
    throw std::runtime_error(std::string("not a readable Parquet file (truncated or another format?): ") + error.what());
  }
  const parquet::SchemaDescriptor& schema = *builder.raw_reader()->metadata()->schema();
  const parquet::schema::GroupNode& root = *schema.group_node();
  std::vector<int> leaves;          // leaf column index of each wanted name
  std::vector<size_t> slot_of_leaf;  // which requested slot each read column fills
  std::vector<std::pair<size_t, size_t>> copies;  // (slot, slot it repeats): one column in two roles
  std::vector<int> field_of_slot(request.names.size(), -1);  // the file's field read into each slot
  parquet::ArrowReaderProperties properties;
  properties.set_use_threads(request.num_threads != 1);
  for (size_t slot = 0; slot < request.names.size(); ++slot) {
    const std::string& name = request.names[slot];
    if (name.empty()) continue;
    const int field = root.FieldIndex(name);
    if (field < 0) {
      if (request.required[slot]) throw ColumnError(name, "missing required column '" + name + "'");
      continue;
    }
    if (!root.field(field)->is_primitive())
      throw ColumnError(name, "column '" + name + "' is a nested column (struct, list or map), which journeymap cannot read");
    field_of_slot[slot] = field;
    const int leaf = schema.ColumnIndex(*root.field(field));
    const auto same = std::find(leaves.begin(), leaves.end(), leaf);
    if (same != leaves.end()) {
      copies.emplace_back(slot, slot_of_leaf[static_cast<size_t>(same - leaves.begin())]);
      continue;
    }
    if (schema.Column(leaf)->physical_type() == parquet::Type::BYTE_ARRAY) properties.set_read_dictionary(leaf, true);
    leaves.push_back(leaf);
    slot_of_leaf.push_back(slot);
  }
  builder.properties(properties);
  std::unique_ptr<parquet::arrow::FileReader> reader;
  check(builder.Build(&reader), "cannot read the Parquet file");

  Result result;
  result.columns.resize(request.names.size());
  // Each column's kind from the file's schema, so that a share without row groups still has them.
  std::shared_ptr<arrow::Schema> arrow_schema;
  check(reader->GetSchema(&arrow_schema), "cannot read the Parquet file's schema");
  for (size_t slot = 0; slot < request.names.size(); ++slot) {
    if (field_of_slot[slot] < 0) continue;
    const std::shared_ptr<arrow::DataType>& type = arrow_schema->field(field_of_slot[slot])->type();
    result.columns[slot].arrow_type = type->ToString();
    result.columns[slot].kind = kind_of(*type);
  }
  std::vector<std::unique_ptr<TextAppender>> text;
  for (Column& column : result.columns) text.push_back(std::make_unique<TextAppender>(column));
  result.row_groups = reader->num_row_groups();
  // The row groups of this share (all of them for one reader), and the file rows before them.
  const int64_t groups = reader->num_row_groups(), count = std::max(1, request.share_count);
  const int first_group = static_cast<int>(groups * request.share_index / count);
  const int end_group = static_cast<int>(groups * (request.share_index + 1) / count);
  const auto metadata = reader->parquet_reader()->metadata();
  int64_t share_rows = 0;
  for (int group = 0; group < end_group; ++group) {
    const int64_t rows = metadata->RowGroup(group)->num_rows();
    if (group < first_group) result.first_row += rows;
    else share_rows += rows;
  }
  // Every column grows to the share's row count: reserved once instead of doubling row group by row group.
  const bool handed_over = static_cast<bool>(request.on_row_group);
  const auto total_rows = handed_over ? size_t{0} : static_cast<size_t>(std::max<int64_t>(0, share_rows));
  for (size_t k = 0; k < leaves.size(); ++k) {
    Column& column = result.columns[slot_of_leaf[k]];
    column.valid.reserve(total_rows);
    switch (schema.Column(leaves[k])->physical_type()) {
      case parquet::Type::BYTE_ARRAY: column.codes.reserve(total_rows); break;
      case parquet::Type::FLOAT: case parquet::Type::DOUBLE: column.floats.reserve(total_rows); break;
      default: column.ints.reserve(total_rows);
    }
  }
  // Row group g+1 is decoded (by Arrow, its columns in parallel) while group g is converted here;
  // at most two groups are held decoded at a time. With one thread asked for, groups are read in turn.
  const std::launch policy = request.num_threads == 1 ? std::launch::deferred : std::launch::async;
  auto read_group = [&reader, &leaves](int group) { return reader->ReadRowGroup(group, leaves); };
  std::future<arrow::Result<std::shared_ptr<arrow::Table>>> next;
  if (first_group < end_group) next = std::async(policy, read_group, first_group);
  for (int group = first_group; group < end_group; ++group) {
    arrow::Result<std::shared_ptr<arrow::Table>> table = next.get();
    if (group + 1 < end_group && table.ok()) next = std::async(policy, read_group, group + 1);
    check(table.status(), "cannot read row group " + std::to_string(group) + " (truncated file?)");
    for (size_t k = 0; k < leaves.size(); ++k) {
      const std::shared_ptr<arrow::ChunkedArray>& data = (*table)->column(static_cast<int>(k));
      Column& column = result.columns[slot_of_leaf[k]];
      const std::string& name = request.names[slot_of_leaf[k]];
      column.arrow_type = data->type()->ToString();
      column.kind = kind_of(*data->type());
      for (const std::shared_ptr<arrow::Array>& chunk : data->chunks()) append_chunk(column, *text[slot_of_leaf[k]], *chunk, name);
    }
    result.rows += (*table)->num_rows();
    if (!handed_over) continue;
    for (const auto& [slot, original] : copies) result.columns[slot] = result.columns[original];
    if (!request.on_row_group(result)) return result;
    for (Column& column : result.columns) {
      column.codes.clear();
      column.ints.clear();
      column.floats.clear();
      column.valid.clear();
    }
    result.first_row += result.rows;
    result.rows = 0;
  }
  if (!handed_over)
    for (const auto& [slot, original] : copies) result.columns[slot] = result.columns[original];
  return result;
}

}  // namespace
}  // namespace jm::parquet_input

/// Reads the requested columns of the Parquet file at `path` into `result`; returns false with
/// result->error (and result->error_column) set when the file or a column cannot be read.
extern "C" __attribute__((visibility("default"))) bool jm_parquet_read_columns(const char* path,
                                                                              const jm::parquet_input::Request* request,
                                                                              jm::parquet_input::Result* result) {
  try {
    *result = jm::parquet_input::read_columns(path, *request);
    return true;
  } catch (const jm::parquet_input::ColumnError& error) {
    result->error = error.what();
    result->error_column = error.column;
  } catch (const std::exception& error) {
    result->error = error.what();
  }
  return false;
}
