// Minimal fork-join parallelism for the CPU backends: run task 0..n-1 on up to `num_threads`
// threads. Tasks are handed out dynamically; exceptions are rethrown on the calling thread.
#pragma once

#include <cstdint>
#include <functional>

namespace jm {

/// Number of worker threads to use: `requested` when > 0, else the hardware concurrency.
int resolve_thread_count(int requested);

/// Calls `task(i)` for every i in [0, n_tasks) using up to `num_threads` threads (the caller's
/// thread is one of them). Returns when all tasks have finished. If tasks throw, the exception of
/// the lowest task index is rethrown after all threads have stopped taking new tasks.
void parallel_for(int64_t n_tasks, int num_threads, const std::function<void(int64_t)>& task);

}  // namespace jm
