// Spooling events by customer range (customer_shards.hpp). Each shard keeps a small buffer of
// fixed-size records and appends it to its file when full; files are opened per write, so a run
// with hundreds of shards holds no file descriptors between writes.
#include "host/ingest/customer_shards.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "host/core/temp_files.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

// Buffered bytes per shard before they are appended to its file.
constexpr size_t kShardBufferBytes = size_t{256} << 10;

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

struct CustomerShards::Shard {
  std::string path;
  std::vector<char> buffer;
  bool created = false;
  std::unique_ptr<TempFileRegistration> registration;
};

CustomerShards::CustomerShards(std::string directory, int64_t customers_per_shard)
    : directory_(std::move(directory)), customers_per_shard_(customers_per_shard) {
  static std::atomic<int64_t> instances{0};  // shard files of two objects in one process never share a name
  instance_ = instances++;
  if (customers_per_shard_ < 1) throw ConfigError("customer shards: customers_per_shard must be >= 1");
}

CustomerShards::~CustomerShards() {
  for (const auto& shard : shards_)
    if (shard && shard->created) std::remove(shard->path.c_str());
}

void CustomerShards::add(const EventTable& events) {
  if (!events.dimensions.empty()) throw Error("customer shards: events with custom dimensions cannot be spooled");
  char record[kRecordBytes];
  for (size_t i = 0; i < events.size(); ++i) {
    const auto shard = static_cast<int64_t>(events.customer[i]) / customers_per_shard_;
    if (shard >= n_shards()) {
      shard_events_.resize(static_cast<size_t>(shard) + 1, 0);
      shards_.resize(static_cast<size_t>(shard) + 1);
    }
    std::unique_ptr<Shard>& s = shards_[static_cast<size_t>(shard)];
    if (!s) {
      s = std::make_unique<Shard>();
      s->path = directory_ + "/.jm-shard." + std::to_string(static_cast<long long>(::getpid())) + "." +
                std::to_string(instance_) + "." + std::to_string(shard);
      s->buffer.reserve(kShardBufferBytes);
    }
    pack(Record{events.customer[i], events.timestamp_ms[i], events.touchpoint[i], events.channel[i], events.value[i],
                events.is_conversion[i]},
         record);
    s->buffer.insert(s->buffer.end(), record, record + kRecordBytes);
    ++shard_events_[static_cast<size_t>(shard)];
    ++n_events_;
    if (s->buffer.size() + kRecordBytes > kShardBufferBytes) write_out(shard);
  }
}

void CustomerShards::write_out(int64_t shard) {
  Shard& s = *shards_[static_cast<size_t>(shard)];
  if (s.buffer.empty()) return;
  if (!s.created) s.registration = std::make_unique<TempFileRegistration>(s.path);
  std::FILE* file = std::fopen(s.path.c_str(), s.created ? "ab" : "wb");
  if (file == nullptr) throw Error("customer shards: cannot write " + s.path + ": " + std::strerror(errno));
  s.created = true;
  const size_t written = std::fwrite(s.buffer.data(), 1, s.buffer.size(), file);
  const bool closed = std::fclose(file) == 0;
  if (written != s.buffer.size() || !closed)
    throw Error("customer shards: cannot write " + s.path + " (disk full?): " + std::strerror(errno));
  s.buffer.clear();
}

void CustomerShards::flush() {
  for (int64_t shard = 0; shard < n_shards(); ++shard)
    if (shards_[static_cast<size_t>(shard)]) write_out(shard);
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
  for (int64_t shard = first; shard < end; ++shard) total += shard_events(shard);
  out.truncate(0);
  out.reserve(static_cast<size_t>(total));
  std::vector<char> bytes;
  for (int64_t shard = first; shard < end; ++shard) {
    const Shard* s = shards_[static_cast<size_t>(shard)].get();
    if (s == nullptr || shard_events(shard) == 0) continue;
    if (!s->buffer.empty()) throw Error("customer shards: load() before flush()");
    bytes.resize(static_cast<size_t>(shard_events(shard)) * kRecordBytes);
    std::FILE* file = std::fopen(s->path.c_str(), "rb");
    if (file == nullptr) throw Error("customer shards: cannot read " + s->path + ": " + std::strerror(errno));
    const size_t read = std::fread(bytes.data(), 1, bytes.size(), file);
    std::fclose(file);
    if (read != bytes.size()) throw Error("customer shards: " + s->path + " is shorter than what was written to it");
    for (size_t at = 0; at < bytes.size(); at += kRecordBytes) {
      const Record r = unpack(bytes.data() + at);
      out.push_back(r.customer, r.timestamp_ms, r.touchpoint, r.channel, r.value, r.is_conversion != 0);
    }
  }
}

}  // namespace jm
