#include "host/distributed/distributed_input.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "host/core/records.hpp"
#include "host/distributed/customer_share.hpp"
#include "host/distributed/process_group.hpp"
#include "journeymap/common.hpp"
#include "journeymap/pipeline.hpp"

namespace jm {
namespace {

// The rows of one share grouped by the process that owns their customer, each group encoded as
// one message: its customers' names, then its rows column by column (customer as an index into
// those names; touchpoints and channels already in the agreed numbering). One pass over the rows.
std::vector<std::string> encode_by_owner(const EventTable& share, const std::vector<int32_t>& owner, int processes,
                                         const std::vector<int32_t>& touchpoint_global,
                                         const std::vector<int32_t>& channel_global) {
  struct Message {
    std::vector<std::string> names;
    std::vector<uint32_t> customer;
    std::vector<int64_t> time;
    std::vector<int32_t> touchpoint, channel;
    std::vector<float> value;
    std::vector<uint8_t> conversion;
  };
  std::vector<Message> messages(static_cast<size_t>(processes));
  std::vector<int64_t> rows_to(static_cast<size_t>(processes), 0);
  for (size_t row = 0; row < share.size(); ++row) ++rows_to[owner[share.customer[row]]];
  for (int d = 0; d < processes; ++d) {
    Message& m = messages[d];
    const auto n = static_cast<size_t>(rows_to[d]);
    m.customer.reserve(n);
    m.time.reserve(n);
    m.touchpoint.reserve(n);
    m.channel.reserve(n);
    m.value.reserve(n);
    m.conversion.reserve(n);
  }
  // A customer has one owner, so its index in that owner's message is its only one.
  std::vector<int32_t> index_of(static_cast<size_t>(share.customers.size()), -1);
  for (size_t row = 0; row < share.size(); ++row) {
    const uint32_t c = share.customer[row];
    Message& m = messages[owner[c]];
    if (index_of[c] < 0) {
      index_of[c] = static_cast<int32_t>(m.names.size());
      m.names.push_back(share.customers.name(static_cast<int32_t>(c)));
    }
    m.customer.push_back(static_cast<uint32_t>(index_of[c]));
    m.time.push_back(share.timestamp_ms[row]);
    m.touchpoint.push_back(touchpoint_global[share.touchpoint[row]]);
    m.channel.push_back(channel_global[share.channel[row]]);
    m.value.push_back(share.value[row]);
    m.conversion.push_back(share.is_conversion[row]);
  }
  std::vector<std::string> encoded(static_cast<size_t>(processes));
  for (int d = 0; d < processes; ++d) {
    Message& m = messages[d];
    RecordWriter out;
    out.value<uint64_t>(m.names.size());
    for (const std::string& name : m.names) out.text(name);
    out.values(m.customer);
    out.values(m.time);
    out.values(m.touchpoint);
    out.values(m.channel);
    out.values(m.value);
    out.values(m.conversion);
    encoded[d] = out.take();
    m = Message{};  // free each group once encoded
  }
  return encoded;
}

// One dictionary agreed: every process's names in its order of first appearance, in rank order.
// Returns the global id of each of this process's ids.
std::vector<int32_t> agree_on_names(ProcessGroup& group, const Vocabulary& own, Vocabulary& global) {
  RecordWriter out;
  out.value<uint64_t>(static_cast<uint64_t>(own.size()));
  for (const std::string& name : own.names()) out.text(name);
  for (const std::string& part : group.all_gather(out.take())) {
    RecordReader in(part);
    const auto n = in.value<uint64_t>();
    for (uint64_t k = 0; k < n; ++k) global.encode(in.text());
  }
  std::vector<int32_t> ids(static_cast<size_t>(own.size()));
  for (int32_t id = 0; id < own.size(); ++id) ids[id] = global.find(own.name(id));
  return ids;
}

// The input's format: as configured, or detected; Auto when it cannot be read.
InputFormat format_of(const RunConfig& config) {
  if (config.input_format != InputFormat::Auto) return config.input_format;
  try {
    return detect_input_format(config.input_path);
  } catch (const Error&) {
    return InputFormat::Auto;
  }
}

// An SPMF share's customers are named by their sequence number in the share: renumbered for the
// whole file by adding the sequences of the shares before it.
void number_sequences_in_file(EventTable& events, int64_t sequences_before) {
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(events.customers.size()));
  for (const std::string& name : events.customers.names()) names.push_back(std::to_string(std::stoll(name) + sequences_before));
  events.customers = Vocabulary{};
  events.customers.append_distinct(std::move(names));
}

// An SPMF share keeps its own sequences (each line is a customer of its own, whole in one share):
// only the items and the channel are renumbered as one reading of the file numbers them.
EventTable renumber_items(ProcessGroup& group, EventTable share) {
  Vocabulary touchpoints, channels;
  const std::vector<int32_t> touchpoint_global = agree_on_names(group, share.touchpoints, touchpoints);
  const std::vector<int32_t> channel_global = agree_on_names(group, share.channels, channels);
  for (int32_t& t : share.touchpoint) t = touchpoint_global[t];
  for (int32_t& c : share.channel) c = channel_global[c];
  share.touchpoints = std::move(touchpoints);
  share.channels = std::move(channels);
  return share;
}

// What a process sees of the input file, compared between processes before they read in shares.
struct FileLayout {
  bool readable = false;
  InputFormat format = InputFormat::Auto;
  uint64_t file_size = 0;
  uint64_t data_begin = 0;  // CSV: just past the header line (and the blank lines and mark before it)

