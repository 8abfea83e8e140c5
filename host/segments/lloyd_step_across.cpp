// The Lloyd step of a run across processes (lloyd_step_across.hpp).
#include "host/segments/lloyd_step_across.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "host/core/records.hpp"
#include "host/distributed/process_group.hpp"
#include "journeymap/common.hpp"

namespace jm {

double LloydStepAcrossProcesses::assign(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                                        std::vector<int64_t>& counts) {
  return sum(own_.assign(centroids, k, sums, counts), sums, counts);
}

void LloydStepAcrossProcesses::assign_labels(const std::vector<float>& centroids, int k, std::vector<double>& sums,
                                             std::vector<int64_t>& counts) {
  own_.assign_labels(centroids, k, sums, counts);
  sum(0.0, sums, counts);
}

std::vector<int64_t> LloydStepAcrossProcesses::farthest_points(int count) {
  std::vector<int64_t> rows;
  std::vector<double> distances;
  for (const int64_t row : own_.farthest_points(count)) {
    const double distance = own_.ranked_distance(row);
    if (std::isnan(distance)) throw Error("k-means across processes: the step does not report its distances");
    rows.push_back(first_row_ + row);
    distances.push_back(distance);
  }
  RecordWriter out;
  out.values(rows);
  out.values(distances);
  std::vector<std::pair<double, int64_t>> candidates;  // (distance, row)
  for (const std::string& part : group_.all_gather(out.take())) {
    RecordReader in(part);
    const std::vector<int64_t> their_rows = in.values<int64_t>();
    const std::vector<double> their_distances = in.values<double>();
    if (their_rows.size() != their_distances.size()) throw Error("k-means: another process's farthest rows are malformed");
    for (size_t i = 0; i < their_rows.size(); ++i) candidates.emplace_back(their_distances[i], their_rows[i]);
  }
  return farthest_.choose(candidates, count);
}

double LloydStepAcrossProcesses::ranked_distance(int64_t index) { return farthest_.distance(index); }

bool LloydStepAcrossProcesses::copy_point(int64_t index, float* out) {
  std::string bytes;
  if (index >= first_row_ && index < first_row_ + own_rows_) {
    std::vector<float> row(static_cast<size_t>(dims_));
    const int64_t own_index = index - first_row_;
    if (!own_.copy_point(own_index, row.data())) {
      if (own_points_ == nullptr) throw Error("k-means across processes: the step cannot copy its rows out");
      std::copy_n(own_points_ + own_index * dims_, dims_, row.data());
    }
    bytes.assign(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float));
  }
  for (const std::string& part : group_.all_gather(bytes))
    if (!part.empty()) {
      if (part.size() != static_cast<size_t>(dims_) * sizeof(float)) throw Error("k-means: another process sent a malformed row");
      std::memcpy(out, part.data(), part.size());
      return true;
    }
  throw Error("k-means: no process holds row " + std::to_string(index));
}

// Every process's sums, counts and inertia added in rank order, into this process's.
double LloydStepAcrossProcesses::sum(double inertia, std::vector<double>& sums, std::vector<int64_t>& counts) {
  RecordWriter out;
  out.values(sums);
  out.values(counts);
  out.value(inertia);
  std::fill(sums.begin(), sums.end(), 0.0);
  std::fill(counts.begin(), counts.end(), 0);
  double total = 0.0;
  for (const std::string& part : group_.all_gather(out.take())) {
    RecordReader in(part);
    const std::vector<double> their_sums = in.values<double>();
    const std::vector<int64_t> their_counts = in.values<int64_t>();
    if (their_sums.size() != sums.size() || their_counts.size() != counts.size())
      throw Error("k-means: another process's cluster sums have another shape");
    for (size_t i = 0; i < sums.size(); ++i) sums[i] += their_sums[i];
    for (size_t c = 0; c < counts.size(); ++c) counts[c] += their_counts[c];
    total += in.value<double>();
  }
  return total;
}

}  // namespace jm
