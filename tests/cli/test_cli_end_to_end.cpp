// End to end through the `journeymap` binary: generate -> run -> read the HDF5 back, plus the
// failure modes a user meets (bad input, bad config) and their guarantees (exit code, message,
// no partial output, an earlier result left intact).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>
#include <sstream>

#include "journeymap/export.hpp"
#include "journeymap/result_file.hpp"
#include "test_helpers.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JM_TEST_UNDER_ASAN 1
#endif
#endif

namespace {

namespace fs = std::filesystem;

using jm::testing::cli_path;
using jm::testing::CommandResult;
using jm::testing::run_shell;

CommandResult run_cli(const std::string& arguments) { return run_shell(cli_path() + " " + arguments); }

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Files in `dir` whose name contains ".tmp." (left-over temporary results).
int count_temp_files(const fs::path& dir) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) ++count;
  return count;
}

TEST(CliEndToEnd, MiningInBatchesOfCustomersGivesThePatternsOfAllAtOnce) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = (dir / "events.csv").string();
  ASSERT_EQ(run_cli("generate --journeys 6000 --seed 8 --threads 2 --out " + events).exit_code, 0);
  const std::string common = " --min-support 0.05 --max-length 4 --session-gap 172800 --device cpu --threads 2 --quiet";
  const CommandResult whole = run_cli("mine --input " + events + common + " --out " + (dir / "whole.h5").string());
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const CommandResult batched = run_cli("mine --input " + events + common + " --batch-events 3000 --out " +
                                        (dir / "batched.h5").string());
  ASSERT_EQ(batched.exit_code, 0) << batched.output;
  EXPECT_NE(batched.output.find("in 4 batches of customers"), std::string::npos) << batched.output;
  const jm::ResultReader a((dir / "whole.h5").string()), b((dir / "batched.h5").string());
  EXPECT_GT(a.read_int64("/patterns/support").size(), 50u);
  for (const std::string name : {"offsets", "support", "converted_support"})
    EXPECT_EQ(a.read_int64("/patterns/" + name), b.read_int64("/patterns/" + name)) << name;
  EXPECT_EQ(a.read_int32("/patterns/items"), b.read_int32("/patterns/items"));
  EXPECT_EQ(a.read_double("/patterns/p_value"), b.read_double("/patterns/p_value"));
  EXPECT_EQ(count_temp_files(dir), 0);
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().rfind(".jm-shards.", 0), std::string::npos) << entry.path();

  // A file that claims to be Parquet and is not: a clear error, nothing written, no spool left.
  const std::string parquet = (dir / "events.parquet").string();
  jm::testing::write_file(parquet, "PAR1 not really\n");
  const CommandResult refused =
      run_cli("mine --input " + parquet + " --batch-events 10 --min-support 1 --out " + (dir / "pq.h5").string());
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find(jm::parquet_export_available() ? "not a readable Parquet file"
                                                               : "this build has no Apache Arrow"),
            std::string::npos)
      << refused.output;
  EXPECT_FALSE(fs::exists(dir / "pq.h5"));
  EXPECT_EQ(count_temp_files(dir), 0);

  // SPMF input: a public clickstream, at once and in batches.
  const std::string bms1 = jm::testing::shared_data("bms1/BMS1_spmf.txt");
  if (bms1.empty()) return;
  const std::string spmf_common = " --min-support 42 --device cpu --threads 2 --quiet --input " + bms1;
  ASSERT_EQ(run_cli("mine" + spmf_common + " --out " + (dir / "bms1.h5").string()).exit_code, 0);
  const CommandResult spmf_batched =
      run_cli("mine" + spmf_common + " --batch-events 40000 --out " + (dir / "bms1_batched.h5").string());
  ASSERT_EQ(spmf_batched.exit_code, 0) << spmf_batched.output;
  EXPECT_EQ(spmf_batched.output.find("in 1 batches"), std::string::npos) << spmf_batched.output;
  const jm::ResultReader c((dir / "bms1.h5").string()), d((dir / "bms1_batched.h5").string());
  EXPECT_EQ(c.read_int64("/patterns/support").size(), 27403u);
  EXPECT_EQ(c.read_int64("/patterns/support"), d.read_int64("/patterns/support"));
  EXPECT_EQ(c.read_int32("/patterns/items"), d.read_int32("/patterns/items"));
}