  std::string describe() const {
    return fmt::format("{} {} {} {}", readable, static_cast<int>(format), file_size, data_begin);
  }
};

FileLayout layout_of(const RunConfig& config) {
  FileLayout layout;
  layout.format = format_of(config);
  std::error_code error;
  layout.file_size = std::filesystem::file_size(config.input_path, error);
  if (error) return layout;
  try {
    layout.data_begin = layout.format == InputFormat::Csv ? csv_data_begin(config.input_path) : 0;
  } catch (const Error&) {
    return layout;  // the whole read reports it
  }
  layout.readable = true;
  return layout;
}

}  // namespace

bool readable_in_shares(const RunConfig& config, std::string* why_not) {
  const auto no = [&](const char* reason) {
    if (why_not != nullptr) *why_not = reason;
    return false;
  };
  if (!config.sources.empty()) return no("several sources");
  if (!config.taxonomy.file.empty()) return no("a taxonomy");
  if (!config.csv.columns.dimensions.empty() || !config.csv.columns.extra.empty()) return no("custom dimensions");
  if (!config.outcome.label_file.empty()) return no("a label file");
  if (!config.case_attributes_path.empty()) return no("case attributes");
  std::error_code error;
  if (!std::filesystem::is_regular_file(config.input_path, error)) return no("not a regular file");
  const InputFormat format = format_of(config);
  if (format == InputFormat::Auto) return no("unreadable");  // the whole read reports why
  if (format == InputFormat::Spmf && config.csv.on_error == OnError::Skip) return no("SPMF with --on-error skip");
  return true;
}

EventTable exchange_events(ProcessGroup& group, const EventTable& share) {
  EventTable own;
  const std::vector<int32_t> touchpoint_global = agree_on_names(group, share.touchpoints, own.touchpoints);
  const std::vector<int32_t> channel_global = agree_on_names(group, share.channels, own.channels);
  std::vector<int32_t> owner(static_cast<size_t>(share.customers.size()));
  for (int32_t c = 0; c < share.customers.size(); ++c) owner[c] = owner_of_customer(share.customers.name(c), group.size());
  // Received in rank order, each in its file order: each customer's events keep the file's order.
  const std::vector<std::string> incoming =
      group.all_to_all(encode_by_owner(share, owner, group.size(), touchpoint_global, channel_global));
  for (const std::string& message : incoming) {
    RecordReader in(message);
    const auto n_names = in.value<uint64_t>();
    std::vector<uint32_t> customer_id(static_cast<size_t>(n_names));
    for (uint64_t k = 0; k < n_names; ++k) customer_id[k] = static_cast<uint32_t>(own.customers.encode(in.text()));
    const auto customer = in.values<uint32_t>();
    const size_t first = own.size(), n = customer.size();
    for (const uint32_t index : customer)
      if (index >= customer_id.size()) throw Error("an exchanged event names no customer of its message");
    own.customer.resize(first + n);
    for (size_t row = 0; row < n; ++row) own.customer[first + row] = customer_id[customer[row]];
    const auto append = [&](auto& column, const auto& part) {
      if (part.size() != n) throw Error("an exchanged message has columns of different lengths");
      column.insert(column.end(), part.begin(), part.end());
    };
    append(own.timestamp_ms, in.values<int64_t>());
    append(own.touchpoint, in.values<int32_t>());
    append(own.channel, in.values<int32_t>());
    append(own.value, in.values<float>());
    append(own.is_conversion, in.values<uint8_t>());
  }
  return own;
}

