// Building blocks shared by the CSV and SPMF readers: a streaming reader that hands out
// line-aligned blocks of text, an even line-aligned split of a block into per-thread chunks,
// chunk-local string dictionaries keyed by views into the block, and a global index that turns
// chunk-local ids into Vocabulary ids.
//
// Why chunk-local dictionaries: threads parse their chunk without sharing anything; the merge then
// visits each chunk's distinct names in first-appearance order, chunk after chunk, so the global
// ids come out in first-appearance order of the file whatever the thread count.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "journeymap/common.hpp"
#include "journeymap/vocabulary.hpp"

namespace jm::ingest_detail {

/// Non-cryptographic hash of a short name, 8 bytes at a time (names are usually 3-30 bytes). The
/// tail is read with fixed-size, possibly overlapping loads: a variable-size memcpy is a libc call.
inline uint64_t hash_name(std::string_view name) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  const char* p = name.data();
  const size_t size = name.size();
  uint64_t h = 0x243F6A8885A308D3ull ^ (size * kMul);
  auto mix = [&](uint64_t word) {
    h = (h ^ word) * kMul;
    h ^= h >> 29;
  };
  if (size >= 8) {
    uint64_t word;
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      std::memcpy(&word, p + i, 8);
      mix(word);
    }
    if (i < size) {
      std::memcpy(&word, p + size - 8, 8);
      mix(word);
    }
  } else if (size >= 4) {
    uint32_t low, high;
    std::memcpy(&low, p, 4);
    std::memcpy(&high, p + size - 4, 4);
    mix(low | static_cast<uint64_t>(high) << 32);
  } else if (size > 0) {
    mix(static_cast<uint8_t>(p[0]) | static_cast<uint64_t>(static_cast<uint8_t>(p[size / 2])) << 8 |
        static_cast<uint64_t>(static_cast<uint8_t>(p[size - 1])) << 16);
  }
  h *= kMul;
  return h ^ (h >> 32);
}

/// Equality of two names of the same `size`, inlined: names are short and a libc memcmp call per
/// row is a visible cost. Loads stay inside both names (overlapping words for the tail).
inline bool same_bytes(const char* a, const char* b, size_t size) {
  if (size >= 8) {
    uint64_t x, y;
    for (size_t i = 0; i + 8 <= size; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a + size - 8, 8);
    std::memcpy(&y, b + size - 8, 8);
    return x == y;
  }
  if (size >= 4) {
    uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + size - 4, 4);
    std::memcpy(&y1, b + size - 4, 4);
    return x0 == y0 && x1 == y1;
  }
  for (size_t i = 0; i < size; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

inline bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

/// Open-addressing map name -> dense local id. Keys are views: the text they point into must
/// outlive the dictionary's use (the block being parsed).
class LocalDictionary {
 public:
  /// Empties the dictionary, sized for about as many names as it last held: blocks of one file
  /// tend to look alike, and growing a table of 100k+ names is mostly cache misses.
  void clear() {
    size_t slots = kInitialSlots;
    while (slots < names_.size() * 2) slots *= 2;
    names_.clear();
    hashes_.clear();
    slots_.assign(slots, Slot{});
    last_id_ = -1;
  }

  int32_t encode(std::string_view name) {
    // Consecutive rows often repeat a name (events grouped by customer): one compare, no hash.
    if (last_id_ >= 0 && same_name(names_[static_cast<size_t>(last_id_)], name)) return last_id_;
    const uint64_t hash = hash_name(name);
    if (slots_.empty()) slots_.assign(kInitialSlots, Slot{});
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id < 0) {
        const auto id = static_cast<int32_t>(names_.size());
        slot = Slot{hash, name.data(), static_cast<uint32_t>(name.size()), id};
        names_.push_back(name);
        hashes_.push_back(hash);
        if (names_.size() * 2 > slots_.size()) grow();
        return last_id_ = id;
      }
      // The key lives in the slot so a probe touches one cache line, not the names array too.
      if (slot.hash == hash && slot.size == name.size() && same_bytes(slot.data, name.data(), name.size()))
        return last_id_ = slot.id;
    }
  }

  size_t size() const { return names_.size(); }
  std::string_view name(size_t id) const { return names_[id]; }
  uint64_t hash(size_t id) const { return hashes_[id]; }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t size = 0;
    int32_t id = -1;
  };
  static constexpr size_t kInitialSlots = 64;

  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    const size_t mask = bigger.size() - 1;
    for (const Slot& slot : slots_) {
      if (slot.id < 0) continue;
      size_t i = slot.hash & mask;
      while (bigger[i].id >= 0) i = (i + 1) & mask;
      bigger[i] = slot;
    }
    slots_.swap(bigger);
  }

  std::vector<Slot> slots_;
  std::vector<std::string_view> names_;
  std::vector<uint64_t> hashes_;
  int32_t last_id_ = -1;
};

