// A fixed set of worker threads that run one function on every thread at once, as ggml's
// compute threads do: run(fn) calls fn(thread_index, n_threads) on each thread (the caller is
// thread 0) and returns when all are done. Each caller splits its own work by thread index,
// so there is no task queue and no allocation per call.
//
// Token generation calls run() ~5 times per layer per token, so the hand-off must take
// microseconds: workers spin briefly on an epoch counter, then sleep on it (C++20 atomic wait,
// a futex on Linux) so an idle pool costs no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mecllm::runtime {

class ThreadPool {
 public:
  using Fn = std::function<void(int thread, int n_threads)>;

  // n_threads >= 1 (InputError naming the value otherwise); 1 runs everything on the caller.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn on every thread; rethrows the first exception any thread raised.
  void run(const Fn& fn);

  // [begin, end) of the i-th of n near-equal parts of [0, total).
  static void split(int64_t total, int part, int n_parts, int64_t* begin, int64_t* end) {
    *begin = total * part / n_parts;
    *end = total * (part + 1) / n_parts;
  }

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> epoch_{0};    // bumped once per run(); workers wait for a change
  std::atomic<int32_t> pending_{0};   // workers still running the current fn
  std::atomic<bool> stop_{false};
  const Fn* job_ = nullptr;
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace mecllm::runtime
