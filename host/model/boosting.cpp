// The boosting loop shared by a process training alone and by every process of XGBoost's
// collective: the same calls in the same order on each (XGBoost's matrices and metrics are
// collective operations there), early stopping decided on the summed evaluation metric.
#include "host/model/boosting.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "host/core/thread_pool.hpp"
#include "host/model/model_support.hpp"
#include "journeymap/common.hpp"

namespace jm::model_detail {
namespace {

using model_support::Clock;
using model_support::seconds_since;

// The value of `<set>-<metric>:<value>` in an XGBoost evaluation line.
double parse_evaluation(const std::string& line, const std::string& set, const std::string& metric) {
  const std::string key = set + "-" + metric + ":";
  const auto at = line.find(key);
  if (at == std::string::npos) throw Error("XGBoost evaluation line lacks '" + key + "': " + line);
  return std::strtod(line.c_str() + at + key.size(), nullptr);
}

// Row numbers first, first + step, ... below `rows`.
std::vector<int64_t> every_nth(int64_t rows, int first, int step) {
  std::vector<int64_t> out;
  for (int64_t r = first; r < rows; r += step) out.push_back(r);
  return out;
}

}  // namespace

DMatrix make_dmatrix(const Context& ctx, MatrixView features) {
  return ctx.backend == Backend::Gpu ? cuda_impl::make_dmatrix(ctx, features) : cpu_impl::make_dmatrix(ctx, features);
}

std::string device_parameter(const Context& ctx) {
  return ctx.backend == Backend::Gpu ? fmt::format("cuda:{}", ctx.cuda_device) : std::string("cpu");
}

BoostingJob BoostingJob::share(int first, int processes) const {
  BoostingJob out;  // the parameters, then this share's rows (not a copy of every row first)
  out.parameters = parameters;
  out.metric = metric;
  out.rounds = rounds;
  out.early_stopping_rounds = early_stopping_rounds;
  out.early_stopping = early_stopping;
  out.feature_names = feature_names;
  const auto cols = static_cast<int64_t>(feature_names.size());
  const std::vector<int64_t> train = every_nth(train_rows(), first, processes), early = every_nth(early_rows(), first, processes);
  out.train_values = model_support::gather_rows(MatrixView{train_values.data(), train_rows(), cols}, train);
  out.train_labels = model_support::gather(train_labels, train);
  out.early_values = model_support::gather_rows(MatrixView{early_values.data(), early_rows(), cols}, early);
  out.early_labels = model_support::gather(early_labels, early);
  return out;
}

void BoostingJob::save(RecordWriter& out) const {
  out.value<int64_t>(static_cast<int64_t>(parameters.size()));
  for (const auto& [name, value] : parameters) {
    out.text(name);
    out.text(value);
  }
  out.text(metric);
  out.value(rounds);
  out.value(early_stopping_rounds);
  out.value<uint8_t>(early_stopping ? 1 : 0);
  out.texts(feature_names);
  out.values(train_values);
  out.values(train_labels);
  out.values(early_values);
  out.values(early_labels);
}

BoostingJob BoostingJob::load(RecordReader& in) {
  BoostingJob job;
  const auto count = in.value<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    std::string name = in.text();
    job.parameters.emplace_back(std::move(name), in.text());
  }
  job.metric = in.text();
  job.rounds = in.value<int>();
  job.early_stopping_rounds = in.value<int>();
  job.early_stopping = in.value<uint8_t>() != 0;
  job.feature_names = in.texts();
  job.train_values = in.values<float>();
  job.train_labels = in.values<float>();
  job.early_values = in.values<float>();
  job.early_labels = in.values<float>();
  return job;
}

Booster boost(const Context& ctx, const BoostingJob& job, TrainingHistory& h) {
  const int64_t cols = static_cast<int64_t>(job.feature_names.size());
  const auto handoff_start = Clock::now();
  DMatrix train = make_dmatrix(ctx, MatrixView{job.train_values.data(), job.train_rows(), cols});
  train.set_labels(job.train_labels);
  train.set_feature_names(job.feature_names);
  DMatrix early;
  if (job.early_stopping) {
    early = make_dmatrix(ctx, MatrixView{job.early_values.data(), job.early_rows(), cols});
    early.set_labels(job.early_labels);
    early.set_feature_names(job.feature_names);
  }
  h.handoff_seconds = seconds_since(handoff_start);

  std::vector<const DMatrix*> eval_sets{&train};
  std::vector<std::string> eval_names{"train"};
  if (job.early_stopping) {
    eval_sets.push_back(&early);
    eval_names.emplace_back("early_stop");
  }
  Booster booster(eval_sets);
  for (const auto& [name, value] : job.parameters) booster.set_param(name, value);
  booster.set_param("device", device_parameter(ctx));
  // OpenMP inside XGBoost aborts the process when it cannot create a thread, and more threads
  // than cores gain nothing: never ask for more than the machine has.
  booster.set_param("nthread", std::to_string(std::min(resolve_thread_count(ctx.num_threads), resolve_thread_count(0))));

  const auto boosting_start = Clock::now();
  h.metric = job.metric;
  double best_loss = std::numeric_limits<double>::infinity();
  for (int round = 0; round < job.rounds; ++round) {
    report_progress(ctx, "boosting", static_cast<double>(round) / job.rounds);
    booster.update(round, train);
    const std::string line = booster.evaluate(round, eval_sets, eval_names);
    h.train_loss.push_back(parse_evaluation(line, "train", job.metric));
    if (!job.early_stopping) continue;
    // Inside the collective this loss is summed over every process's rows: every process stops
    // at the same round.
    const double loss = parse_evaluation(line, "early_stop", job.metric);
    h.early_stop_loss.push_back(loss);
    if (loss < best_loss) {
      best_loss = loss;
      h.best_round = round;
    } else if (job.early_stopping_rounds > 0 && round - h.best_round >= job.early_stopping_rounds) {
      break;
    }
  }
  if (!job.early_stopping) h.best_round = static_cast<int>(h.train_loss.size()) - 1;
  h.boosting_seconds = seconds_since(boosting_start);
  return booster;
}

}  // namespace jm::model_detail
