// A fixed set of worker threads that share the chunks of one loop at a time, as ggml's compute
// threads share the rows of a matrix product.
//
// parallel_for(n, grain, fn) cuts [0, n) into chunks of `grain` items that every thread (the
// caller included) claims from a shared atomic counter, so a thread the OS has descheduled (a
// busy machine) simply claims fewer chunks instead of stalling the rest: the caller never waits
// for a worker that has not started, only for chunks being run. Claims are guided (as OpenMP's
// schedule(guided)): one claim takes 1 / (2 threads) of the chunks left, at least one, as one
// range, so a thread streams long runs of consecutive items first and the end balances chunk by
// chunk. Ranges always start on a multiple of grain and end on one or at n. Results do not
// depend on which thread runs a range when each output is written by exactly one range.
//
// Token generation calls parallel_for ~5 times per layer per token, so the hand-off must take
// microseconds: workers spin briefly on a wake counter, then sleep on it (C++20 atomic wait, a
// futex on Linux) so an idle pool costs no CPU.
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
  // fn(begin, end, thread): items [begin, end); thread = index of the executing thread
  // (0 = caller), for per-thread scratch memory.
  using RangeFn = std::function<void(int64_t begin, int64_t end, int thread)>;
  // fn(part, n_parts): one call per part, parts claimed like chunks.
  using Fn = std::function<void(int part, int n_parts)>;

  // n_threads >= 1 (InputError naming the value otherwise); 1 runs everything on the caller.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn over [0, n) in whole chunks of grain (>= 1); rethrows the first exception raised.
  void parallel_for(int64_t n, int64_t grain, const RangeFn& fn);
  // fn(part, n_threads) for every part 0..n_threads-1, each claimed by some thread.
  void run(const Fn& fn);

  // [begin, end) of the i-th of n near-equal parts of [0, total).
  static void split(int64_t total, int part, int n_parts, int64_t* begin, int64_t* end) {
    *begin = total * part / n_parts;
    *end = total * (part + 1) / n_parts;
  }

 private:
  struct Job {
    const RangeFn* fn;
    int64_t n;
    int64_t grain;
  };
  // Claims and runs chunks of the job published with `epoch` until none is left.
  void work(uint64_t epoch, int thread);
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> threads_;
  // epoch (24 bits) | chunk count (20 bits) | next chunk (20 bits): one word, so a claim (CAS)
  // fails once the caller has moved on to another loop.
  std::atomic<uint64_t> state_{0};
  std::atomic<const Job*> job_{nullptr};
  std::atomic<int32_t> in_flight_{0};  // threads between a claim attempt and its chunk's end
  std::atomic<uint32_t> wake_{0};      // bumped per loop; sleeping workers wait on it
  std::atomic<bool> stop_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

}  // namespace mecllm::runtime