// `mine` reads an SPMF file straight into its sequences when nothing could change its journeys
// (/meta then lists no journeys stage), and builds them through the event table otherwise: a
// setting that changes nothing (case attributes) gives the same patterns, one that cuts journeys
// (a session gap under the 1 s between events) or a positive label no event carries behaves as
// the general path always did.
TEST(CliEndToEnd, MineReadsAnSpmfFileStraightOnlyWhenItsJourneysCannotChange) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string spmf = (dir / "db.txt").string();
  std::ofstream(spmf) << "# comment\n1 -1 2 -1 3 -1 -2\n2 -1 3 -1 -2\n-2\n1 -1 3 -1 3 -1 -2\n1 -1 2 -1 -2";
  const std::string attributes = (dir / "attributes.csv").string();
  std::ofstream(attributes) << "id,x\n1,0.5\n";
  const std::string common = " --input " + spmf + " --min-support 2 --device cpu --threads 2 --quiet";
  auto mine = [&](const std::string& name, const std::string& extra) {
    return run_cli("mine" + common + extra + " --out " + (dir / name).string());
  };
  ASSERT_EQ(mine("direct.h5", "").exit_code, 0);
  ASSERT_EQ(mine("general.h5", " --case-attributes " + attributes).exit_code, 0);
  const jm::ResultReader direct((dir / "direct.h5").string()), general((dir / "general.h5").string());
  EXPECT_EQ(direct.read_strings("/meta/stage_names"), (std::vector<std::string>{"ingest", "patterns"}));
  EXPECT_EQ(general.read_strings("/meta/stage_names"),
            (std::vector<std::string>{"ingest", "journeys", "patterns"}));
  EXPECT_EQ(direct.read_int64("/patterns/support"), general.read_int64("/patterns/support"));
  EXPECT_EQ(direct.read_int32("/patterns/items"), general.read_int32("/patterns/items"));
  EXPECT_EQ(direct.read_int64("/patterns/offsets"), general.read_int64("/patterns/offsets"));
  EXPECT_EQ(direct.read_strings("/vocab/touchpoints"), general.read_strings("/vocab/touchpoints"));

  // Every event its own journey: only single items can be frequent.
  ASSERT_EQ(mine("split.h5", " --session-gap 0.5").exit_code, 0);
  const jm::ResultReader split((dir / "split.h5").string());
  EXPECT_EQ(split.read_strings("/meta/stage_names"), (std::vector<std::string>{"ingest", "journeys", "patterns"}));
  const std::vector<int64_t> offsets = split.read_int64("/patterns/offsets");
  for (size_t p = 1; p < offsets.size(); ++p) EXPECT_EQ(offsets[p] - offsets[p - 1], 1);

  const CommandResult refused = mine("positive.h5", " --positive approved");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("approved"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(dir / "positive.h5"));
}

TEST(CliEndToEnd, AShortGeneratedPeriodKeepsItsSpikeInside) {
  const fs::path dir = jm::testing::scratch_dir();
  const std::string events = (dir / "events.csv").string();
  const CommandResult generated = run_cli("generate --journeys 300 --days 30 --threads 2 --out " + events);
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  EXPECT_NE(read_all(dir / "events.truth.json").find("\"day\": 20"), std::string::npos)
      << "the default spike day moves two thirds into a 30-day period";
  const CommandResult outside = run_cli("generate --journeys 300 --days 30 --spike-day 40 --threads 2 --out " + events);
  EXPECT_NE(outside.exit_code, 0);
  EXPECT_NE(outside.output.find("spike_day"), std::string::npos) << outside.output;
}

TEST(CliEndToEnd, GenerateRunAndReadBack) {
  const fs::path dir = jm::testing::scratch_dir();
  const auto events_csv = (dir / "events.csv").string();
  const auto result_h5 = (dir / "result.h5").string();

  const CommandResult generated = run_cli("generate --journeys 3000 --seed 5 --threads 2 --out " + events_csv);
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  ASSERT_TRUE(fs::exists(dir / "events.truth.json"));
  ASSERT_TRUE(fs::exists(dir / "events.truth.csv"));

  const CommandResult run =
      run_cli("run --input " + events_csv + " --out " + result_h5 + " --session-gap 172800 --device cpu --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("journeys"), std::string::npos) << run.output;
  EXPECT_EQ(count_temp_files(dir), 0);

  // The generated journeys are recovered exactly: count, events and conversions match the truth.
  std::ifstream truth(dir / "events.truth.csv");
  std::string line;
  std::getline(truth, line);  // header
  int64_t truth_journeys = 0, truth_events = 0, truth_converted = 0;
  std::vector<std::string> header_fields;
  {
    std::stringstream header(line);
    std::string field;
    while (std::getline(header, field, ',')) header_fields.push_back(field);
  }
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header_fields.begin(), header_fields.end(), name) - header_fields.begin());
  };
  const size_t n_events_col = column("n_events"), converted_col = column("converted");
  ASSERT_LT(n_events_col, header_fields.size());
  ASSERT_LT(converted_col, header_fields.size());
  while (std::getline(truth, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    std::string field;
    while (std::getline(row, field, ',')) fields.push_back(field);
    ++truth_journeys;
    truth_events += std::stoll(fields.at(n_events_col));
    truth_converted += std::stoll(fields.at(converted_col));
  }
  ASSERT_EQ(truth_journeys, 3000);

  jm::ResultReader reader(result_h5);
  const jm::JourneySet journeys = reader.read_journeys();
  jm::check_journey_set(journeys);
  EXPECT_EQ(journeys.size(), truth_journeys);
  // Every journey is cut before its purchase (one event per converted journey; the generator logs
  // nothing else within a second of it).
  EXPECT_EQ(journeys.num_events(), truth_events - truth_converted);
  EXPECT_EQ(std::accumulate(journeys.converted.begin(), journeys.converted.end(), int64_t{0}), truth_converted);
  EXPECT_EQ(reader.read_string_attribute("/meta", "command"), "run");
  EXPECT_EQ(reader.read_string_attribute("/meta", "backend"), "cpu");
  EXPECT_EQ(reader.read_int_attribute("/meta", "rows_read"), truth_events);
  EXPECT_NE(reader.read_strings("/meta/config_toml").at(0).find("session_gap_seconds = 172800"), std::string::npos);
  EXPECT_GE(journeys.touchpoints.find("purchase"), 0);

  const CommandResult info = run_cli("info " + result_h5);
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find(std::to_string(truth_journeys)), std::string::npos) << info.output;

  // `flows` rewrites /journeys: what a later `run --append` needs stays (each customer's last time).
  const auto customer_last_ms = reader.read_int64("/journeys/customer_last_ms");
  EXPECT_EQ(static_cast<int64_t>(customer_last_ms.size()), journeys.customers.size());
  const auto reflowed_h5 = (dir / "reflowed.h5").string();
  const CommandResult reflowed = run_cli("flows " + result_h5 + " --out " + reflowed_h5 + " --threads 2");
  ASSERT_EQ(reflowed.exit_code, 0) << reflowed.output;
  EXPECT_EQ(jm::ResultReader(reflowed_h5).read_int64("/journeys/customer_last_ms"), customer_last_ms);
}

