// The process group of one process, the customer owner hash and the customer share: what a run
// over several processes rests on, checked without a launcher (tests/distributed/
// test_mine_across_processes.cpp runs several processes under mpirun).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "host/distributed/customer_share.hpp"
#include "host/distributed/process_group.hpp"
#include "journeymap/common.hpp"

namespace {

TEST(ProcessGroup, AProcessStartedWithoutALauncherIsAGroupOfOne) {
  ASSERT_FALSE(jm::started_by_mpi_launcher());
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

TEST(CustomerShare, OutcomeCountsOfOneProcessAreItsOwn) {
  jm::OutcomeStats own;
  own.outcome_events = 7;
  own.journeys_without_events = 2;
  own.same_instant_touchpoints = {{"page\tview\n", 3}, {"checkout", 9}};
  const jm::OutcomeStats total = jm::outcome_stats_of_all(jm::process_group(), own);
  EXPECT_EQ(total.outcome_events, 7);
  EXPECT_EQ(total.journeys_without_events, 2);
  EXPECT_EQ(total.same_instant_touchpoints,
            (std::vector<std::pair<std::string, int64_t>>{{"checkout", 9}, {"page\tview\n", 3}}));
}

}  // namespace