/// Finds names in a Vocabulary by the hash the chunk already computed, so a name seen again in a
/// later chunk costs one probe and one compare; only new names go through Vocabulary::encode.
class VocabularyIndex {
 public:
  explicit VocabularyIndex(Vocabulary& vocabulary) : vocabulary_(vocabulary), slots_(1024) {}

  /// Makes room for up to `more` new names, growing geometrically (x1.5) so that the Vocabulary's hash
  /// table is not rehashed name by name (a large share of the merge time with many customers).
  void reserve_more(size_t more) {
    const size_t needed = static_cast<size_t>(count_) + more;
    if (needed <= reserved_) return;
    reserved_ = std::max(needed, reserved_ + reserved_ / 2);
    vocabulary_.reserve(reserved_);
  }

  int32_t encode(std::string_view name, uint64_t hash) {
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id < 0) {
        const int32_t id = vocabulary_.encode(name);
        slot = Slot{hash, id};
        if (static_cast<size_t>(++count_) * 2 > slots_.size()) grow();
        return id;
      }
      if (slot.hash == hash && same_name(vocabulary_.name(slot.id), name)) return slot.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t id = -1;
  };

  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    const size_t mask = bigger.size() - 1;
    for (const Slot& slot : slots_) {
      if (slot.id < 0) continue;
      size_t i = slot.hash & mask;
      while (bigger[i].id >= 0) i = (i + 1) & mask;
      bigger[i] = slot;
    }
    slots_.swap(bigger);
  }

  Vocabulary& vocabulary_;
  std::vector<Slot> slots_;
  int64_t count_ = 0;
  size_t reserved_ = 0;
};

