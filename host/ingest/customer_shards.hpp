// Events spooled to a temporary file by customer-id range, for runs over more events than memory
// holds: the reader hands its blocks over (CsvOptions::on_events), every event goes to the shard of
// its customer id, and batches of consecutive shards are loaded one at a time. A batch holds every
// event of its customers, in input order, and its customers are consecutive ids, so the journeys
// built from a batch are exactly a contiguous slice of the journeys of all events (journeys are
// ordered by customer id, and each customer's journeys depend on that customer's events alone).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/core/spool_file.hpp"
#include "journeymap/events.hpp"

namespace jm {

class CustomerShards {
 public:
  /// The spool file goes to `directory` under a fresh name and is unlinked at once (it lives as long
  /// as the object, and no longer than the process); shard k holds the customers
  /// [k x customers_per_shard, (k+1) x customers_per_shard).
  /// Records are buffered in memory until all shards' buffers together hold `max_buffered_bytes`.
  explicit CustomerShards(const std::string& directory, int64_t customers_per_shard = 1024,
                          size_t max_buffered_bytes = kDefaultBufferedBytes);
  ~CustomerShards();
  CustomerShards(const CustomerShards&) = delete;
  CustomerShards& operator=(const CustomerShards&) = delete;

  /// Appends every row of `events` to its customer's shard (the table's other columns, custom
  /// dimensions, are not kept: Error when it has any).
  void add(const EventTable& events);
  /// Writes what is still buffered; call before load().
  void flush();

  int64_t n_events() const { return n_events_; }
  int64_t n_shards() const { return static_cast<int64_t>(shards_.size()); }
  int64_t shard_events(int64_t shard) const { return shards_[static_cast<size_t>(shard)].events; }
  int64_t customers_per_shard() const { return customers_per_shard_; }

  /// Consecutive shards [first, end) in batches of at most `max_events` events each (a shard with
  /// more is a batch of its own); empty shards are skipped.
  std::vector<std::pair<int64_t, int64_t>> plan(int64_t max_events) const;

  /// Replaces `out`'s rows (its vocabularies are left alone) with the events of shards [first, end),
  /// each shard's in the order they were added.
  void load(int64_t first, int64_t end, EventTable& out) const;

  /// On-disk bytes of one event.
  static constexpr size_t kRecordBytes = 25;
  /// Bytes buffered over all shards before the buffers are written out, unless told otherwise.
  static constexpr size_t kDefaultBufferedBytes = size_t{64} << 20;

 private:
  struct Chunk {
    int64_t offset = 0, bytes = 0;
  };
  struct Shard {
    int64_t events = 0;
    std::vector<char> buffer;   ///< records not written yet
    std::vector<Chunk> chunks;  ///< where its written records are, in order
  };

  std::unique_ptr<SpoolFile> spool_;
  int64_t customers_per_shard_;
  size_t max_buffered_bytes_;
  int64_t n_events_ = 0;
  size_t buffered_bytes_ = 0;
  std::vector<Shard> shards_;
};

}  // namespace jm
