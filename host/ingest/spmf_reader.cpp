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
    items_.clear();
    sequence_ends_.clear();
    for (const int32_t number : small_items_seen_) small_item_id_[static_cast<size_t>(number)] = -1;
    small_items_seen_.clear();
    items_.reserve(text.size() / 8 + 16);  // "item -1 " is >= 5 bytes; typical files ~6-10

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

  size_t size() const { return items_.size(); }

  /// Writes the chunk's events as event-table rows from `offset` on; its sequences are customers
  /// customer_base, customer_base + 1, ...
  void write_to(EventTable& events, size_t offset, int32_t customer_base) const {
    size_t row = offset;
    int64_t begin = 0;
    for (size_t s = 0; s < sequence_ends_.size(); ++s) {
      const int64_t end = sequence_ends_[s];
      for (int64_t k = begin; k < end; ++k, ++row) {
        events.customer[row] = static_cast<uint32_t>(customer_base + static_cast<int64_t>(s));
        events.timestamp_ms[row] = (k - begin) * kMsPerEvent;
        events.touchpoint[row] = item_global[static_cast<size_t>(items_[static_cast<size_t>(k)])];
        events.channel[row] = channel_id;
        events.value[row] = 0.0f;
        events.is_conversion[row] = 0;
      }
      begin = end;
    }
  }

  /// Writes the chunk's sequences as journeys: their touchpoints from `touchpoint + event_base` on
  /// and the end of each in `journey_ends` (absolute event positions, journey_ends[s] for its s-th).
  void write_sequences(int32_t* touchpoint, int64_t event_base, int64_t* journey_ends) const {
    for (size_t k = 0; k < items_.size(); ++k)
      touchpoint[static_cast<size_t>(event_base) + k] = item_global[static_cast<size_t>(items_[k])];
    for (size_t s = 0; s < sequence_ends_.size(); ++s) journey_ends[s] = event_base + sequence_ends_[s];
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

  // Grammar: (item -1)* -2, one item per itemset. Items are appended as they are parsed and a
  // sequence is recorded only once its line is valid; a bad line stops the chunk with its error
  // (and the reader throws), so a half-parsed line is never used.
  bool parse_sequence(std::string_view row, int64_t line) {
    const size_t events_before = items_.size();
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
        items_.push_back(pending_id);
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
      items_.resize(events_before);
      return fail(line, "", row, "sequence does not end with -2");
    }
    if (items_.size() > events_before) {
      nonempty_sequence_numbers.push_back(sequences);
      sequence_ends_.push_back(static_cast<int64_t>(items_.size()));
    }
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

  static constexpr int64_t kSmallItems = 1 << 16;

  // The chunk's non-empty sequences in CSR form: items_ (chunk-local ids) of sequence s end at
  // sequence_ends_[s] and begin where sequence s - 1 ends.
  std::vector<int32_t> items_;
  std::vector<int64_t> sequence_ends_;
  std::vector<int32_t> small_item_id_ = std::vector<int32_t>(kSmallItems, -1);
  std::vector<int32_t> small_items_seen_;
};

}  // namespace

namespace {

// Like a CSV without rows: nothing downstream can work on an empty log, so the reader says so.
InputError no_events_error(const std::string& path, int64_t sequences) {
  return InputError(path, 0, "", "", "no events (" + std::to_string(sequences) + " sequences, all empty)");
}

/// Where one block's parsed chunks go, after everything the blocks before it added.
struct BlockLayout {
  std::vector<int64_t> event_offsets;   ///< [chunks] first event of each chunk, from the block's first
  std::vector<int64_t> journey_bases;   ///< [chunks] first non-empty sequence of each, from the block's first
  std::vector<int64_t> sequence_bases;  ///< [chunks] sequences (empty ones included) before each chunk
  int64_t events = 0;                   ///< events of the block
  int64_t journeys = 0;                 ///< non-empty sequences of the block