TEST(CliEndToEnd, BanditCommandsSimulateEvaluateAndRecommend) {
  const auto dir = jm::testing::scratch_dir();
  const std::string events = (dir / "offers.csv").string(), recommendations = (dir / "next.csv").string();
  ASSERT_EQ(run_cli("generate --journeys 20000 --seed 4 --threads 2 --checkout-offers --out " + events).exit_code, 0);
  const CommandResult simulated =
      run_cli("bandit simulate --threads 2 --input " + events + " --out " + (dir / "sim.h5").string());
  ASSERT_EQ(simulated.exit_code, 0) << simulated.output;
  EXPECT_NE(simulated.output.find("best fixed action: free_shipping"), std::string::npos) << simulated.output;
  const jm::ResultReader simulation((dir / "sim.h5").string());
  EXPECT_EQ(simulation.read_strings("/bandit/simulation/policies").front(), "thompson");

  const CommandResult evaluated = run_cli("bandit evaluate --threads 2 --session-gap 172800 --input " + events +
                                          " --out " + (dir / "eval.h5").string());
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  EXPECT_NE(evaluated.output.find("always free_shipping"), std::string::npos) << evaluated.output;
  EXPECT_NE(evaluated.output.find("thompson (learnt on the earlier half)"), std::string::npos);

  const CommandResult recommended = run_cli("bandit recommend --threads 2 --session-gap 172800 --input " + events +
                                            " --out " + recommendations);
  ASSERT_EQ(recommended.exit_code, 0) << recommended.output;
  std::ifstream in(recommendations);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("customer_id,journey_start,events,last_event,action,probability,", 0), 0u) << line;
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    ASSERT_EQ(fields.size(), 12u) << line;
    // The drawn action's probability is its own column among the three.
    const double p = std::stod(fields[5]);
    EXPECT_TRUE(p > 0.0 && p <= 1.0) << line;
    EXPECT_NEAR(std::stod(fields[6]) + std::stod(fields[7]) + std::stod(fields[8]), 1.0, 1e-5) << line;
  }
  EXPECT_GT(rows, 0);

  // An action set that misses a logged action: a clear error, and no file.
  const CommandResult unknown = run_cli("bandit evaluate --session-gap 172800 --actions none,discount --input " + events +
                                        " --out " + (dir / "bad.h5").string());
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("free_shipping"), std::string::npos) << unknown.output;
  EXPECT_NE(unknown.output.find("not in the action set"), std::string::npos) << unknown.output;
  EXPECT_FALSE(fs::exists(dir / "bad.h5"));
}

