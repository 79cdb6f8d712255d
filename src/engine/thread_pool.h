// A fixed pool of worker threads for searches. ParallelFor runs n tasks on the pool and the
// calling thread together and returns when all are done; several callers may use the pool at
// once (their tasks interleave).
// Thread-safety: safe to call from several threads at once.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace nearstore::engine {

class ThreadPool {
 public:
  // `threads` workers in total, counting the caller: threads - 1 are started.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, n), spread over the pool; returns when all calls returned.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

 private:
  struct Job;
  void WorkerLoop();

  base::Mutex mu_;
  base::CondVar cv_;
  std::deque<Job*> jobs_ GUARDED_BY(mu_);  // jobs with tasks not yet claimed
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// Calls fn(i) for every i in [0, n) (say, the queries of a batch) in runs of consecutive items,
// about four runs per thread of `pool` (null: all on the caller): enough runs to balance,
// few enough that scheduling costs nothing.
void ForEachSpread(ThreadPool* pool, size_t n, const std::function<void(size_t)>& fn);

}  // namespace nearstore::engine
