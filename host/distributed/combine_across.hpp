// Combining what each process of a run holds: sums of any tally with save(RecordWriter&) and
// add_saved(RecordReader&), and per-journey values put end to end. Always in rank order, the
// order of the journeys in the result file.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "host/core/records.hpp"
#include "host/distributed/process_group.hpp"

namespace jm {

/// Where this process's `count` items (rows, journeys) stand among every process's, numbered in
/// rank order: the first of them and the number of all.
struct ItemsOfProcesses {
  int64_t first = 0;
  int64_t total = 0;
};
inline ItemsOfProcesses items_of_processes(ProcessGroup& group, int64_t count) {
  const std::vector<int64_t> counts = group.each(count);
  ItemsOfProcesses items;
  for (int r = 0; r < group.size(); ++r) {
    if (r < group.rank()) items.first += counts[static_cast<size_t>(r)];
    items.total += counts[static_cast<size_t>(r)];
  }
  return items;
}

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
/// (one that grows with the journeys); the other processes keep their own. A failure while
/// process 0 adds them up (a malformed part, memory) stops every process with its message.
template <typename Tally>
void sum_saved_on_first(ProcessGroup& group, Tally& tally, Tally empty) {
  RecordWriter out;
  tally.save(out);
  std::vector<std::string> parts = group.gather_to_first(out.take());
  StepFailure failure;
  if (group.rank() == 0)
    failure = failure_of([&] {
      for (std::string& part : parts) {
        RecordReader in(part);
        empty.add_saved(in);
        part = std::string();  // what is added is not held twice
      }
      tally = std::move(empty);
    });
  group.agree(failure.message, failure.exit_code);
}

namespace combine_across_detail {
template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  static_assert(std::is_trivially_copyable_v<T>, "plain values only");
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

template <typename T>
std::vector<T> end_to_end(const std::vector<std::string>& parts) {
  std::vector<T> all;
  for (const std::string& part : parts) {
    const size_t at = all.size();
    all.resize(at + part.size() / sizeof(T));
    if (!part.empty()) std::memcpy(all.data() + at, part.data(), part.size() / sizeof(T) * sizeof(T));
  }
  return all;
}
}  // namespace combine_across_detail

/// Every process's `values` end to end in rank order, on process 0 (empty on the others): the
/// per-journey values only the process that writes the result needs.
template <typename T>
std::vector<T> concatenated_on_first(ProcessGroup& group, const std::vector<T>& values) {
  using namespace combine_across_detail;
  return end_to_end<T>(group.gather_to_first(bytes_of(values)));
}

/// The same on every process (at most 2 GiB from all processes together, as all_gather).
template <typename T>
std::vector<T> concatenated_everywhere(ProcessGroup& group, const std::vector<T>& values) {
  using namespace combine_across_detail;
  return end_to_end<T>(group.all_gather(bytes_of(values)));
}

}  // namespace jm
