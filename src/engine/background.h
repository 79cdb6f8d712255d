// BackgroundWorker: one thread that runs maintenance (sealing memtables, compaction) in the
// order it was scheduled. Running everything on one thread keeps seals of a collection in
// order and keeps compaction and sealing of the same collection from racing.
// Thread-safety: safe to call from several threads at once.
#pragma once

#include <deque>
#include <functional>
#include <thread>

#include "base/mutex.h"

namespace nearstore::engine {

class BackgroundWorker {
 public:
  BackgroundWorker() : thread_([this] { Loop(); }) {}
  ~BackgroundWorker() { Stop(); }
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  // Returns false (and drops the task) once Stop() has been called.
  bool Schedule(std::function<void()> task) {
    {
      base::MutexLock lock(mu_);
      if (stopping_) return false;
      tasks_.push_back(std::move(task));
    }
    cv_.NotifyAll();
    return true;
  }

  // Runs what is scheduled, then stops the thread. Idempotent.
  void Stop() {
    {
      base::MutexLock lock(mu_);
      stopping_ = true;
    }
    cv_.NotifyAll();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    base::MutexLock lock(mu_);
    for (;;) {
      while (!stopping_ && tasks_.empty()) cv_.Wait(mu_);
      if (tasks_.empty()) return;  // stopping, and nothing left
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  base::Mutex mu_;
  base::CondVar cv_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace nearstore::engine
