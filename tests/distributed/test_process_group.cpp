// The process group of one process, the customer owner hash and the customer share: what a run
// over several processes rests on, checked without a launcher (tests/distributed/
// test_mine_across_processes.cpp runs several processes under mpirun).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "host/distributed/customer_share.hpp"
#include "host/distributed/distributed_input.hpp"
#include "host/distributed/process_group.hpp"
#include "journeymap/common.hpp"
#include "test_helpers.hpp"

namespace {

TEST(ProcessGroup, AProcessStartedWithoutALauncherIsAGroupOfOne) {
  if (jm::started_by_mpi_launcher()) GTEST_SKIP() << "this test program was started by an MPI launcher";
  jm::ProcessGroup& group = jm::process_group();
  EXPECT_EQ(group.rank(), 0);
  EXPECT_EQ(group.size(), 1);
  std::vector<int64_t> values = {3, -4, 5};
  group.sum(values);
  EXPECT_EQ(values, (std::vector<int64_t>{3, -4, 5}));
  EXPECT_EQ(group.all_gather("bytes"), (std::vector<std::string>{"bytes"}));
  EXPECT_NO_THROW(group.require_same("binary", "anything"));
}

TEST(ProcessGroup, AFailureInAnAgreedStepKeepsItsMessageAndExitStatus) {
  jm::ProcessGroup& group = jm::process_group();
  EXPECT_NO_THROW(group.run_agreed([] {}));
  try {
    group.run_agreed([] { throw jm::ConfigError("bad setting"); });
    FAIL() << "no failure";
  } catch (const jm::AgreedFailure& failure) {
    EXPECT_STREQ(failure.what(), "configuration error: bad setting");
    EXPECT_EQ(failure.exit_code(), 2);
  }
  try {
    group.run_agreed([] { throw jm::Error("cannot open events.csv"); });
    FAIL() << "no failure";
  } catch (const jm::AgreedFailure& failure) {
    EXPECT_STREQ(failure.what(), "cannot open events.csv");
    EXPECT_EQ(failure.exit_code(), 1);
  }
}

TEST(ProcessGroup, TheBinaryFingerprintIsStable) {
  const std::string fingerprint = jm::binary_fingerprint();
  EXPECT_EQ(fingerprint.size(), 16u);
  EXPECT_EQ(fingerprint, jm::binary_fingerprint());
}

TEST(CustomerOwner, DependsOnTheIdAloneAndSpreadsCustomers) {
  for (const int processes : {1, 2, 3, 8}) {
    std::vector<int64_t> owned(static_cast<size_t>(processes), 0);
    for (int c = 0; c < 40000; ++c) {
      const std::string id = "customer-" + std::to_string(c);
      const int owner = jm::owner_of_customer(id, processes);
      ASSERT_GE(owner, 0);
      ASSERT_LT(owner, processes);
      ASSERT_EQ(owner, jm::owner_of_customer(std::string(id), processes));
      ++owned[owner];
    }
    // Within 5% of an even split (a hash, not a round robin).
    for (const int64_t count : owned) EXPECT_NEAR(static_cast<double>(count), 40000.0 / processes, 2000.0 / processes);
  }
}

jm::EventTable table_of(int customers, int events_each) {
  jm::EventTable events;
  events.touchpoints.encode("home");
  events.channels.encode("web");
  for (int c = 0; c < customers; ++c) events.customers.encode("c" + std::to_string(c));
  for (int e = 0; e < events_each; ++e)
    for (int c = 0; c < customers; ++c) events.push_back(static_cast<uint32_t>(c), e * 1000 + c, 0, 0, float(c), false);
  return events;
}

TEST(CustomerShare, TheSharesOfAllProcessesAreTheRowsInOrderOnceEach) {
  const jm::EventTable all = table_of(300, 4);
  for (const int processes : {1, 2, 5}) {
    std::vector<int> seen_by(all.size(), 0);
    for (int process = 0; process < processes; ++process) {
      jm::EventTable share = all;
      const int64_t kept = jm::keep_own_customers(share, process, processes);
      ASSERT_EQ(kept, static_cast<int64_t>(share.size()));
      EXPECT_EQ(share.customers.size(), all.customers.size()) << "the dictionaries stay whole";
      share.check_consistent();
      // Rows keep their order: timestamps identify them (e * 1000 + c) and rise.
      size_t at = 0;
      for (size_t row = 0; row < share.size(); ++row) {
        while (at < all.size() && all.timestamp_ms[at] != share.timestamp_ms[row]) ++at;
        ASSERT_LT(at, all.size()) << "row " << row << " out of order or unknown";
        EXPECT_EQ(jm::owner_of_customer(all.customers.name(all.customer[at]), processes), process);
        ++seen_by[at];
      }
    }
    for (const int seen : seen_by) EXPECT_EQ(seen, 1) << processes << " processes";
  }
}

TEST(EventExchange, InAGroupOfOneEveryEventStaysInOrder) {
  jm::EventTable share = table_of(50, 3);
  share.touchpoints.encode("cart");
  share.touchpoint[7] = 1;
  const jm::EventTable own = jm::exchange_events(jm::process_group(), share);
  ASSERT_EQ(own.size(), share.size());
  EXPECT_EQ(own.touchpoints.names(), share.touchpoints.names());
  EXPECT_EQ(own.channels.names(), share.channels.names());
  for (size_t row = 0; row < share.size(); ++row) {
    EXPECT_EQ(own.customers.name(static_cast<int32_t>(own.customer[row])),
              share.customers.name(static_cast<int32_t>(share.customer[row])));
    EXPECT_EQ(own.timestamp_ms[row], share.timestamp_ms[row]);
    EXPECT_EQ(own.touchpoint[row], share.touchpoint[row]);
    EXPECT_EQ(own.value[row], share.value[row]);
  }
  own.check_consistent();
}

TEST(DistributedInput, OneCsvFileIsReadInSharesOtherInputsWhole) {
  const std::filesystem::path dir = jm::testing::scratch_dir();
  jm::RunConfig config;
  config.input_path = jm::testing::write_file(dir / "events.csv", "customer_id,timestamp,touchpoint\na,1,home\n");
  std::string why;
  EXPECT_TRUE(jm::readable_in_shares(config, &why)) << why;
  config.input_path = jm::testing::write_file(dir / "events.spmf", "1 -1 2 -1 -2\n");
  EXPECT_TRUE(jm::readable_in_shares(config, &why)) << why;
  config.csv.on_error = jm::OnError::Skip;
  EXPECT_FALSE(jm::readable_in_shares(config, &why));
  EXPECT_EQ(why, "SPMF with --on-error skip");
  config.csv.on_error = jm::OnError::Fail;
  config.input_path = (dir / "events.csv").string();
  config.outcome.label_file = "labels.csv";
  EXPECT_FALSE(jm::readable_in_shares(config, &why));
  EXPECT_EQ(why, "a label file");
  config.outcome.label_file.clear();
  config.input_path = (dir / "missing.csv").string();
  EXPECT_FALSE(jm::readable_in_shares(config, &why));
}

TEST(OutcomeStats, PartsAddUpToTheWholeListTiesInTouchpointOrder) {
  jm::Vocabulary touchpoints;
  for (const char* name : {"zeta", "alpha", "mid", "beta", "omega", "gamma", "late"}) touchpoints.encode(name);
  jm::OutcomeStats first, second;
  first.same_instant_events = 6;
  first.same_instant_by_touchpoint = {1, 1, 0, 2, 0, 1, 1};
  second.same_instant_events = 5;
  second.same_instant_by_touchpoint = {1, 1, 3, 0, 0, 0, 0};
  second.label_file_rows = 4;
  jm::OutcomeStats total;
  jm::add_outcome_stats(total, first, touchpoints);
  jm::add_outcome_stats(total, second, touchpoints);
  EXPECT_EQ(total.same_instant_events, 11);
  EXPECT_EQ(total.label_file_rows, 4);  // each part's reading of the whole label file
  // mid 3; zeta, alpha, beta 2 (touchpoint order); then gamma and late 1: the first of them.
  EXPECT_EQ(total.same_instant_touchpoints,
            (std::vector<std::pair<std::string, int64_t>>{{"mid", 3}, {"zeta", 2}, {"alpha", 2}, {"beta", 2}, {"gamma", 1}}));
  // A group of one: the process's own counts, listed the same way.
  jm::OutcomeStats own = first;
  const jm::OutcomeStats alone = jm::outcome_stats_of_all(jm::process_group(), own, touchpoints);
  EXPECT_EQ(alone.same_instant_events, 6);
  EXPECT_EQ(alone.same_instant_touchpoints,
            (std::vector<std::pair<std::string, int64_t>>{{"beta", 2}, {"zeta", 1}, {"alpha", 1}, {"gamma", 1}, {"late", 1}}));
}

}  // namespace