IngestResult read_own_customers(const RunConfig& config, const Context& ctx, ProcessGroup& group) {
  IngestResult read;
  // Decided together, on what every process sees of the file: its format, its size and where the
  // CSV header ends. A process that cannot read in shares, or sees another file, makes every
  // process read whole (where a failure is agreed on and a different file is refused afterwards).
  const FileLayout layout = group.size() > 1 && readable_in_shares(config) ? layout_of(config) : FileLayout{};
  const std::vector<std::string> layouts = group.all_gather(layout.describe());
  const bool shares = layout.readable && std::all_of(layouts.begin(), layouts.end(),
                                                     [&](const std::string& other) { return other == layouts[0]; });
  if (!shares) {
    group.run_agreed([&] {
      read = read_configured_input(config, ctx);
      keep_own_customers(read.events, group.rank(), group.size());
    });
    return read;
  }

  // The data after the header cut into byte ranges of equal size; each share holds the lines that
  // begin in its range (the first share also the header and what precedes it).
  const uint64_t data = layout.file_size - layout.data_begin;
  const auto cut = [&](int r) {
    return r == 0 ? 0 : layout.data_begin + data / static_cast<uint64_t>(group.size()) * static_cast<uint64_t>(r);
  };
  CsvOptions csv = config.csv;
  csv.num_threads = config.threads;
  csv.share_begin = cut(group.rank());
  csv.share_end = group.rank() + 1 == group.size() ? UINT64_MAX : cut(group.rank() + 1);
  csv.parquet_share_index = group.rank();  // a Parquet file is shared by row groups instead
  csv.parquet_share_count = group.size();
  const bool spmf = layout.format == InputFormat::Spmf;
  const uint64_t file_size = layout.file_size;
  // Reading fails on one process alone: every process learns of it (the lowest failing one's
  // message, a bad row named by its line in the whole file) before the collective steps below.
  std::optional<InputError> input_error;
  std::string failure;
  int exit_code = 1;
  try {
    switch (layout.format) {
      case InputFormat::Spmf:
        read = read_events_spmf_share(config.input_path, config.threads, csv.share_begin, csv.share_end);
        break;
      case InputFormat::Parquet:
        read = read_events_parquet(config.input_path, csv);  // bad rows keep their row in the file
        break;
      default: read = read_events_csv(config.input_path, csv);
    }
  } catch (const InputError& error) {
    input_error = error;
  } catch (const ConfigError& error) {
    failure = error.what();
    exit_code = 2;
  } catch (const std::exception& error) {
    failure = error.what();
  }
  const bool failed = input_error.has_value() || !failure.empty();
  // The lines of the file before each process's share. A share that failed counts none, which
  // matters to no one: only the lines before the lowest failing share are used, and every share
  // before it was read whole.
  const std::vector<int64_t> lines_before = group.sums_before(failed ? 0 : read.line_ends);
  if (input_error) {
    const int64_t line = input_error->line();
    failure = InputError(input_error->file(), line > 0 ? lines_before[static_cast<size_t>(group.rank())] + line : 0,
                         input_error->column(), input_error->value(), input_error->reason())
                  .what();
  }
  group.agree(failure, exit_code);

  // The counts and first bad rows of the whole input, bad rows named by their line in the file.
  std::vector<int64_t> rows = {read.rows_read, read.rows_skipped};
  group.sum(rows);
  RecordWriter bad_out;
  bad_out.value<uint64_t>(read.first_bad_rows.size());
  for (const BadRow& bad : read.first_bad_rows) {
    bad_out.value(bad.line + lines_before[static_cast<size_t>(group.rank())]);
    bad_out.text(bad.column);
    bad_out.text(bad.value);
    bad_out.text(bad.reason);
  }
  std::vector<BadRow> first_bad_rows;
  for (const std::string& part : group.all_gather(bad_out.take())) {
    RecordReader in(part);
    const auto n = in.value<uint64_t>();
    for (uint64_t k = 0; k < n; ++k) {
      BadRow bad;
      bad.line = in.value<int64_t>();
      bad.column = in.text();
      bad.value = in.text();
      bad.reason = in.text();
      if (first_bad_rows.size() < IngestResult::kMaxReportedBadRows) first_bad_rows.push_back(std::move(bad));
    }
  }
  IngestResult own;
  if (spmf) {
    // Each line is a customer of its own, whole in this share: it stays here, numbered as in the file.
    number_sequences_in_file(read.events, group.sums_before(read.rows_read)[static_cast<size_t>(group.rank())]);
    own.events = renumber_items(group, std::move(read.events));
  } else {
    own.events = exchange_events(group, read.events);
  }
  own.file = config.input_path;
  own.file_bytes = file_size;
  own.rows_read = rows[0];
  own.rows_skipped = rows[1];
  own.first_bad_rows = std::move(first_bad_rows);
  std::vector<int64_t> events = {static_cast<int64_t>(own.events.size())};
  group.sum(events);
  if (events[0] == 0)  // every process knows: no collective is pending
    throw AgreedFailure(InputError(config.input_path, 0, "", "",
                                   spmf ? fmt::format("no events ({} sequences, all empty)", rows[0])
                                        : fmt::format("no valid data rows ({} rows read, {} skipped)", rows[0], rows[1]))
                            .what(),
                        1);
  return own;
}

}  // namespace jm
