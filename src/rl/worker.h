// A second thread for the trainer's two-way splits (rl.ppo.worker_threads = 2): run() hands it one
// task, wait() blocks until the task is done (and rethrows its exception). It sleeps on a
// condition variable between tasks, so it costs nothing on a loaded machine, unlike spinning
// OpenMP/OpenBLAS pools (which made torch_threads = 2 many times slower there, measured).
// Each split has a fixed shape (which rows go to which thread, in which order the parts are
// added), so a run is deterministic for a given worker_threads; 1 and 2 differ by float rounding.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace mecllm::rl {

class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      task_ = std::move(task);
      busy_ = true;
      error_ = nullptr;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return !busy_; });
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      cv_.wait(lk, [this] { return quit_ || (busy_ && task_); });
      if (quit_) return;
      auto task = std::move(task_);
      task_ = nullptr;
      lk.unlock();
      std::exception_ptr err;
      try {
        task();
      } catch (...) {
        err = std::current_exception();
      }
      lk.lock();
      error_ = err;
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool busy_ = false, quit_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: started after the members above exist
};

// Runs `mine` on the calling thread and `theirs` on the worker (or both here, in order, when
// there is no worker); returns when both are done.
inline void run_pair(Worker* w, const std::function<void()>& mine, const std::function<void()>& theirs) {
  if (!w) {
    mine();
    theirs();
    return;
  }
  w->run(theirs);
  try {
    mine();
  } catch (...) {
    w->wait();
    throw;
  }
  w->wait();
}

}  // namespace mecllm::rl