TEST(CliEndToEnd, CovariatesAreAlertFactorsAndModelInputs) {
  const auto dir = jm::testing::scratch_dir();
  const std::string events = (dir / "campaign.csv").string(), covariates = (dir / "campaign.covariates.csv").string();
  const CommandResult generated = run_cli("generate --journeys 20000 --seed 9 --threads 2 --spike-day -1 --weekly-pattern "
                                          "--campaign-day 40 --campaign-days 4 --campaign-lift 1 --out " + events);
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  EXPECT_NE(generated.output.find("covariates: " + covariates), std::string::npos) << generated.output;

  // The alerts explain the campaign instead of alerting on it.
  const CommandResult detected = run_cli("detect --no-journeys --quiet --input " + events + " --covariates " + covariates +
                                         " --out " + (dir / "alerts.h5").string());
  ASSERT_EQ(detected.exit_code, 0) << detected.output;
  EXPECT_NE(detected.output.find("explained by the covariates (no alert)"), std::string::npos) << detected.output;
  const jm::ResultReader alerts((dir / "alerts.h5").string());
  EXPECT_EQ(alerts.read_strings("/alerts/covariates/names"), std::vector<std::string>{"campaign"});
  EXPECT_EQ(alerts.read_string_attribute("/alerts", "seasonality"), "weekly");

  // The model sees the campaign at the journey's start; scoring without the file is refused.
  const std::string model = (dir / "model.ubj").string();
  const CommandResult trained = run_cli("train --threads 2 --quiet --input " + events + " --covariates " + covariates +
                                        " --model " + model + " --out " + (dir / "model.h5").string());
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const jm::ResultReader trained_result((dir / "model.h5").string());
  const auto features = trained_result.read_strings("/model/feature_names");
  EXPECT_NE(std::find(features.begin(), features.end(), "cov:campaign"), features.end());
  const CommandResult without = run_cli("score --threads 2 --model " + model + " --input " + events + " --out " +
                                        (dir / "scores.csv").string());
  EXPECT_NE(without.exit_code, 0);
  EXPECT_NE(without.output.find("cov:campaign"), std::string::npos) << without.output;
  EXPECT_NE(without.output.find("--covariates"), std::string::npos) << without.output;
  EXPECT_FALSE(fs::exists(dir / "scores.csv"));
  const CommandResult scored = run_cli("score --threads 2 --model " + model + " --input " + events + " --covariates " +
                                       covariates + " --out " + (dir / "scores.csv").string());
  EXPECT_EQ(scored.exit_code, 0) << scored.output;
}

TEST(CliEndToEnd, VersionReportsBuild) {
  const CommandResult version = run_cli("--version");
  ASSERT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("journeymap"), std::string::npos);
  EXPECT_NE(version.output.find("CUDA"), std::string::npos);
  EXPECT_NE(version.output.find("HDF5"), std::string::npos);
}

TEST(CliEndToEnd, BadInputFailsClearlyAndKeepsEarlierResult) {
  const fs::path dir = jm::testing::scratch_dir();
  const auto good = jm::testing::write_file(dir / "good.csv",
                                            "customer_id,timestamp,touchpoint,channel,value,conversion\n"
                                            "a,2026-01-01T10:00:00Z,home,web,0,0\n"
                                            "a,2026-01-01T10:05:00Z,purchase,web,12.5,1\n");
  const auto bad = jm::testing::write_file(dir / "bad.csv",
                                           "customer_id,timestamp,touchpoint,channel,value,conversion\n"
                                           "a,2026-01-01T10:00:00Z,home,web,0,0\n"
                                           "b,yesterday,search,web,0,0\n");
  const auto result = (dir / "result.h5").string();
  ASSERT_EQ(run_cli("run --quiet --input " + good + " --out " + result).exit_code, 0);
  const std::string good_bytes = read_all(result);

  const CommandResult failed = run_cli("run --quiet --input " + bad + " --out " + result);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.output.find("bad.csv:3"), std::string::npos) << failed.output;
  EXPECT_NE(failed.output.find("timestamp"), std::string::npos) << failed.output;
  EXPECT_NE(failed.output.find("yesterday"), std::string::npos) << failed.output;
  EXPECT_EQ(read_all(result), good_bytes) << "a failed run must not touch the earlier result";
  EXPECT_EQ(count_temp_files(dir), 0);

  // With --on-error skip the bad row is counted, reported, and the run succeeds.
  const auto skipped_result = (dir / "skipped.h5").string();
  const CommandResult skipped = run_cli("run --quiet --on-error skip --input " + bad + " --out " + skipped_result);
  ASSERT_EQ(skipped.exit_code, 0) << skipped.output;
  jm::ResultReader reader(skipped_result);
  EXPECT_EQ(reader.read_int_attribute("/meta", "rows_skipped"), 1);
  ASSERT_EQ(reader.read_strings("/meta/bad_rows").size(), 1u);
  EXPECT_NE(reader.read_strings("/meta/bad_rows")[0].find("line 3"), std::string::npos);

  const auto empty = jm::testing::write_file(dir / "empty.csv", "");
  const CommandResult empty_run = run_cli("run --quiet --input " + empty + " --out " + (dir / "e.h5").string());
  EXPECT_EQ(empty_run.exit_code, 1);
  EXPECT_NE(empty_run.output.find("empty.csv"), std::string::npos) << empty_run.output;
  EXPECT_FALSE(fs::exists(dir / "e.h5"));

  const CommandResult missing = run_cli("run --quiet --input " + (dir / "nope.csv").string() + " --out " +
                                        (dir / "m.h5").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("nope.csv"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(dir / "m.h5"));
}

