#include "eval/host_probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define MECLLM_PROBE_X86 1
#endif

#include "common/clock.h"
#include "common/errors.h"

namespace mecllm::eval {

namespace {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

// Runs fn(t) on `threads` threads and returns the wall seconds of the slowest.
template <class Fn>
double run_parallel(int threads, Fn fn) {
  auto t0 = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(fn, t);
  fn(0);
  for (auto& th : pool) th.join();
  return mecllm::seconds_since(t0);
}

uint64_t sum_words(const uint64_t* p, size_t n) {
  // Four accumulators so the loop is bound by loads, not by the add chain.
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) a += p[i], b += p[i + 1], c += p[i + 2], d += p[i + 3];
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

// Each iteration does 2 FLOPs x kChains x 8 lanes.
constexpr int kChains = 10;
#ifdef MECLLM_PROBE_X86
__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t iters) {
  __m256 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm256_set1_ps(0.001f * float(j + 1));
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kChains; ++j) acc[j] = _mm256_fmadd_ps(acc[j], m, a);
  __m256 s = acc[0];
  for (int j = 1; j < kChains; ++j) s = _mm256_add_ps(s, acc[j]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}
#endif
float fma_loop_portable(int64_t iters) {
  float acc[kChains * 8];
  for (int j = 0; j < kChains * 8; ++j) acc[j] = 0.001f * float(j + 1);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kChains * 8; ++j) acc[j] = acc[j] * 0.999999f + 1e-7f;
  float s = 0;
  for (float x : acc) s += x;
  return s;
}
bool has_avx2_fma() {
#ifdef MECLLM_PROBE_X86
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
float fma_loop(int64_t iters) {
#ifdef MECLLM_PROBE_X86
  if (has_avx2_fma()) return fma_loop_avx2(iters);
#endif
  return fma_loop_portable(iters);
}

double meminfo_gb(const char* key) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream ss(line.substr(std::strlen(key)));
    double kb = 0;
    ss >> kb;
    return kb * 1024.0 / 1e9;
  }
  return 0.0;
}
}  // namespace

double measure_read_bandwidth_gbs(size_t bytes, int threads, int reps) {
  threads = resolve_threads(threads);
  MECLLM_CHECK(bytes >= 4096 && reps >= 1);
  size_t n = bytes / sizeof(uint64_t);
  auto buf = std::make_unique<uint64_t[]>(n);
  for (size_t i = 0; i < n; ++i) buf[i] = i;  // fault pages in, no zero-page sharing
  std::vector<uint64_t> sinks(static_cast<size_t>(threads));
  auto pass = [&](int t) {
    size_t lo = n * size_t(t) / size_t(threads), hi = n * size_t(t + 1) / size_t(threads);
    sinks[size_t(t)] += sum_words(buf.get() + lo, hi - lo);
  };
  run_parallel(threads, pass);  // warm-up
  double best = 0;
  for (int r = 0; r < reps; ++r) best = std::max(best, double(n * sizeof(uint64_t)) / run_parallel(threads, pass) / 1e9);
  volatile uint64_t keep = 0;
  for (uint64_t s : sinks) keep = keep + s;
  (void)keep;
  return best;
}

double measure_peak_gflops(int threads, double seconds) {
  threads = resolve_threads(threads);
  // Calibrate the iteration count on one thread, then time all threads together.
  int64_t iters = 1 << 16;
  double dt = 0;
  for (;;) {
    auto t0 = SteadyClock::now();
    volatile float sink = fma_loop(iters);
    (void)sink;
    dt = mecllm::seconds_since(t0);
    if (dt > seconds / 4 || iters > (int64_t(1) << 40)) break;
    iters *= 2;
  }
  iters = std::max<int64_t>(1, static_cast<int64_t>(double(iters) * seconds / std::max(dt, 1e-6)));
  std::vector<float> sinks(static_cast<size_t>(threads));
  double wall = run_parallel(threads, [&](int t) { sinks[size_t(t)] = fma_loop(iters); });
  volatile float keep = 0;
  for (float s : sinks) keep = keep + s;
  (void)keep;
  double flops = 2.0 * kChains * 8.0 * double(iters) * threads;
  return flops / wall / 1e9;
}

double available_memory_gb() { return meminfo_gb("MemAvailable:"); }
double total_memory_gb() { return meminfo_gb("MemTotal:"); }

DeviceClass measure_host(DeviceClass base, int threads) {
  threads = resolve_threads(threads);
  DeviceClass d = std::move(base);
  d.memory_bandwidth_gbs = measure_read_bandwidth_gbs(size_t(256) << 20, threads);
  d.memory_bandwidth_source =
      fmt::format("measured on this machine: streaming read of 256 MiB, {} threads, best of 3", threads);
  d.peak_gflops = measure_peak_gflops(threads);
  d.peak_gflops_source = fmt::format("measured on this machine: FP32 {} chains, {} threads",
                                     has_avx2_fma() ? "AVX2 FMA" : "portable multiply-add", threads);
  d.memory_gb = total_memory_gb();
  d.usable_memory_gb = available_memory_gb();
  d.usable_memory_source = "measured on this machine: MemAvailable of /proc/meminfo";
  if (d.memory_gb <= 0 || d.usable_memory_gb <= 0)
    throw InputError("/proc/meminfo: cannot read MemTotal/MemAvailable to size the host device class");
  return d;
}

}  // namespace mecllm::eval
