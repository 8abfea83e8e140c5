// Length-prefixed records in a byte string: what the processes of a run send each other (tallies,
// journeys, names). Names and messages are untrusted text, any byte may occur in them; a reader
// that runs past the end throws instead of reading beyond the bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "journeymap/common.hpp"

namespace jm {

class RecordWriter {
 public:
  template <typename T>
  void value(T v) {
    static_assert(std::is_trivially_copyable_v<T>, "records hold plain values");
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void text(const std::string& s) {
    value<uint64_t>(s.size());
    bytes_ += s;
  }
  template <typename T>
  void values(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>, "records hold plain values");
    value<uint64_t>(v.size());
    bytes_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void texts(const std::vector<std::string>& v) {
    value<uint64_t>(v.size());
    for (const std::string& s : v) text(s);
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class RecordReader {
 public:
  explicit RecordReader(const std::string& bytes) : bytes_(bytes) {}
  template <typename T>
  T value() {
    static_assert(std::is_trivially_copyable_v<T>, "records hold plain values");
    T v;
    need(sizeof v);
    std::memcpy(&v, bytes_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string text() {
    const auto n = static_cast<size_t>(value<uint64_t>());
    need(n);
    std::string s = bytes_.substr(at_, n);
    at_ += n;
    return s;
  }
  template <typename T>
  std::vector<T> values() {
    const auto n = static_cast<size_t>(value<uint64_t>());
    if (n > (bytes_.size() - at_) / sizeof(T)) fail();
    std::vector<T> v(n);
    if (n > 0) std::memcpy(v.data(), bytes_.data() + at_, n * sizeof(T));
    at_ += n * sizeof(T);
    return v;
  }
  std::vector<std::string> texts() {
    const auto n = static_cast<size_t>(value<uint64_t>());
    if (n > (bytes_.size() - at_) / sizeof(uint64_t)) fail();  // each text takes at least its length
    std::vector<std::string> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) v.push_back(text());
    return v;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  void need(size_t n) const {
    if (bytes_.size() - at_ < n) fail();
  }
  [[noreturn]] static void fail() { throw Error("a message between processes ended early"); }
  const std::string& bytes_;
  size_t at_ = 0;
};

}  // namespace jm
