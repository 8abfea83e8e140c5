// Step timings: a StepTimer records its steps only when the context carries a StepLog, in the
// order they finish, a repeated name adding up; a whole run reports the model stage's steps.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/pipeline.hpp"
#include "journeymap/generate.hpp"
#include "journeymap/step_timing.hpp"
#include "test_helpers.hpp"

namespace {

std::vector<std::string> step_names(const jm::StepLog& log) {
  std::vector<std::string> names;
  for (const auto& [name, seconds] : log.entries()) names.push_back(name);
  return names;
}

TEST(StepTiming, RecordsNothingWithoutALog) {
  const jm::Context ctx;
  jm::StepTimer timer(ctx, "first");
  timer.next("second");
  timer.finish();
  EXPECT_EQ(ctx.steps, nullptr);
}

TEST(StepTiming, ConsecutiveStepsInOrderAndRepeatedNamesAddUp) {
  jm::Context ctx;
  ctx.steps = std::make_shared<jm::StepLog>();
  {
    jm::StepTimer timer(ctx, "load");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    timer.next("score");
    timer.next("load");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }  // the destructor ends the last step
  EXPECT_EQ(step_names(*ctx.steps), (std::vector<std::string>{"load", "score"}));
  const auto entries = ctx.steps->entries();
  EXPECT_GE(entries[0].second, 0.04);  // both "load" steps
  EXPECT_LT(entries[1].second, entries[0].second);
}

TEST(StepTiming, ARunReportsTheStepsOfItsStages) {
  const auto dir = jm::testing::scratch_dir();
  jm::GeneratorOptions generator;
  generator.journeys = 1500;
  generator.seed = 4;
  const std::string events = (dir / "events.csv").string();
  jm::generate_dataset(generator, events);
  jm::RunConfig config;
  config.input_path = events;
  config.output_path = (dir / "result.h5").string();
  config.device = jm::DeviceChoice::Cpu;
  config.progress = false;
  config.journeys.session_gap_seconds = jm::kGeneratedJourneyGapSeconds;
  const jm::RunReport report = jm::run_pipeline(config);
  ASSERT_EQ(report.stage_steps.size(), report.stage_seconds.size());
  auto steps_of = [&](const std::string& stage) {
    for (size_t i = 0; i < report.stage_seconds.size(); ++i)
      if (report.stage_seconds[i].first == stage) return report.stage_steps[i];
    return std::vector<std::pair<std::string, double>>{};
  };
  std::vector<std::string> model_steps;
  double model_step_seconds = 0.0;
  for (const auto& [name, seconds] : steps_of("model")) {
    model_steps.push_back(name);
    model_step_seconds += seconds;
  }
  EXPECT_EQ(model_steps, (std::vector<std::string>{"labels and split", "leakage guard", "training rows", "boosting",
                                                   "decision point", "in-flight curve"}));
  for (const auto& [stage, seconds] : report.stage_seconds)
    if (stage == "model") EXPECT_LE(model_step_seconds, seconds + 1e-6);  // the steps lie inside the stage
  std::vector<std::string> written;
  for (const auto& [name, seconds] : steps_of("write")) written.push_back(name);
  EXPECT_EQ(written.front(), "journeys");
  EXPECT_FALSE(steps_of("segments").empty());
  EXPECT_FALSE(steps_of("anomalies").empty());
}

}  // namespace
