// SPMF sequence-database reader. Same streaming scheme as the CSV reader (line-aligned blocks,
// one chunk per thread, in-order merge), simpler rows: every non-comment line is one sequence.
//
// Decisions worth knowing:
// - A sequence's number counts every sequence line, including empty ones (a line that is just
//   `-2`), so customer "k" is the k-th sequence of the file as other SPMF tools number it; an
//   empty sequence yields no events and therefore no customer.
// - Event k (0-based) of a line gets timestamp k seconds: order is all SPMF records.
// - A file without any event (empty, comments only, or only empty sequences) is an InputError,
//   like a CSV without valid rows.
#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/core/thread_pool.hpp"
#include "host/ingest/text_blocks.hpp"
#include "journeymap/common.hpp"
#include "journeymap/ingest.hpp"

namespace jm {
namespace {

using ingest_detail::BlockReader;
using ingest_detail::LocalDictionary;
using ingest_detail::resize_for_append;
using ingest_detail::VocabularyIndex;

constexpr std::string_view kSpmfChannel = "none";
constexpr int64_t kMsPerEvent = 1000;

struct SpmfError {
  int64_t line = 0;  // relative to the chunk until the merge
  std::string column;
  std::string value;
  std::string reason;
};

bool is_spmf_space(char c) { return c == ' ' || c == '\t'; }

/// One thread's share of a block.
class SpmfChunk {
 public:
  void parse(std::string_view text) {
    items.clear();
    newlines = sequences = 0;
    error.reset();
    nonempty_sequence_numbers.clear();
    events_.clear();
    for (const int32_t number : small_items_seen_) small_item_id_[static_cast<size_t>(number)] = -1;
    small_items_seen_.clear();
    events_.reserve(text.size() / 8 + 16);  // "item -1 " is >= 5 bytes; typical files ~6-10

    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
      const auto* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      const char* row_end = newline != nullptr ? newline : end;
      std::string_view row(p, static_cast<size_t>(row_end - p));
      const int64_t line = newlines;
      p = newline != nullptr ? newline + 1 : end;
      if (newline != nullptr) ++newlines;
      if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
      size_t first = 0;
      while (first < row.size() && is_spmf_space(row[first])) ++first;
      if (first == row.size()) continue;  // blank
      const char lead = row[first];
      if (lead == '#' || lead == '%' || lead == '@') continue;  // comment / SPMF metadata
      if (!parse_sequence(row.substr(first), line)) return;
    }
  }

  size_t size() const { return events_.size(); }

  void write_to(EventTable& events, size_t offset, int32_t customer_base) const {
    for (size_t i = 0; i < size(); ++i) {
      const size_t row = offset + i;
      events.customer[row] = static_cast<uint32_t>(customer_base + events_[i].sequence);
      events.timestamp_ms[row] = static_cast<int64_t>(events_[i].position) * kMsPerEvent;
      events.touchpoint[row] = item_global[static_cast<size_t>(events_[i].item)];
      events.channel[row] = channel_id;
      events.value[row] = 0.0f;
      events.is_conversion[row] = 0;
    }
  }

  LocalDictionary items;
  int64_t newlines = 0;
  int64_t sequences = 0;  // sequence lines, empty ones included
  std::vector<int64_t> nonempty_sequence_numbers;  // 0-based within the chunk
  std::optional<SpmfError> error;
  // Filled by the merge.
  std::vector<int32_t> item_global;
  int32_t channel_id = 0;

 private:
  bool fail(int64_t line, std::string column, std::string_view value, std::string reason) {
    error = SpmfError{line, std::move(column), std::string(value), std::move(reason)};
    return false;
  }

