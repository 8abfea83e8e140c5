// The processes of a run played by threads of one test: each thread holds a ThreadProcessGroup of
// its own rank, and the collectives meet in a shared exchange. For unit tests of code that takes a
// ProcessGroup, without a launcher; every collective is built on all_gather, as MPI's group builds
// gather_to_first and agree on its primitives. A body that fails on one thread while the others
// wait in a collective leaves them waiting (the test's timeout ends it), as MPI would.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/core/records.hpp"
#include "host/distributed/process_group.hpp"

namespace jm::testing {

class ThreadExchange {
 public:
  explicit ThreadExchange(int size) : size_(size), slots_(static_cast<size_t>(size)) {}

  // Blocks until every rank has put its bytes in; then each gets all of them, in rank order.
  std::vector<std::string> all_gather(int rank, const std::string& bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t generation = generation_;
    slots_[static_cast<size_t>(rank)] = bytes;
    if (++arrived_ == size_) {
      gathered_ = slots_;
      arrived_ = 0;
      ++generation_;
      ready_.notify_all();
      return gathered_;
    }
    // The next exchange cannot complete before this rank joins it, so gathered_ stays this one's.
    ready_.wait(lock, [&] { return generation_ != generation; });
    return gathered_;
  }
  int size() const { return size_; }

 private:
  int size_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::string> slots_, gathered_;
  int arrived_ = 0;
  int64_t generation_ = 0;
};

class ThreadProcessGroup final : public ProcessGroup {
 public:
  ThreadProcessGroup(ThreadExchange& exchange, int rank) : exchange_(exchange), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return exchange_.size(); }
  void sum(std::vector<int64_t>& values) override {
    RecordWriter out;
    out.values(values);
    std::fill(values.begin(), values.end(), 0);
    for (const std::string& part : all_gather(out.take())) {
      RecordReader in(part);
      const std::vector<int64_t> theirs = in.values<int64_t>();
      for (size_t i = 0; i < values.size() && i < theirs.size(); ++i) values[i] += theirs[i];
    }
  }
  std::vector<std::string> all_gather(const std::string& bytes) override { return exchange_.all_gather(rank_, bytes); }
  std::vector<std::string> all_to_all(std::vector<std::string> outgoing) override {
    RecordWriter out;
    out.texts(outgoing);
    std::vector<std::string> incoming;
    for (const std::string& part : all_gather(out.take())) {
      RecordReader in(part);
      incoming.push_back(in.texts().at(static_cast<size_t>(rank_)));
    }
    return incoming;
  }
  [[noreturn]] void abort(int exit_code) override {
    ADD_FAILURE() << "process " << rank_ << " aborted every process with status " << exit_code;
    std::abort();
  }

 private:
  ThreadExchange& exchange_;
  int rank_;
};

/// Runs `body` on `processes` threads, each with its own rank's group; rethrows the first failure.
inline void run_on_threads(int processes, const std::function<void(ProcessGroup&)>& body) {
  ThreadExchange exchange(processes);
  std::vector<std::exception_ptr> failures(static_cast<size_t>(processes));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < processes; ++rank)
    threads.emplace_back([&, rank] {
      ThreadProcessGroup group(exchange, rank);
      try {
        body(group);
      } catch (...) {
        failures[static_cast<size_t>(rank)] = std::current_exception();
      }
    });
  for (std::thread& thread : threads) thread.join();
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);
}

}  // namespace jm::testing