  /// Chunks the block was parsed in (a short block has fewer than there are threads).
  size_t chunks() const { return event_offsets.size(); }
};

// Reads the lines that begin in [share_begin, share_end) of the file block by block: parses each
// block's line-aligned chunks on all threads, stops at the first bad line (numbered in the file),
// gives every chunk's items their ids in `touchpoints` and hands the chunks with their layout to
// `take_block(chunks, layout)` (the first layout.chunks() chunks hold the block). Fills the counts
// of `result` (lines, sequences, bytes).
template <typename TakeBlock>
void read_spmf_blocks(const std::string& path, int num_threads, uint64_t share_begin, uint64_t share_end,
                      IngestResult& result, Vocabulary& touchpoints, int32_t channel_id, TakeBlock&& take_block) {
  VocabularyIndex item_index(touchpoints);
  constexpr size_t kBlockBytes = size_t{32} << 20;
  BlockReader reader(path, kBlockBytes, share_begin, share_end);
  std::vector<SpmfChunk> chunks(static_cast<size_t>(num_threads));
  int64_t next_line = 1;
  int64_t sequences_before = 0;
  std::string_view block;
  while (reader.next(block)) {
    const std::vector<std::string_view> pieces = ingest_detail::split_at_lines(block, num_threads);
    parallel_for(static_cast<int64_t>(pieces.size()), num_threads,
                 [&](int64_t k) { chunks[static_cast<size_t>(k)].parse(pieces[static_cast<size_t>(k)]); });

    BlockLayout layout;
    for (size_t k = 0; k < pieces.size(); ++k) {
      SpmfChunk& chunk = chunks[k];
      if (chunk.error)
        throw InputError(path, next_line + chunk.error->line, std::move(chunk.error->column),
                         std::move(chunk.error->value), std::move(chunk.error->reason));
      next_line += chunk.newlines;
      result.line_ends += chunk.newlines;
      result.rows_read += chunk.sequences;
      layout.event_offsets.push_back(layout.events);
      layout.journey_bases.push_back(layout.journeys);
      layout.sequence_bases.push_back(sequences_before);
      layout.events += static_cast<int64_t>(chunk.size());
      layout.journeys += static_cast<int64_t>(chunk.nonempty_sequence_numbers.size());
      sequences_before += chunk.sequences;
      chunk.item_global.resize(chunk.items.size());
      for (size_t id = 0; id < chunk.items.size(); ++id)
        chunk.item_global[id] = item_index.encode(chunk.items.name(id), chunk.items.hash(id));
      chunk.channel_id = channel_id;
    }
    take_block(chunks, layout);
  }
  result.file_bytes = reader.bytes_read();
}

// The lines that begin in [share_begin, share_end) of the file (all of it by default) as events.
IngestResult read_spmf_lines(const std::string& path, int num_threads,
                             const std::function<void(const EventTable&)>& on_events, uint64_t share_begin,
                             uint64_t share_end) {
  const bool whole_file = share_begin == 0 && share_end == UINT64_MAX;
  num_threads = resolve_thread_count(num_threads);
  int64_t rows_kept = 0;  // events handed to on_events
  IngestResult result;
  result.file = path;
  EventTable& events = result.events;
  const int32_t channel_id = events.channels.encode(kSpmfChannel);
  size_t customers_reserved = 0;
  read_spmf_blocks(path, num_threads, share_begin, share_end, result, events.touchpoints, channel_id,
                   [&](const std::vector<SpmfChunk>& chunks, const BlockLayout& layout) {
    // Every non-empty sequence is a new customer, so ids are known before the names are encoded.
    const auto customer_base = static_cast<size_t>(events.customers.size());
    const size_t customer_count = customer_base + static_cast<size_t>(layout.journeys);
    if (customer_count > customers_reserved) {  // geometric, so the hash table is not rehashed per block
      customers_reserved = std::max(customer_count, customers_reserved + customers_reserved / 2);
      events.customers.reserve(customers_reserved);
    }
    const size_t first_row = events.size();
    const size_t total = first_row + static_cast<size_t>(layout.events);
    resize_for_append(events.customer, total);
    resize_for_append(events.timestamp_ms, total);
    resize_for_append(events.touchpoint, total);
    resize_for_append(events.channel, total);
    resize_for_append(events.value, total);
    resize_for_append(events.is_conversion, total);
    // Task 0 fills the customer Vocabulary (one name per sequence: the costliest serial step)
    // while the other tasks copy the chunks' events; the two touch disjoint data.
    parallel_for(static_cast<int64_t>(layout.chunks()) + 1, num_threads, [&](int64_t task) {
      if (task == 0) {  // sequence numbers: distinct by construction
        std::vector<std::string> names;
        names.reserve(static_cast<size_t>(layout.journeys));
        for (size_t k = 0; k < layout.chunks(); ++k)
          for (int64_t number : chunks[k].nonempty_sequence_numbers)
            names.push_back(std::to_string(layout.sequence_bases[k] + number + 1));
        events.customers.append_distinct(std::move(names));
        return;
      }
      const auto k = static_cast<size_t>(task - 1);
      chunks[k].write_to(events, first_row + static_cast<size_t>(layout.event_offsets[k]),
                         static_cast<int32_t>(customer_base + static_cast<size_t>(layout.journey_bases[k])));
    });
    assert(static_cast<size_t>(events.customers.size()) == customer_count);
    if (on_events) {  // handed over: memory holds one block of events
      rows_kept += static_cast<int64_t>(events.size());
      on_events(events);
      events.truncate(0);
    }
  });
  if (events.size() == 0 && rows_kept == 0 && whole_file) throw no_events_error(path, result.rows_read);
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

SpmfSequences read_spmf_sequences(const std::string& path, int num_threads) {
  num_threads = resolve_thread_count(num_threads);
  SpmfSequences out;
  out.read.file = path;
  JourneySet& sequences = out.sequences;
  const int32_t channel_id = sequences.channels.encode(kSpmfChannel);
  std::vector<int32_t> touchpoint;
  std::vector<int64_t> offsets{0};  // offsets[j + 1]: where journey j ends
  read_spmf_blocks(path, num_threads, 0, UINT64_MAX, out.read, sequences.touchpoints, channel_id,
                   [&](const std::vector<SpmfChunk>& chunks, const BlockLayout& layout) {
    const auto first_event = static_cast<int64_t>(touchpoint.size());
    const size_t first_end = offsets.size();  // where the block's first journey's end goes
    resize_for_append(touchpoint, touchpoint.size() + static_cast<size_t>(layout.events));
    resize_for_append(offsets, offsets.size() + static_cast<size_t>(layout.journeys));
    parallel_for(static_cast<int64_t>(layout.chunks()), num_threads, [&](int64_t task) {
      const auto k = static_cast<size_t>(task);
      chunks[k].write_sequences(touchpoint.data(), first_event + layout.event_offsets[k],
                                offsets.data() + first_end + layout.journey_bases[k]);
    });
  });
  if (touchpoint.empty()) throw no_events_error(path, out.read.rows_read);
  sequences.converted.assign(offsets.size() - 1, 0);  // an SPMF file marks no outcome
  sequences.offsets = std::move(offsets);
  sequences.touchpoint = std::move(touchpoint);
  return out;
}

IngestResult read_events_spmf_share(const std::string& path, int num_threads, uint64_t share_begin,
                                    uint64_t share_end) {
  IngestResult share = read_spmf_lines(path, num_threads, nullptr, share_begin, share_end);
  share.file_bytes = 0;  // the share's bytes are not the file's: the caller knows the file
  return share;
}

}  // namespace jm
