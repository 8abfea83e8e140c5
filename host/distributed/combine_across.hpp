// Combining what each process of a run holds: sums of any tally with save(RecordWriter&) and
// add_saved(RecordReader&), and per-journey values put end to end. Always in rank order, the
// order of the journeys in the result file.
#pragma once

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "host/core/records.hpp"
#include "host/distributed/process_group.hpp"

namespace jm {

/// On every process: `empty` (a tally made as `tally` was, with nothing added) plus every
/// process's `tally`, in rank order.
template <typename Tally>
void sum_saved(ProcessGroup& group, Tally& tally, Tally empty) {
  RecordWriter out;
  tally.save(out);
  for (const std::string& part : group.all_gather(out.take())) {
    RecordReader in(part);
    empty.add_saved(in);
  }
  tally = std::move(empty);
}

/// The same sum on process 0 alone, for a tally only the process that writes the result finishes
/// (one that grows with the journeys); the other processes keep their own.
template <typename Tally>
void sum_saved_on_first(ProcessGroup& group, Tally& tally, Tally empty) {
  RecordWriter out;
  tally.save(out);
  const std::vector<std::string> parts = group.gather_to_first(out.take());
  if (group.rank() != 0) return;
  for (const std::string& part : parts) {
    RecordReader in(part);
    empty.add_saved(in);
  }
  tally = std::move(empty);
}

/// Every process's `values` end to end in rank order, on process 0 (empty on the others): the
/// per-journey values only the process that writes the result needs.
template <typename T>
std::vector<T> concatenated_on_first(ProcessGroup& group, const std::vector<T>& values) {
  static_assert(std::is_trivially_copyable_v<T>, "plain values only");
  const std::vector<std::string> parts =
      group.gather_to_first(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  std::vector<T> all;
  for (const std::string& part : parts) {
    const size_t at = all.size();
    all.resize(at + part.size() / sizeof(T));
    if (!part.empty()) std::memcpy(all.data() + at, part.data(), part.size() / sizeof(T) * sizeof(T));
  }
  return all;
}

}  // namespace jm
