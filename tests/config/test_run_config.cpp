// The TOML configuration: every key reaches RunConfig, mistakes are reported with their location,
// and the effective configuration written to /meta reads back to the same settings.
#include <gtest/gtest.h>

#include "journeymap/common.hpp"
#include "journeymap/run_config.hpp"

namespace {

TEST(RunConfig, AppliesEveryKey) {
  jm::RunConfig config;
  jm::apply_config_text(R"(
[input]
path = "events.csv"
format = "csv"
on_error = "skip"
timestamp_format = "epoch_ms"
delimiter = ";"
conversion_touchpoint = "purchase"
[input.columns]
customer = "user"
touchpoint = "page"
[journeys]
session_gap_seconds = 1800
drop_duplicates = true
max_length = 50
[outcome]
positive = "approved"
same_instant_seconds = 2.5
after = "end"
window_days = 30
label_file = "labels.csv"
[outcome.events]
A_APPROVED = "approved"
A_DECLINED = "declined"
[run]
device = "cpu"
threads = 3
output = "out/x.h5"
progress = false
)",
                        "test.toml", config);
  EXPECT_EQ(config.input_path, "events.csv");
  EXPECT_EQ(config.input_format, jm::InputFormat::Csv);
  EXPECT_EQ(config.csv.on_error, jm::OnError::Skip);
  EXPECT_EQ(config.csv.timestamp_format, jm::TimestampFormat::EpochMillis);
  EXPECT_EQ(config.csv.delimiter, ';');
  EXPECT_EQ(config.csv.conversion_touchpoint, "purchase");
  EXPECT_EQ(config.csv.columns.customer, "user");
  EXPECT_EQ(config.csv.columns.touchpoint, "page");
  EXPECT_EQ(config.csv.columns.timestamp, "timestamp");  // untouched default
  EXPECT_EQ(config.outcome.positive, "approved");
  EXPECT_DOUBLE_EQ(config.outcome.same_instant_seconds, 2.5);
  EXPECT_EQ(config.outcome.after, jm::AfterOutcome::End);
  EXPECT_DOUBLE_EQ(config.outcome.window_days, 30);
  EXPECT_EQ(config.outcome.label_file, "labels.csv");
  ASSERT_EQ(config.outcome.events.size(), 2u);
  EXPECT_EQ(config.outcome.events[0].touchpoint, "A_APPROVED");
  EXPECT_EQ(config.outcome.events[0].label, "approved");
  // The --conversion-touchpoint shorthand joins the outcome events as "converted".
  const jm::OutcomeDefinition effective = jm::effective_outcome(config);
  ASSERT_EQ(effective.events.size(), 3u);
  EXPECT_EQ(effective.events[2].touchpoint, "purchase");
  EXPECT_EQ(effective.events[2].label, "converted");
  EXPECT_DOUBLE_EQ(config.journeys.session_gap_seconds, 1800);
  EXPECT_TRUE(config.journeys.drop_duplicates);
  EXPECT_EQ(config.journeys.max_length, 50);
  EXPECT_EQ(config.device, jm::DeviceChoice::Cpu);
  EXPECT_EQ(config.threads, 3);
  EXPECT_EQ(config.output_path, "out/x.h5");
  EXPECT_FALSE(config.progress);
}

TEST(RunConfig, EffectiveConfigRoundTrips) {
  jm::RunConfig original;
  original.input_path = "a b.csv";
  original.csv.columns.channel = "medium";
  original.journeys.session_gap_seconds = 42.5;
  original.journeys.max_length = 7;
  original.device = jm::DeviceChoice::Gpu;
  jm::RunConfig reread;
  jm::apply_config_text(jm::to_toml(original), "roundtrip", reread);
  EXPECT_EQ(reread.input_path, original.input_path);
  EXPECT_EQ(reread.csv.columns.channel, "medium");
  EXPECT_DOUBLE_EQ(reread.journeys.session_gap_seconds, 42.5);
  EXPECT_EQ(reread.journeys.max_length, 7);
  EXPECT_EQ(reread.device, jm::DeviceChoice::Gpu);
  EXPECT_EQ(jm::to_toml(reread), jm::to_toml(original));
}

TEST(RunConfig, RejectsUnknownKeysWrongTypesAndBadSyntax) {
  jm::RunConfig config;
  try {
    jm::apply_config_text("[journeys]\nsesion_gap_seconds = 5\n", "typo.toml", config);
    FAIL() << "expected ConfigError";
  } catch (const jm::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("journeys.sesion_gap_seconds"), std::string::npos) << e.what();
  }
  EXPECT_THROW(jm::apply_config_text("[run]\nthreads = \"four\"\n", "type.toml", config), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[run]\ndevice = \"tpu\"\n", "device.toml", config), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[run]\ncompression = 12\n", "level.toml", config), jm::ConfigError);
  try {
    jm::apply_config_text("[run]\n\nthreads = = 3\n", "syntax.toml", config);
    FAIL() << "expected ConfigError";
  } catch (const jm::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("syntax.toml:3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(jm::apply_config_file("/nonexistent/config.toml", config), jm::ConfigError);
}

TEST(RunConfig, NumbersOutsideTheirTypeAreConfigErrors) {
  // Found by fuzz_config: `max_bin = 2E56` reached toml++'s float-to-integer conversion, undefined
  // beyond int64; and integers too large for an int key used to wrap around.
  jm::RunConfig config;
  EXPECT_THROW(jm::apply_config_text("[model]\nmax_bin = 2E56\n", "huge.toml", config), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[model]\nmax_depth = 4294967302\n", "wrap.toml", config), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[model]\nmax_depth = 6.5\n", "fraction.toml", config), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[segments]\nk = nan\n", "nan.toml", config), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[anomalies]\nlearning_rate = 1e300\n", "float.toml", config), jm::ConfigError);
  EXPECT_THROW(jm::apply_config_text("[anomalies]\nhidden = [64, 1e30]\n", "array.toml", config), jm::ConfigError);
  jm::apply_config_text("[model]\nmax_depth = 7.0\n", "integral.toml", config);  // an integral float is fine
  EXPECT_EQ(config.model.max_depth, 7);
}

TEST(RunConfig, BadOutcomeDefinitionsAreConfigErrors) {
  for (const char* text : {"[outcome]\nsame_instant_seconds = -1\n", "[outcome]\nwindow_days = nan\n",
                           "[outcome]\nwindow_days = -2\n", "[outcome]\nafter = \"later\"\n",
                           "[outcome]\npositive = \"\"\n", "[outcome.events]\nbuy = \"none\"\n",
                           "[outcome.events]\nbuy = 3\n", "[outcome]\nunknown = 1\n",
                           "[journeys]\nsplit_at_conversion = false\n"}) {
    jm::RunConfig config;
    EXPECT_THROW(jm::apply_config_text(text, "bad.toml", config), jm::ConfigError) << text;
  }
}

}  // namespace