TEST(CliEndToEnd, SignalsLeaveNoTemporaryFile) {
  // SIGTERM, SIGINT or SIGHUP while the result is being written: the temporary file goes, the
  // earlier result stays, and the process dies of the signal.
  const fs::path dir = jm::testing::scratch_dir();
  const auto events = (dir / "events.csv").string();
  ASSERT_EQ(run_cli("generate --journeys 40000 --seed 5 --threads 2 --out " + events).exit_code, 0);
  const auto result = (dir / "result.h5").string();
  jm::testing::write_file(result, "an earlier result");
  for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      const std::string binary = cli_path();
      ::execl(binary.c_str(), binary.c_str(), "run", "--quiet", "--threads", "2", "--input", events.c_str(), "--out",
              result.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until the temporary result exists (the run is past ingest), then signal.
    for (int waited = 0; waited < 600 && count_temp_files(dir) == 0; ++waited) ::usleep(50000);
    ::kill(child, signal_number);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    if (WIFEXITED(status)) GTEST_SKIP() << "the run finished before the signal arrived";
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), signal_number);
    EXPECT_EQ(count_temp_files(dir), 0) << "signal " << signal_number;
    EXPECT_EQ(read_all(result), "an earlier result");
  }
}

TEST(CliEndToEnd, ThreadCreationFailureDegradesInsteadOfAborting) {
  // 600 threads in a 4 GiB address space cannot all start; the run uses those it gets. On the CPU:
  // the CUDA runtime reserves more address space than the limit leaves, so a GPU run cannot start.
#if defined(__SANITIZE_ADDRESS__) || defined(JM_TEST_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space, which ulimit -v forbids";
#endif
  const fs::path dir = jm::testing::scratch_dir();
  const auto events = (dir / "events.csv").string();
  ASSERT_EQ(run_cli("generate --journeys 2000 --seed 1 --threads 2 --out " + events).exit_code, 0);
  const auto result = (dir / "result.h5").string();
  const CommandResult limited = run_shell("sh -c 'ulimit -v 4194304; exec " + cli_path() +
                                          " run --quiet --device cpu --threads 600 --input " + events + " --out " + result + "' 2>&1");
  EXPECT_EQ(limited.exit_code, 0) << limited.output;
  EXPECT_TRUE(jm::ResultReader(result).exists("/journeys"));
  EXPECT_EQ(count_temp_files(dir), 0);
}

TEST(CliEndToEnd, PipedInputReadsLikeAFile) {
  // More than the 1 MiB that format detection looks at, through a pipe: every row arrives.
  const fs::path dir = jm::testing::scratch_dir();
  const auto events = (dir / "events.csv").string();
  ASSERT_EQ(run_cli("generate --journeys 3000 --seed 2 --threads 2 --out " + events).exit_code, 0);
  ASSERT_GT(fs::file_size(events), size_t{1} << 20);
  const auto from_file = (dir / "file.h5").string(), from_pipe = (dir / "pipe.h5").string();
  ASSERT_EQ(run_cli("run --quiet --input " + events + " --out " + from_file).exit_code, 0);
  const std::string command = "cat " + events + " | " + cli_path() + " run --quiet --input /dev/stdin --out " +
                              from_pipe + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  jm::ResultReader file_result(from_file), pipe_result(from_pipe);
  EXPECT_EQ(pipe_result.read_int_attribute("/meta", "rows_read"), file_result.read_int_attribute("/meta", "rows_read"));
  EXPECT_EQ(pipe_result.read_journeys().num_events(), file_result.read_journeys().num_events());
}

