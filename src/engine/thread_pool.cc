#include "engine/thread_pool.h"

#include <algorithm>

namespace nearstore::engine {

struct ThreadPool::Job {
  const std::function<void(size_t)>* fn = nullptr;
  size_t n = 0;
  // Guarded by the pool's mu_ (which GUARDED_BY cannot name from here).
  size_t next = 0;  // next task index to claim
  size_t finished = 0;
  base::CondVar done;
};

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    base::MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
  for (auto& t : workers_) t.join();
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (n == 1 || workers_.empty()) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  Job job;
  job.fn = &fn;
  job.n = n;
  base::MutexLock lock(mu_);
  jobs_.push_back(&job);
  cv_.NotifyAll();
  // The caller works on its own job too, then waits for tasks others claimed.
  while (job.next < job.n) {
    const size_t i = job.next++;
    if (job.next == job.n) std::erase(jobs_, &job);
    lock.unlock();
    fn(i);
    lock.lock();
    ++job.finished;
  }
  while (job.finished != job.n) job.done.Wait(mu_);
}

void ThreadPool::WorkerLoop() {
  base::MutexLock lock(mu_);
  for (;;) {
    while (!stop_ && jobs_.empty()) cv_.Wait(mu_);
    if (stop_) return;
    Job* job = jobs_.front();
    const size_t i = job->next++;
    if (job->next == job->n) jobs_.pop_front();
    lock.unlock();
    (*job->fn)(i);
    lock.lock();
    if (++job->finished == job->n) job->done.NotifyAll();
  }
}

void ForEachSpread(ThreadPool* pool, size_t n, const std::function<void(size_t)>& fn) {
  const size_t runs = static_cast<size_t>(pool == nullptr ? 1 : pool->size()) * 4;
  const size_t per_run = std::max<size_t>(1, (n + runs - 1) / runs);
  const size_t tasks = (n + per_run - 1) / per_run;
  auto run = [&](size_t t) {
    for (size_t i = t * per_run; i < std::min(n, (t + 1) * per_run); ++i) fn(i);
  };
  if (pool != nullptr && tasks > 1) {
    pool->ParallelFor(tasks, run);
  } else {
    for (size_t t = 0; t < tasks; ++t) run(t);
  }
}

}  // namespace nearstore::engine