/// Reads a file in blocks of about `block_bytes`, each cut after its last '\n' (the remainder is
/// carried into the next block), so memory stays bounded by the block size plus the longest line.
/// With a byte range [begin, end), only the lines that begin inside it are read: a share of the
/// file, so that the shares of consecutive ranges hold every line exactly once.
class BlockReader {
 public:
  /// Throws InputError (line 0) when the file cannot be opened.
  BlockReader(const std::string& path, size_t block_bytes, uint64_t begin = 0, uint64_t end = UINT64_MAX)
      : path_(path), block_bytes_(std::max<size_t>(block_bytes, 1)), end_(end) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) throw InputError(path, 0, "", "", std::string("cannot open file: ") + std::strerror(errno));
    // Blocks are large: stdio's own buffer would only add a copy.
    std::setvbuf(file_, nullptr, _IONBF, 0);
    if (begin > 0) skip_to_line_at_or_after(begin);
    if (offset_ >= end_) eof_ = true;
  }
  ~BlockReader() {
    if (file_ != nullptr) std::fclose(file_);
  }
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;

  /// Next block of whole lines (the file's last line may lack its '\n'); false at end of file.
  /// The view stays valid until the next call.
  bool next(std::string_view& block) {
    if (carry_size_ > 0 && carry_begin_ > 0) std::memmove(buffer_.get(), buffer_.get() + carry_begin_, carry_size_);
    size_t size = carry_size_;
    carry_begin_ = carry_size_ = 0;
    while (!eof_) {
      reserve(size + block_bytes_);
      const size_t got = std::fread(buffer_.get() + size, 1, block_bytes_, file_);
      if (got < block_bytes_) {
        if (std::ferror(file_)) throw InputError(path_, 0, "", "", std::string("read error: ") + std::strerror(errno));
        eof_ = true;
      }
      bytes_read_ += got;
      // The carried text holds no '\n', so only the new bytes need searching.
      const char* fresh = buffer_.get() + size;
      const uint64_t fresh_offset = offset_ + size;  // file offset of the first fresh byte
      size += got;
      if (end_ != UINT64_MAX && fresh_offset + got >= end_) {
        // The range ends in these bytes: keep the line that begins before `end` (up to its '\n')
        // and nothing after it.
        const size_t last_begin = end_ > fresh_offset ? static_cast<size_t>(end_ - fresh_offset) - 1 : 0;
        const void* newline = last_begin < got ? std::memchr(fresh + last_begin, '\n', got - last_begin) : nullptr;
        if (newline != nullptr) {
          size = static_cast<size_t>(static_cast<const char*>(newline) + 1 - buffer_.get());
          eof_ = true;
        }
        // Else that line goes on past these bytes: keep reading until its end.
      }
      for (const char* p = buffer_.get() + size; p > fresh; --p) {
        if (p[-1] == '\n') {
          const size_t cut = static_cast<size_t>(p - buffer_.get());
          carry_begin_ = cut;
          carry_size_ = size - cut;
          offset_ += cut;
          block = std::string_view(buffer_.get(), cut);
          return true;
        }
      }
      // No line end yet: a line longer than a block; keep reading.
    }
    offset_ += size;
    block = std::string_view(buffer_.get(), size);
    return size > 0;
  }

  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Moves to the first line that begins at or after `begin`: just past the first '\n' at or after
  // begin - 1 (a line begins at the file's start or right after a '\n').
  void skip_to_line_at_or_after(uint64_t begin) {
    if (std::fseek(file_, static_cast<long>(begin - 1), SEEK_SET) != 0)
      throw InputError(path_, 0, "", "", std::string("cannot seek: ") + std::strerror(errno));
    offset_ = begin - 1;
    char buffer[4096];
    for (;;) {
      const size_t got = std::fread(buffer, 1, sizeof buffer, file_);
      if (got == 0) {
        if (std::ferror(file_)) throw InputError(path_, 0, "", "", std::string("read error: ") + std::strerror(errno));
        eof_ = true;
        return;
      }
      const void* newline = std::memchr(buffer, '\n', got);
      if (newline != nullptr) {
        const size_t used = static_cast<size_t>(static_cast<const char*>(newline) - buffer) + 1;
        offset_ += used;
        // Put back what follows the line end.
        if (std::fseek(file_, static_cast<long>(offset_), SEEK_SET) != 0)
          throw InputError(path_, 0, "", "", std::string("cannot seek: ") + std::strerror(errno));
        return;
      }
      offset_ += got;
    }
  }

  void reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    capacity = std::max(capacity, capacity_ + capacity_ / 2);
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (buffer_) std::memcpy(bigger.get(), buffer_.get(), capacity_);
    buffer_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  size_t block_bytes_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t carry_begin_ = 0;
  size_t carry_size_ = 0;
  bool eof_ = false;
  uint64_t bytes_read_ = 0;
  uint64_t end_;         // lines beginning at or after this offset are not read
  uint64_t offset_ = 0;  // file offset of the buffer's first byte
};

/// Splits `text` (whole lines) into at most `pieces` consecutive parts of similar size, each ending
/// after a '\n' (except possibly the last). Empty parts are dropped.
inline std::vector<std::string_view> split_at_lines(std::string_view text, int pieces) {
  std::vector<std::string_view> parts;
  size_t begin = 0;
  for (int k = 1; k <= pieces && begin < text.size(); ++k) {
    size_t end = text.size();
    if (k < pieces) {
      const size_t target = std::max(begin, text.size() / static_cast<size_t>(pieces) * static_cast<size_t>(k));
      const size_t newline = text.find('\n', target);
      end = newline == std::string_view::npos ? text.size() : newline + 1;
    }
    if (end > begin) parts.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return parts;
}

/// Grows `column` geometrically so appending block after block stays linear.
template <typename T>
void resize_for_append(std::vector<T>& column, size_t new_size) {
  if (new_size > column.capacity()) column.reserve(std::max(new_size, column.capacity() * 2));
  column.resize(new_size);
}

}  // namespace jm::ingest_detail