TEST(CliEndToEnd, FullDiskFailsCleanly) {
  // A 2 MiB tmpfs fills up while the result is written: a clear error (exit 1, no crash), no
  // temporary file left, and an earlier result on that disk untouched.
  const fs::path dir = jm::testing::scratch_dir();
  const fs::path small = dir / "small";
  fs::create_directories(small);
  if (std::system(("mount -t tmpfs -o size=2m tmpfs " + small.string() + " 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  struct Unmount {
    std::string path;
    ~Unmount() { std::system(("umount " + path).c_str()); }
  } unmount{small.string()};
  const auto events = (dir / "events.csv").string();
  ASSERT_EQ(run_cli("generate --journeys 2000 --seed 1 --threads 2 --out " + events).exit_code, 0);
  const auto earlier = (small / "earlier.h5").string();
  ASSERT_EQ(run_cli("run --quiet --threads 2 --input " + events + " --out " + earlier).exit_code, 0);
  const std::string earlier_bytes = read_all(earlier);
  // The model file of a run that fails is not replaced either (it is saved after the commit).
  const auto model = jm::testing::write_file(dir / "model.ubj", "an earlier model");
  const auto model_config = jm::testing::write_file(dir / "model.toml", "[model]\npath = \"" + model + "\"\n");
  const CommandResult with_model = run_cli("run --quiet --threads 2 --config " + model_config + " --input " + events +
                                           " --out " + (small / "new.h5").string());
  EXPECT_EQ(with_model.exit_code, 1) << with_model.output;
  EXPECT_EQ(read_all(model), "an earlier model");
  for (const std::string command : {"run --quiet --threads 2", "segment --threads 2"}) {  // both outgrow 2 MiB
    const CommandResult full = run_cli(command + " --input " + events + " --out " + (small / "new.h5").string());
    EXPECT_EQ(full.exit_code, 1) << command << ": " << full.output;
    EXPECT_NE(full.output.find("No space left"), std::string::npos) << full.output;
    EXPECT_EQ(count_temp_files(small), 0) << command;
    EXPECT_FALSE(fs::exists(small / "new.h5")) << command;
  }
  // flows rewriting the earlier result in place on the full disk.
  const CommandResult flows = run_cli("flows " + earlier);
  EXPECT_EQ(flows.exit_code, 1) << flows.output;
  EXPECT_EQ(read_all(earlier), earlier_bytes);
  for (const auto& entry : fs::directory_iterator(small))
    EXPECT_EQ(entry.path().filename().string().find(".flows."), std::string::npos) << entry.path();
}

TEST(CliEndToEnd, OutputEqualToInputIsRefusedAndTheInputSurvives) {
  const fs::path dir = jm::testing::scratch_dir();
  const auto events = jm::testing::write_file(dir / "x.csv",
                                              "customer_id,timestamp,touchpoint,channel,value,conversion\n"
                                              "a,2026-01-01T10:00:00Z,home,web,0,0\n"
                                              "a,2026-01-01T10:05:00Z,purchase,web,12.5,1\n");
  const std::string before = read_all(events);
  for (const std::string command : {"run --quiet", "segment", "detect", "mine --min-support 1"}) {
    const CommandResult same = run_cli(command + " --input " + events + " --out " + events);
    EXPECT_EQ(same.exit_code, 2) << command << ": " << same.output;
    EXPECT_NE(same.output.find("is the input file"), std::string::npos) << same.output;
    EXPECT_EQ(read_all(events), before) << command;
  }
  // The same file through another path.
  const CommandResult relative = run_cli("run --quiet --input " + events + " --out " + (dir / "." / "x.csv").string());
  EXPECT_EQ(relative.exit_code, 2) << relative.output;
  EXPECT_EQ(read_all(events), before);
}

TEST(CliEndToEnd, ReportEscapesNamesFromTheData) {
  // A touchpoint named like markup must stay text: it may not end the chart script nor open a tag.
  const fs::path dir = jm::testing::scratch_dir();
  std::string csv = "customer_id,timestamp,touchpoint,channel,value,conversion\n";
  const std::string evil = "</script><script>alert(3)</script>";
  for (int c = 0; c < 60; ++c) {
    const std::string id = "c" + std::to_string(c);
    csv += id + ",2026-01-0" + std::to_string(1 + c % 5) + "T10:00:00Z,home,web,0,0\n";
    csv += id + ",2026-01-0" + std::to_string(1 + c % 5) + "T10:01:00Z," + evil + ",<b>web</b>,0,0\n";
    if (c % 3 == 0) csv += id + ",2026-01-0" + std::to_string(1 + c % 5) + "T10:05:00Z,purchase,web,10,1\n";
  }
  const auto events = jm::testing::write_file(dir / "evil.csv", csv);
  const auto result = (dir / "evil.h5").string();
  const CommandResult run = run_cli("run --quiet --input " + events + " --out " + result);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto html_path = (dir / "evil.html").string();
  const CommandResult report = run_cli("report " + result + " -o " + html_path);
  if (report.exit_code != 0 && report.output.find("python") != std::string::npos) GTEST_SKIP() << report.output;
  ASSERT_EQ(report.exit_code, 0) << report.output;
  const std::string page = read_all(html_path);
  EXPECT_EQ(page.find("<script>alert(3)"), std::string::npos);
  EXPECT_EQ(page.find("<b>web</b>"), std::string::npos);
  EXPECT_NE(page.find("alert(3)"), std::string::npos) << "the name is still shown, as text";
  EXPECT_EQ(count_temp_files(dir), 0);
  // The report refuses to overwrite the result it reads.
  EXPECT_NE(run_cli("report " + result + " -o " + result).exit_code, 0);
  EXPECT_TRUE(jm::ResultReader(result).exists("/journeys"));
}

TEST(CliEndToEnd, ConcurrentWritersAndReportsLeaveOneWholeFile) {
  // Two runs, then two reports, write the same output at the same time: both succeed, the file is
  // whole and is one of the two (last rename wins), and no temporary file is left.
  const fs::path dir = jm::testing::scratch_dir();
  const auto small = (dir / "small.csv").string(), large = (dir / "large.csv").string();
  ASSERT_EQ(run_cli("generate --journeys 400 --seed 1 --threads 1 --out " + small).exit_code, 0);
  ASSERT_EQ(run_cli("generate --journeys 900 --seed 2 --threads 1 --out " + large).exit_code, 0);
  const auto result = (dir / "result.h5").string();
  const auto both = [&](const std::string& first, const std::string& second) {
    return run_shell("sh -c '" + first + " >/dev/null 2>&1 & a=$!; " + second +
                     " >/dev/null 2>&1 & b=$!; wait $a; x=$?; wait $b; echo \"codes $x $?\"'");
  };
  const std::string run = cli_path() + " run --quiet --threads 1 --out " + result + " --input ";
  EXPECT_NE(both(run + small, run + large).output.find("codes 0 0"), std::string::npos);
  const int64_t journeys = jm::ResultReader(result).read_journeys().size();
  int64_t small_journeys = 0, large_journeys = 0;
  for (const auto& [input, count] : {std::pair{small, &small_journeys}, std::pair{large, &large_journeys}}) {
    const auto alone = (dir / "alone.h5").string();
    ASSERT_EQ(run_cli("run --quiet --threads 1 --input " + input + " --out " + alone).exit_code, 0);
    *count = jm::ResultReader(alone).read_journeys().size();
  }
  EXPECT_TRUE(journeys == small_journeys || journeys == large_journeys) << journeys;
  EXPECT_EQ(count_temp_files(dir), 0);

  const auto html = (dir / "report.html").string();
  const std::string report = cli_path() + " report " + result + " -o " + html;
  const CommandResult reports = both(report, report);
  if (!fs::exists(html)) GTEST_SKIP() << "report unavailable (no Python environment)";
  EXPECT_NE(reports.output.find("codes 0 0"), std::string::npos) << reports.output;
  std::string page = read_all(html);
  while (!page.empty() && std::isspace(static_cast<unsigned char>(page.back()))) page.pop_back();
  EXPECT_GE(page.size(), 7u);
  EXPECT_EQ(page.substr(page.size() - 7), "</html>");
  EXPECT_EQ(page.find("<!DOCTYPE html>", 1), std::string::npos) << "two pages mixed in one file";
  EXPECT_EQ(count_temp_files(dir), 0);
}

TEST(CliEndToEnd, BadConfigurationExitsWithUsageCode) {
  const fs::path dir = jm::testing::scratch_dir();
  const auto config = jm::testing::write_file(dir / "bad.toml", "[journeys]\nmax_lenght = 3\n");
  const CommandResult result = run_cli("run --config " + config + " --input x.csv");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("max_lenght"), std::string::npos) << result.output;
  EXPECT_EQ(run_cli("run --device tpu --input x.csv").exit_code, 2);
  EXPECT_EQ(run_cli("run --no-such-flag").exit_code, 2);
  // Values that used to be accepted silently.
  const auto events = jm::testing::write_file(dir / "ok.csv",
                                              "customer_id,timestamp,touchpoint\na,2026-01-01T10:00:00Z,home\n");
  for (const std::string& flags : std::vector<std::string>{"--session-gap nan", "--session-gap -5", "--out ''", "--config " + dir.string(),
                                   "--same-instant -1", "--window-days nan", "--outcome buy", "--after-outcome later"}) {
    const CommandResult bad = run_cli("run --quiet --input " + events + " " + flags);
    EXPECT_EQ(bad.exit_code, 2) << flags << ": " << bad.output;
  }
  const auto negative_block = jm::testing::write_file(dir / "block.toml", "[input]\nblock_bytes = -1\n");
  EXPECT_EQ(run_cli("run --quiet --input " + events + " --config " + negative_block).exit_code, 2);
  const auto spmf = jm::testing::write_file(dir / "db.txt", "1 -1 2 -1 -2\n");
  const CommandResult skip_spmf = run_cli("run --quiet --on-error skip --input " + spmf + " --out " + (dir / "s.h5").string());
  EXPECT_EQ(skip_spmf.exit_code, 2) << skip_spmf.output;
  EXPECT_NE(skip_spmf.output.find("CSV input only"), std::string::npos) << skip_spmf.output;
}

TEST(CliEndToEnd, BenchReportsEveryStage) {
  const fs::path dir = jm::testing::scratch_dir();
  const auto json_path = (dir / "bench.json").string();
  const CommandResult bench = run_cli("bench --journeys 1500 --device cpu --threads 2 --work-dir " + dir.string() +
                                      " --out " + json_path);
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  std::ifstream in(json_path);
  const nlohmann::json result = nlohmann::json::parse(in);
  ASSERT_EQ(result.at("cases").size(), 1u);
  const auto& run = result["cases"][0];
  EXPECT_EQ(run.at("journeys").get<int64_t>(), 1500);
  EXPECT_GT(run.at("events").get<int64_t>(), 1500);
  EXPECT_EQ(run.at("backend"), "cpu");
  EXPECT_GT(run.at("peak_host_bytes_so_far").get<int64_t>(), 0);
  std::set<std::string> stages;
  double sum = 0;
  for (const auto& stage : run.at("stages")) {
    stages.insert(stage.at("stage").get<std::string>());
    EXPECT_GE(stage.at("seconds").get<double>(), 0.0);
    sum += stage.at("seconds").get<double>();
  }
  for (const char* expected : {"ingest", "journeys", "write", "patterns", "features", "segments", "flows",
                               "attribution", "model", "anomalies", "commit"})
    EXPECT_TRUE(stages.count(expected)) << expected;
  EXPECT_EQ(stages.size(), run.at("stages").size()) << "every result write sums into one 'write' stage";
  EXPECT_NEAR(run.at("total_seconds").get<double>(), sum, 1e-9);
  EXPECT_GE(run.at("wall_seconds").get<double>(), sum);  // nothing the user waits for is outside the wall time
  EXPECT_TRUE(run.at("device_memory").is_null());         // a CPU case has no device memory
  EXPECT_FALSE(fs::exists(dir / "generated_1500.csv")) << "generated inputs are removed after timing";
  EXPECT_EQ(run_cli("bench --device cpu").exit_code, 2);  // nothing to time
}

// --case: a TOML naming its own input (here an SPMF file); events count the sequences' items.
TEST(CliEndToEnd, BenchRunsCaseConfigs) {
  const fs::path dir = jm::testing::scratch_dir();
  const auto spmf = dir / "tiny.txt";
  std::ofstream(spmf) << "1 -1 2 -1 3 -1 -2\n2 -1 3 -1 -2\n1 -1 3 -1 3 -1 -2\n";
  const auto config = dir / "tiny_case.toml";
  std::ofstream(config) << "[input]\npath = \"" << spmf.string() << "\"\nformat = \"spmf\"\n"
                        << "[segments]\nenabled = false\n[anomalies]\nenabled = false\n";
  const auto json_path = (dir / "cases.json").string();
  const CommandResult bench = run_cli("bench --case " + config.string() + " --device cpu --out " + json_path);
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  std::ifstream in(json_path);
  const nlohmann::json result = nlohmann::json::parse(in);
  const auto& run = result.at("cases").at(0);
  EXPECT_EQ(run.at("case"), "tiny_case");
  EXPECT_EQ(run.at("input_rows").get<int64_t>(), 3);
  EXPECT_EQ(run.at("events").get<int64_t>(), 8);
  EXPECT_EQ(run.at("journeys").get<int64_t>(), 3);
  const auto missing = dir / "no_input.toml";
  std::ofstream(missing) << "[run]\nthreads = 1\n";
  const CommandResult refused = run_cli("bench --case " + missing.string() + " --device cpu --out " + json_path);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("[input] path is missing"), std::string::npos) << refused.output;
}