  // Grammar: (item -1)* -2, one item per itemset. Events are appended only once the whole line is
  // valid, so an error leaves nothing half-parsed (the reader throws anyway).
  bool parse_sequence(std::string_view row, int64_t line) {
    const size_t events_before = events_.size();
    const auto sequence_index = static_cast<int32_t>(nonempty_sequence_numbers.size());
    int32_t position = 0;
    std::string_view pending_item;  // item of the open itemset
    int32_t pending_id = -1;
    bool ended = false;
    size_t pos = 0;
    while (true) {
      while (pos < row.size() && is_spmf_space(row[pos])) ++pos;
      if (pos == row.size()) break;
      const size_t token_begin = pos;
      while (pos < row.size() && !is_spmf_space(row[pos])) ++pos;
      const std::string_view token = row.substr(token_begin, pos - token_begin);
      if (ended) return fail(line, "", token, "text after the end-of-sequence marker -2");
      int64_t number = 0;
      if (!parse_number(token, number)) return fail(line, "item", token, "not an integer");
      if (number == -1) {
        if (pending_item.empty()) return fail(line, "item", token, "empty itemset (-1 without an item)");
        events_.push_back({sequence_index, position++, pending_id});
        pending_item = std::string_view();
      } else if (number == -2) {
        if (!pending_item.empty()) return fail(line, "item", pending_item, "itemset not closed by -1 before -2");
        ended = true;
      } else if (number < 0) {
        return fail(line, "item", token, "negative item (only -1 and -2 are separators)");
      } else {
        if (!pending_item.empty())
          return fail(line, "item", token,
                      "itemset with more than one item (each event must hold exactly one item)");
        pending_item = token;
        pending_id = item_id(token, number);
      }
    }
    if (!ended) {
      events_.resize(events_before);
      return fail(line, "", row, "sequence does not end with -2");
    }
    if (events_.size() > events_before) nonempty_sequence_numbers.push_back(sequences);
    ++sequences;
    return true;
  }

  // Decimal integers as SPMF writes them; the separators -1 and -2 without a general parse.
  static bool parse_number(std::string_view token, int64_t& number) {
    if (token.size() == 2 && token[0] == '-' && (token[1] == '1' || token[1] == '2')) {
      number = token[1] == '1' ? -1 : -2;
      return true;
    }
    const auto [token_end, ec] = std::from_chars(token.data(), token.data() + token.size(), number);
    return ec == std::errc() && token_end == token.data() + token.size();
  }

  // The chunk-local id of an item. Items are mostly small numbers written without leading zeros:
  // those are looked up by value; any other spelling goes through the dictionary of names (so "07"
  // and "7", or "-0" and "0", stay two items, as the text says).
  int32_t item_id(std::string_view token, int64_t number) {
    const bool canonical = token[0] != '-' && (token.size() == 1 || token[0] != '0');  // not "-0", "07"
    if (!canonical || number >= kSmallItems) return items.encode(token);
    int32_t& id = small_item_id_[static_cast<size_t>(number)];
    if (id < 0) {
      id = items.encode(token);
      small_items_seen_.push_back(static_cast<int32_t>(number));
    }
    return id;
  }

  struct ParsedEvent {
    int32_t sequence;  // index into nonempty_sequence_numbers
    int32_t position;
    int32_t item;      // chunk-local id
  };
  static constexpr int64_t kSmallItems = 1 << 16;

  std::vector<ParsedEvent> events_;
  std::vector<int32_t> small_item_id_ = std::vector<int32_t>(kSmallItems, -1);
  std::vector<int32_t> small_items_seen_;
};

}  // namespace

