// Journey anomaly scores of a run across processes (anomalies_across.hpp).
#include "host/pipeline/anomalies_across.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "host/anomalies/anomaly_parts.hpp"
#include "host/core/records.hpp"
#include "host/distributed/combine_across.hpp"
#include "host/distributed/process_group.hpp"
#include "host/pipeline/batched_anomalies.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

// What process 0 asks every process for: the first byte of a request.
enum class Ask : char {
  ScaledRows = 'S',         // standardised rows at ascending indices
  RawRows = 'R',            // the same rows unstandardised
  AutoencoderErrors = 'A',  // the reconstruction error of every row under a model
  ForestScores = 'F',       // the isolation forest's score of every row
  Done = 'D',               // no more requests
};

std::string request(Ask ask) { return std::string(1, static_cast<char>(ask)); }

std::string as_bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

// One process's rows: rows [first_row, first_row + inputs.rows()) of all.
class OwnRows {
 public:
  OwnRows(const Context& ctx, const FeatureColumnsFile& inputs, const FeatureScaling& scaling, int64_t first_row)
      : ctx_(ctx), inputs_(inputs), scaled_(inputs, scaling), first_row_(first_row) {}

  // The answer to process 0's request, for this process's rows.
  std::string answer(const std::string& bytes) const {
    RecordReader in(bytes);
    const auto ask = static_cast<Ask>(in.value<char>());
    switch (ask) {
      case Ask::ScaledRows:
      case Ask::RawRows: {
        std::vector<int64_t> own;
        for (const int64_t index : in.values<int64_t>())
          if (index >= first_row_ && index < first_row_ + inputs_.rows()) own.push_back(index - first_row_);
        return as_bytes(ask == Ask::ScaledRows ? scaled_.gather(own) : inputs_.read_rows(own));
      }
      case Ask::AutoencoderErrors: {
        AutoencoderModel model;
        model.widths = in.values<int>();
        model.parameters = in.values<float>();
        return as_bytes(reconstruction_errors(ctx_, model, scaled_));
      }
      case Ask::ForestScores: {
        anomalies_detail::FlatForest forest;
        forest.nodes = in.values<isolation_forest_rules::ForestNode>();
        forest.roots = in.values<int32_t>();
        forest.normaliser = in.value<double>();
        return as_bytes(isolation_forest_scores(ctx_, forest, scaled_));
      }
      case Ask::Done:
        break;
    }
    throw Error("anomalies: an unknown request from process 0");
  }

 private:
  const Context& ctx_;
  const FeatureColumnsFile& inputs_;
  const ScaledRowsFromFile scaled_;
  int64_t first_row_;
};

// The rows of every process, as process 0 sees them: each request goes to every process (process 0
// answers its own part), and the answers come back in rank order, the rows' order.
class RowsOfEveryProcess final : public ScaledRows {
 public:
  RowsOfEveryProcess(ProcessGroup& group, const OwnRows& own, int64_t rows, int dims)
      : group_(group), own_(own), rows_(rows), dims_(dims) {}
  int64_t rows() const override { return rows_; }
  int dims() const override { return dims_; }
  std::vector<float> gather(const std::vector<int64_t>& indices) const override {
    return ask_rows(Ask::ScaledRows, indices);
  }
  void for_each_block(const BlockVisitor&) const override {
    throw Error("anomalies: the rows of every process are not read block by block on one");
  }
  std::vector<float> autoencoder_errors(const Context&, const AutoencoderModel& model) const override {
    RecordWriter out;
    out.value(static_cast<char>(Ask::AutoencoderErrors));
    out.values(model.widths);
    out.values(model.parameters);
    return ask_every_process(out.take(), static_cast<size_t>(rows_));
  }
  std::vector<float> forest_scores(const Context&, const anomalies_detail::FlatForest& forest) const override {
    RecordWriter out;
    out.value(static_cast<char>(Ask::ForestScores));
    out.values(forest.nodes);
    out.values(forest.roots);
    out.value(forest.normaliser);
    return ask_every_process(out.take(), static_cast<size_t>(rows_));
  }
  std::vector<float> raw_rows(const std::vector<int64_t>& indices) const { return ask_rows(Ask::RawRows, indices); }

 private:
  // A million indices a request at most: the request goes to every process whole (all_gather).
  // The others only answer requests, so an empty one need not be sent.
  std::vector<float> ask_rows(Ask ask, const std::vector<int64_t>& indices) const {
    constexpr size_t kIndicesPerRequest = size_t{1} << 20;
    std::vector<float> rows;
    for (size_t begin = 0; begin < indices.size(); begin += kIndicesPerRequest) {
      const size_t end = std::min(indices.size(), begin + kIndicesPerRequest);
      RecordWriter out;
      out.value(static_cast<char>(ask));
      out.values(std::vector<int64_t>(indices.begin() + static_cast<std::ptrdiff_t>(begin),
                                      indices.begin() + static_cast<std::ptrdiff_t>(end)));
      const std::vector<float> part = ask_every_process(out.take(), (end - begin) * static_cast<size_t>(dims_));
      rows.insert(rows.end(), part.begin(), part.end());
    }
    return rows;
  }

  // The request to every process; their answers end to end, `expected` values in all.
  std::vector<float> ask_every_process(const std::string& bytes, size_t expected) const {
    group_.all_gather(bytes);  // process 0's request reaches the others (they send nothing)
    std::string answer;
    try {
      answer = own_.answer(bytes);
    } catch (const std::exception& error) {
      throw FailureInsideExchange(error.what());  // the others wait for the answers
    }
    std::vector<float> values;
    for (const std::string& part : group_.gather_to_first(answer)) {
      const size_t at = values.size();
      values.resize(at + part.size() / sizeof(float));
      if (!part.empty()) std::memcpy(values.data() + at, part.data(), part.size() / sizeof(float) * sizeof(float));
    }
    if (values.size() != expected) throw Error("anomalies: the processes sent another number of values than asked for");
    return values;
  }

  ProcessGroup& group_;
  const OwnRows& own_;
  int64_t rows_;
  int dims_;
};

}  // namespace

JourneyAnomalies anomalies_across_processes(const Context& ctx, ProcessGroup& group, const FeatureColumnsFile& inputs,
                                            const JourneyAnomalyOptions& options) {
  const FeatureScaling scaling = inputs.scaling();
  const ItemsOfProcesses rows = items_of_processes(group, inputs.rows());
  const OwnRows own(ctx, inputs, scaling, rows.first);
  if (group.rank() != 0) {
    // Answer process 0 until it is done, then learn whether it succeeded.
    for (;;) {
      const std::string asked = group.all_gather(std::string())[0];
      if (asked.empty() || static_cast<Ask>(asked[0]) == Ask::Done) break;
      group.gather_to_first(own.answer(asked));
    }
    group.agree("");
    return {};
  }
  JourneyAnomalies result;
  const RowsOfEveryProcess every(group, own, rows.total, inputs.dims());
  const StepFailure failure = failure_of([&] {
    result = score_journey_anomalies(ctx, every, scaling, options);
    fill_reason_values(result, scaling, [&](const std::vector<int64_t>& rows) { return every.raw_rows(rows); });
  });
  group.all_gather(request(Ask::Done));
  group.agree(failure.message, failure.exit_code);
  return result;
}

}  // namespace jm