TEST(CliEndToEnd, ATinyLogRunsEveryStageButAModelItsTestSetCannotMeasure) {
  // 10 customers, 2 of them converting: the split per outcome puts round(0.2 x 2) = 0 converting
  // customers in the test set, which then holds one outcome only. The run skips the model with
  // that reason, at once and in batches, instead of failing.
  const fs::path dir = jm::testing::scratch_dir();
  const fs::path events = dir / "tiny.csv";
  {
    std::ofstream out(events);
    out << "customer_id,timestamp,touchpoint,channel,value,conversion\n";
    for (int c = 0; c < 10; ++c) {
      const std::string day = "2026-01-" + std::string(c < 9 ? "0" : "") + std::to_string(c + 1);
      out << "c" << c << "," << day << "T10:00:00Z,home,web,0,0\n"
          << "c" << c << "," << day << "T10:01:00Z,product_view,web,0,0\n"
          << "c" << c << "," << day << "T10:05:00Z," << (c < 2 ? "checkout,web,40,1" : "exit_page,web,0,0") << "\n";
    }
  }
  for (const std::string extra : {"", " --memory-budget 64MiB"}) {
    SCOPED_TRACE(extra);
    const auto result = (dir / "tiny.h5").string();
    const CommandResult run = run_cli("run --quiet --device cpu --input " + events.string() + " --out " + result + extra);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const jm::ResultReader reader(result);
    const auto skipped = reader.read_strings("/meta/skipped_stages");
    ASSERT_EQ(skipped.size(), 1u);
    EXPECT_EQ(skipped[0].rfind("model: every one of the 2 test journeys ends without conversion", 0), 0u) << skipped[0];
    EXPECT_FALSE(reader.exists("/model"));
    EXPECT_TRUE(reader.exists("/segments/label"));
    EXPECT_TRUE(reader.exists("/flows"));
  }
}

TEST(CliEndToEnd, RunsOnPublicSpmfDataset) {
  const std::string bms1 = jm::testing::shared_data("bms1/BMS1_spmf.txt");
  if (bms1.empty()) GTEST_SKIP() << "../shared/data is not present";
  const fs::path dir = jm::testing::scratch_dir();
  const auto result = (dir / "bms1.h5").string();
  const CommandResult run = run_cli("run --quiet --input " + bms1 + " --out " + result);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  jm::ResultReader reader(result);
  const jm::JourneySet journeys = reader.read_journeys();
  EXPECT_EQ(journeys.size(), 59601);     // sequences in BMS1 (stats.json)
  EXPECT_EQ(journeys.num_events(), 149638);
  // Clickstreams without outcomes: every stage runs but the conversion model, skipped with its reason.
  const auto skipped = reader.read_strings("/meta/skipped_stages");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].rfind("model:", 0), 0u) << skipped[0];
  EXPECT_TRUE(reader.exists("/patterns/support"));
  EXPECT_TRUE(reader.exists("/segments/label"));
  EXPECT_FALSE(reader.exists("/model"));
}

}  // namespace