namespace {

// The lines that begin in [share_begin, share_end) of the file (all of it by default).
IngestResult read_spmf_lines(const std::string& path, int num_threads,
                             const std::function<void(const EventTable&)>& on_events, uint64_t share_begin,
                             uint64_t share_end) {
  const bool whole_file = share_begin == 0 && share_end == UINT64_MAX;
  num_threads = resolve_thread_count(num_threads);
  int64_t rows_kept = 0;  // events handed to on_events
  IngestResult result;
  result.file = path;
  EventTable& events = result.events;
  VocabularyIndex item_index(events.touchpoints);
  const int32_t channel_id = events.channels.encode(kSpmfChannel);

  constexpr size_t kBlockBytes = size_t{32} << 20;
  BlockReader reader(path, kBlockBytes, share_begin, share_end);
  std::vector<SpmfChunk> chunks(static_cast<size_t>(num_threads));
  int64_t next_line = 1;
  int64_t sequences_before = 0;
  size_t customer_count = 0;
  size_t customers_reserved = 0;
  std::string_view block;
  while (reader.next(block)) {
    const std::vector<std::string_view> pieces = ingest_detail::split_at_lines(block, num_threads);
    parallel_for(static_cast<int64_t>(pieces.size()), num_threads,
                 [&](int64_t k) { chunks[static_cast<size_t>(k)].parse(pieces[static_cast<size_t>(k)]); });

    std::vector<size_t> offsets(pieces.size());
    std::vector<int32_t> customer_bases(pieces.size());
    std::vector<int64_t> sequence_bases(pieces.size());
    size_t total = events.size();
    for (size_t k = 0; k < pieces.size(); ++k) {
      SpmfChunk& chunk = chunks[k];
      if (chunk.error)
        throw InputError(path, next_line + chunk.error->line, std::move(chunk.error->column),
                         std::move(chunk.error->value), std::move(chunk.error->reason));
      next_line += chunk.newlines;
      result.line_ends += chunk.newlines;
      // Every non-empty sequence is a new customer, so ids are known before the names are encoded.
      customer_bases[k] = static_cast<int32_t>(customer_count);
      customer_count += chunk.nonempty_sequence_numbers.size();
      sequence_bases[k] = sequences_before;
      sequences_before += chunk.sequences;
      result.rows_read += chunk.sequences;
      chunk.item_global.resize(chunk.items.size());
      for (size_t id = 0; id < chunk.items.size(); ++id)
        chunk.item_global[id] = item_index.encode(chunk.items.name(id), chunk.items.hash(id));
      chunk.channel_id = channel_id;
      offsets[k] = total;
      total += chunk.size();
    }
    if (customer_count > customers_reserved) {  // geometric, so the hash table is not rehashed per block
      customers_reserved = std::max(customer_count, customers_reserved + customers_reserved / 2);
      events.customers.reserve(customers_reserved);
    }
    resize_for_append(events.customer, total);
    resize_for_append(events.timestamp_ms, total);
    resize_for_append(events.touchpoint, total);
    resize_for_append(events.channel, total);
    resize_for_append(events.value, total);
    resize_for_append(events.is_conversion, total);
    // Task 0 fills the customer Vocabulary (one name per sequence: the costliest serial step)
    // while the other tasks copy the chunks' events; the two touch disjoint data.
    parallel_for(static_cast<int64_t>(pieces.size()) + 1, num_threads, [&](int64_t task) {
      if (task == 0) {  // sequence numbers: distinct by construction
        std::vector<std::string> names;
        names.reserve(customer_count - static_cast<size_t>(events.customers.size()));
        for (size_t k = 0; k < pieces.size(); ++k)
          for (int64_t number : chunks[k].nonempty_sequence_numbers)
            names.push_back(std::to_string(sequence_bases[k] + number + 1));
        events.customers.append_distinct(std::move(names));
        return;
      }
      const auto chunk = static_cast<size_t>(task - 1);
      chunks[chunk].write_to(events, offsets[chunk], customer_bases[chunk]);
    });
    assert(static_cast<size_t>(events.customers.size()) == customer_count);
    if (on_events) {  // handed over: memory holds one block of events
      rows_kept += static_cast<int64_t>(events.size());
      on_events(events);
      events.truncate(0);
    }
  }
  result.file_bytes = reader.bytes_read();
  // Like a CSV without rows: nothing downstream can work on an empty log, so say so here.
  if (events.size() == 0 && rows_kept == 0 && whole_file)
    throw InputError(path, 0, "", "", "no events (" + std::to_string(result.rows_read) + " sequences, all empty)");
#ifndef NDEBUG
  events.check_consistent();
#endif
  return result;
}

}  // namespace

IngestResult read_events_spmf(const std::string& path, int num_threads) {
  return read_events_spmf(path, num_threads, nullptr);
}

IngestResult read_events_spmf(const std::string& path, int num_threads,
                              const std::function<void(const EventTable&)>& on_events) {
  return read_spmf_lines(path, num_threads, on_events, 0, UINT64_MAX);
}

IngestResult read_events_spmf_share(const std::string& path, int num_threads, uint64_t share_begin,
                                    uint64_t share_end) {
  IngestResult share = read_spmf_lines(path, num_threads, nullptr, share_begin, share_end);
  share.file_bytes = 0;  // the share's bytes are not the file's: the caller knows the file
  return share;
}

}  // namespace jm
