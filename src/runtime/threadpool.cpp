#include "runtime/threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>

#include "common/errors.h"

namespace mecllm::runtime {

namespace {

// Spin iterations before sleeping: long enough to bridge the short serial gaps between the
// parallel steps of one forward pass, short enough not to burn a shared core when idle.
constexpr int kSpinIterations = 4000;
constexpr int kEpochShift = 40, kCountShift = 20;
constexpr uint64_t kFieldMask = (uint64_t{1} << 20) - 1;  // 20-bit chunk count / index
constexpr int64_t kMaxChunks = static_cast<int64_t>(kFieldMask);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
  if (n_threads < 1) throw InputError(fmt::format("threads = {}, expected at least 1", n_threads));
  if (n_threads > 1024) throw InputError(fmt::format("threads = {}, expected at most 1024", n_threads));
  threads_.reserve(static_cast<size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  wake_.fetch_add(1);
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::work(uint64_t epoch, int thread) {
  for (;;) {
    in_flight_.fetch_add(1);  // before the claim: the caller cannot leave while we may hold one
    uint64_t v = state_.load();
    bool claimed = false;
    uint64_t take = 1;
    while ((v >> kEpochShift) == epoch && (v & kFieldMask) < ((v >> kCountShift) & kFieldMask)) {
      // guided: a claim takes 1 / (2 threads) of what is left, at least one chunk, so the first
      // claims are long runs of consecutive chunks and the last ones single chunks
      const uint64_t left = ((v >> kCountShift) & kFieldMask) - (v & kFieldMask);
      take = std::max<uint64_t>(1, left / (2 * static_cast<uint64_t>(n_threads_)));
      if (state_.compare_exchange_weak(v, v + take)) {
        claimed = true;
        break;
      }
    }
    if (claimed) {
      const Job* job = job_.load();
      const int64_t begin = static_cast<int64_t>(v & kFieldMask) * job->grain;
      const int64_t end = std::min(job->n, begin + static_cast<int64_t>(take) * job->grain);
      try {
        (*job->fn)(begin, end, thread);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    in_flight_.fetch_sub(1);
    if (!claimed) return;
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n, 0);
    return;
  }
  grain = std::max(grain, (n + kMaxChunks - 1) / kMaxChunks);
  const uint64_t n_chunks = static_cast<uint64_t>((n + grain - 1) / grain);
  const Job job{&fn, n, grain};
  const uint64_t epoch = ((state_.load() >> kEpochShift) + 1) & ((uint64_t{1} << 24) - 1);
  error_ = nullptr;
  job_.store(&job);
  state_.store((epoch << kEpochShift) | (n_chunks << kCountShift));
  wake_.fetch_add(1);
  wake_.notify_all();
  work(epoch, 0);
  // every chunk is claimed; wait for those still running on workers
  for (int spin = 0; in_flight_.load() != 0; ++spin) {
    if (spin < kSpinIterations) cpu_relax();
    else std::this_thread::yield();
  }
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::run(const Fn& fn) {
  const int parts = n_threads_;
  parallel_for(parts, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t p = b; p < e; ++p) fn(static_cast<int>(p), parts);
  });
}

void ThreadPool::worker(int index) {
  // wake_ is 0 until the first loop or the destructor bumps it; reading it here instead could
  // miss a bump made before this thread started (and then sleep through the destructor).
  uint32_t seen = 0;
  for (;;) {
    uint32_t now = wake_.load();
    for (int spin = 0; now == seen; ++spin) {
      if (spin < kSpinIterations) cpu_relax();
      else wake_.wait(seen);
      now = wake_.load();
    }
    seen = now;
    if (stop_.load()) return;
    work(state_.load() >> kEpochShift, index);
  }
}

}  // namespace mecllm::runtime
