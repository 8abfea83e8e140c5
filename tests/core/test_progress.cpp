// Progress lines of long stages: the wording, the time-left estimate and the throttle.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>

#include "host/pipeline/stage_progress.hpp"

namespace {

TEST(Progress, LineStatesPercentAndTimeLeft) {
  EXPECT_EQ(jm::progress_line("segments", "k search", 0.5, 10.0), "[journeymap] segments  k search  50% (about 10 s left)");
  EXPECT_EQ(jm::progress_line("model", "boosting", 0.25, 60.0), "[journeymap] model     boosting  25% (about 3 min left)");
  // Too early to extrapolate, finished, or nonsense: no time left is claimed.
  EXPECT_EQ(jm::progress_line("model", "boosting", 0.01, 5.0), "[journeymap] model     boosting   1%");
  EXPECT_EQ(jm::progress_line("model", "boosting", 1.0, 5.0), "[journeymap] model     boosting 100%");
  EXPECT_EQ(jm::progress_line("model", "boosting", std::nan(""), 5.0), "[journeymap] model     boosting   0%");
  EXPECT_EQ(jm::progress_line("model", "boosting", 0.999, 0.01), "[journeymap] model     boosting 100% (about 1 s left)");
}

TEST(Progress, PrinterWaitsForTheIntervalAndThenThrottles) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  const jm::ProgressFn print = jm::stage_progress_printer("anomalies", out, std::chrono::milliseconds(200));
  print("autoencoder epochs", 0.1);  // the stage has only just started: nothing yet
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  print("autoencoder epochs", 0.5);  // printed
  print("autoencoder epochs", 0.6);  // within the interval: not printed
  std::rewind(out);
  char buffer[512] = {};
  const size_t read = std::fread(buffer, 1, sizeof buffer - 1, out);
  std::fclose(out);
  const std::string text(buffer, read);
  EXPECT_NE(text.find("[journeymap] anomalies autoencoder epochs  50%"), std::string::npos) << text;
  EXPECT_EQ(text.find("60%"), std::string::npos) << text;
  EXPECT_EQ(text.find("10%"), std::string::npos) << text;
}

}  // namespace
