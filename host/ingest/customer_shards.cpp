// Spooling events by customer range (customer_shards.hpp). Every shard buffers fixed-size records;
// when all buffers together pass the buffer cap, each buffer is appended to the one spool file
// as a chunk of its shard. One file (one descriptor) whatever the
// number of shards, and memory at the cap whatever the number of customers. The index of chunks
// grows with shards x flushes (16 bytes each: 10 million customers over 100 million events, about
// 6 MB).
#include "host/ingest/customer_shards.hpp"

#include <cstring>
#include <string>
#include <utility>

#include "journeymap/common.hpp"

namespace jm {
namespace {

struct Record {
  uint32_t customer;
  int64_t timestamp_ms;
  int32_t touchpoint, channel;
  float value;
  uint8_t is_conversion;
};

void pack(const Record& r, char* out) {
  std::memcpy(out, &r.customer, 4);
  std::memcpy(out + 4, &r.timestamp_ms, 8);
  std::memcpy(out + 12, &r.touchpoint, 4);
  std::memcpy(out + 16, &r.channel, 4);
  std::memcpy(out + 20, &r.value, 4);
  out[24] = static_cast<char>(r.is_conversion);
}

Record unpack(const char* in) {
  Record r{};
  std::memcpy(&r.customer, in, 4);
  std::memcpy(&r.timestamp_ms, in + 4, 8);
  std::memcpy(&r.touchpoint, in + 12, 4);
  std::memcpy(&r.channel, in + 16, 4);
  std::memcpy(&r.value, in + 20, 4);
  r.is_conversion = static_cast<uint8_t>(in[24]);
  return r;
}

}  // namespace

static_assert(CustomerShards::kRecordBytes == 25, "the record layout above is 25 bytes");

CustomerShards::CustomerShards(const std::string& directory, int64_t customers_per_shard, size_t max_buffered_bytes)
    : customers_per_shard_(customers_per_shard), max_buffered_bytes_(max_buffered_bytes) {
  if (customers_per_shard_ < 1) throw ConfigError("customer shards: customers_per_shard must be >= 1");
  if (max_buffered_bytes_ < kRecordBytes) throw ConfigError("customer shards: the buffer must hold a record");
  spool_ = std::make_unique<SpoolFile>(directory, ".jm-shards");
}

CustomerShards::~CustomerShards() = default;

void CustomerShards::add(const EventTable& events) {
  if (!events.dimensions.empty()) throw Error("customer shards: events with custom dimensions cannot be spooled");
  char record[kRecordBytes];
  for (size_t i = 0; i < events.size(); ++i) {
    const auto shard = static_cast<size_t>(static_cast<int64_t>(events.customer[i]) / customers_per_shard_);
    if (shard >= shards_.size()) shards_.resize(shard + 1);
    Shard& s = shards_[shard];
    pack(Record{events.customer[i], events.timestamp_ms[i], events.touchpoint[i], events.channel[i], events.value[i],
                events.is_conversion[i]},
         record);
    s.buffer.insert(s.buffer.end(), record, record + kRecordBytes);
    ++s.events;
    ++n_events_;
    buffered_bytes_ += kRecordBytes;
    if (buffered_bytes_ >= max_buffered_bytes_) flush();
  }
}

void CustomerShards::flush() {
  for (Shard& s : shards_) {
    if (s.buffer.empty()) continue;
    s.chunks.push_back(Chunk{spool_->append(s.buffer.data(), s.buffer.size()), static_cast<int64_t>(s.buffer.size())});
    s.buffer.clear();
    s.buffer.shrink_to_fit();  // the cap bounds what all buffers hold, not what each once held
  }
  buffered_bytes_ = 0;
}

std::vector<std::pair<int64_t, int64_t>> CustomerShards::plan(int64_t max_events) const {
  if (max_events < 1) throw ConfigError("customer shards: a batch must hold at least one event");
  std::vector<std::pair<int64_t, int64_t>> batches;
  int64_t first = 0, events = 0;
  for (int64_t shard = 0; shard < n_shards(); ++shard) {
    const int64_t here = shard_events(shard);
    if (here == 0) {
      if (events == 0) first = shard + 1;
      continue;
    }
    if (events > 0 && events + here > max_events) {
      batches.push_back({first, shard});
      first = shard, events = 0;
    }
    events += here;
  }
  if (events > 0) batches.push_back({first, n_shards()});
  return batches;
}

void CustomerShards::load(int64_t first, int64_t end, EventTable& out) const {
  if (first < 0 || first > end || end > n_shards()) throw Error("customer shards: no such shards");
  int64_t total = 0;
  for (int64_t shard = first; shard < end; ++shard) {
    if (!shards_[static_cast<size_t>(shard)].buffer.empty()) throw Error("customer shards: load() before flush()");
    total += shard_events(shard);
  }
  out.truncate(0);
  out.reserve(static_cast<size_t>(total));
  std::vector<char> bytes;
  for (int64_t shard = first; shard < end; ++shard) {
    for (const Chunk& chunk : shards_[static_cast<size_t>(shard)].chunks) {
      bytes.resize(static_cast<size_t>(chunk.bytes));
      spool_->read(chunk.offset, bytes.data(), bytes.size());
      for (size_t at = 0; at < bytes.size(); at += kRecordBytes) {
        const Record r = unpack(bytes.data() + at);
        out.push_back(r.customer, r.timestamp_ms, r.touchpoint, r.channel, r.value, r.is_conversion != 0);
      }
    }
  }
}

}  // namespace jm
