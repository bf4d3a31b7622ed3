// The thread pool: every item of a loop runs exactly once whatever the chunking, and an idle pool
// stops spinning (its workers sleep), so it costs no CPU between uses.
#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "runtime/threadpool.h"

using mecllm::runtime::ThreadPool;

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

TEST(ThreadPool, every_item_runs_once_for_odd_sizes_and_grains) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 7, 229, 1000}) {
      for (int64_t grain : {1, 3, 64}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int> misaligned{0};
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int) {
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
          if (b % grain != 0 || (e % grain != 0 && e != n)) misaligned.fetch_add(1);  // rows8 relies on it
        });
        EXPECT_EQ(misaligned.load(), 0) << "ranges start and end on chunk boundaries";
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "threads " << threads << " n " << n << " grain " << grain;
        }
      }
    }
  }
}

TEST(ThreadPool, idle_workers_sleep_instead_of_spinning) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  pool.parallel_for(1000, 10, [&](int64_t b, int64_t e, int) { sum.fetch_add(e - b); });
  ASSERT_EQ(sum.load(), 1000);
  // the workers spin for a bounded time (well under a millisecond) after a loop, then block
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double cpu0 = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double idle_cpu = process_cpu_seconds() - cpu0;
  EXPECT_LT(idle_cpu, 0.02) << "two idle workers used " << idle_cpu << " s of CPU in 0.2 s";
}
