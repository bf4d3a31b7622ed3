// Matrix-vector throughput of each weight type at each SIMD level (Google Benchmark):
// a (rows x cols) weight times one activation row, reported as weight bytes read per second,
// with the scalar kernel of the same type as the reference in the same run.
//   bench_kernels --benchmark_filter=q8_0
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/clock.h"
#include "common/rng.h"
#include "runtime/bench_model.h"
#include "runtime/kernels.h"
#include "runtime/quant.h"
#include "runtime/rows8.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// A (rows x cols) weight of `type` from normal values and one activation row, seeded.
struct Matvec {
  static constexpr int64_t rows = 1024, cols = 4096;
  size_t row_bytes;
  std::vector<std::byte> w;
  std::vector<float> x, y;
  explicit Matvec(QuantType type) : row_bytes(row_size(type, cols)), x(cols), y(rows) {
    Rng rng(1);
    std::vector<float> wf(static_cast<size_t>(rows * cols));
    for (auto& v : wf) v = static_cast<float>(rng.normal());
    for (auto& v : x) v = static_cast<float>(rng.normal());
    w.resize(row_bytes * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) traits(type).from_float_ref(wf.data() + r * cols, w.data() + r * row_bytes, cols);
  }
};

void bm_matvec(benchmark::State& state, QuantType type, SimdLevel level) {
  if (static_cast<int>(level) > static_cast<int>(detect_simd_level())) {
    state.SkipWithError("SIMD level not available on this CPU");
    return;
  }
  Matvec m(type);
  const QuantType act_type = traits(type).vec_dot_type;
  std::vector<std::byte> xq(row_size(act_type, m.cols));
  traits(act_type).from_float_ref(m.x.data(), xq.data(), m.cols);
  const VecDotFn dot = kernel_table(level).vec_dot[quant_type_index(type)];
  for (auto _ : state) {
    for (int64_t r = 0; r < m.rows; ++r) m.y[static_cast<size_t>(r)] = dot(m.w.data() + r * m.row_bytes, xq.data(), m.cols);
    benchmark::DoNotOptimize(m.y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(m.w.size()));
}

// The block types as the engine runs them: the activation prepared once (quantize_act), the
// rows through the prepared-activation kernel (kernels.h act_gemv), or with `rows8` the weight
// packed once and read by the rows8 kernel (rows8.h); also times the preparation.
void bm_matvec_act(benchmark::State& state, QuantType type, SimdLevel level, bool rows8) {
  const KernelTable& k = kernel_table(level);
  const int ti = quant_type_index(type);
  if (static_cast<int>(level) > static_cast<int>(detect_simd_level()) ||
      (rows8 ? k.act_gemv8[ti] == nullptr : k.act_gemv[ti] == nullptr)) {
    state.SkipWithError("no prepared-activation kernel at this SIMD level on this CPU");
    return;
  }
  Matvec m(type);
  std::vector<std::byte> act(act_q8_bytes(m.cols));
  if (rows8) {
    std::vector<std::byte> packed(m.w.size());
    pack_rows8(type, m.w.data(), m.rows, m.cols, packed.data());
    m.w.swap(packed);
  }
  for (auto _ : state) {
    k.quantize_act(m.x.data(), act.data(), m.cols);
    const ActQ8 y = act_q8_view(act.data(), m.cols);
    if (rows8) k.act_gemv8[ti](m.w.data(), m.rows / kRows8, y, m.cols, m.y.data());
    else k.act_gemv[ti](m.w.data(), m.row_bytes, m.rows, y, m.cols, m.y.data());
    benchmark::DoNotOptimize(m.y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(m.w.size()));
}

// The prepared-activation kernel streaming its weights from memory, as generation does: one
// 768-column matrix (the 110M shape's width) copied until the weights fill 96 MiB, three times
// the L3 here, read once per iteration on one thread. The reference is the machine's streaming
// read bandwidth on one thread (BandwidthProbe, as `bench model --roofline`) measured in the same
// run: `share` = kernel bytes/s / streaming bytes/s, the kernel's part of the roofline gap.
// `rows8`: the same weights packed and read by the rows8 kernel (what the engine runs for Q4_0
// and Q8_0), so the two layouts are compared in one run.
void bm_matvec_act_memory(benchmark::State& state, QuantType type, bool rows8) {
  const KernelTable& k = kernel_table(detect_simd_level());
  if (k.act_gemv[quant_type_index(type)] == nullptr) {
    state.SkipWithError("no prepared-activation kernel on this CPU");
    return;
  }
  constexpr int64_t cols = 768, tile_rows = 1024;
  constexpr size_t total_bytes = size_t{96} << 20;
  const size_t row_bytes = row_size(type, cols);
  Rng rng(1);
  std::vector<float> wf(static_cast<size_t>(tile_rows * cols)), x(cols);
  for (auto& v : wf) v = static_cast<float>(rng.normal());
  for (auto& v : x) v = static_cast<float>(rng.normal());
  const size_t tile_bytes = row_bytes * tile_rows;
  const int64_t rows = static_cast<int64_t>(total_bytes / tile_bytes) * tile_rows;
  std::vector<std::byte> w(static_cast<size_t>(rows) * row_bytes);
  for (int64_t r = 0; r < tile_rows; ++r) traits(type).from_float_ref(wf.data() + r * cols, w.data() + r * row_bytes, cols);
  for (size_t off = tile_bytes; off < w.size(); off += tile_bytes) std::memcpy(w.data() + off, w.data(), tile_bytes);
  std::vector<std::byte> act(act_q8_bytes(cols));
  k.quantize_act(x.data(), act.data(), cols);
  std::vector<float> y(static_cast<size_t>(rows));
  const ActGemvFn gemv = k.act_gemv[quant_type_index(type)];
  const ActGemv8Fn gemv8 = k.act_gemv8[quant_type_index(type)];
  if (rows8) {
    std::vector<std::byte> packed(w.size());
    pack_rows8(type, w.data(), rows, cols, packed.data());
    w.swap(packed);
  }
  const double stream_gbs = measure_read_bandwidth(total_bytes, 1);
  const auto t0 = SteadyClock::now();
  for (auto _ : state) {
    if (rows8) gemv8(w.data(), rows / kRows8, act_q8_view(act.data(), cols), cols, y.data());
    else gemv(w.data(), row_bytes, rows, act_q8_view(act.data(), cols), cols, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  const double kernel_gbs = static_cast<double>(w.size()) * static_cast<double>(state.iterations()) /
                            std::max(1e-9, seconds_since(t0)) / 1e9;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
  state.counters["stream_GBps"] = stream_gbs;
  state.counters["share"] = kernel_gbs / std::max(1e-9, stream_gbs);
}

}  // namespace

#define MATVEC(TYPE, NAME)                                                                    \
  BENCHMARK_CAPTURE(bm_matvec, NAME##_scalar, QuantType::TYPE, SimdLevel::scalar);            \
  BENCHMARK_CAPTURE(bm_matvec, NAME##_avx2, QuantType::TYPE, SimdLevel::avx2);                \
  BENCHMARK_CAPTURE(bm_matvec, NAME##_avx512, QuantType::TYPE, SimdLevel::avx512);

#define MATVEC_ACT(TYPE, NAME)                                                                \
  BENCHMARK_CAPTURE(bm_matvec_act, NAME##_prepared_avx2, QuantType::TYPE, SimdLevel::avx2, false);   \
  BENCHMARK_CAPTURE(bm_matvec_act, NAME##_prepared_avx512, QuantType::TYPE, SimdLevel::avx512, false);

MATVEC(F32, f32)
MATVEC(F16, f16)
MATVEC(BF16, bf16)
MATVEC(Q8_0, q8_0)
MATVEC(Q4_0, q4_0)
MATVEC(Q4_K, q4_k)
MATVEC_ACT(Q8_0, q8_0)
MATVEC_ACT(Q4_0, q4_0)
MATVEC_ACT(Q4_K, q4_k)
BENCHMARK_CAPTURE(bm_matvec_act, q8_0_rows8_avx2, QuantType::Q8_0, SimdLevel::avx2, true);
BENCHMARK_CAPTURE(bm_matvec_act, q4_0_rows8_avx2, QuantType::Q4_0, SimdLevel::avx2, true);
BENCHMARK_CAPTURE(bm_matvec_act_memory, q8_0, QuantType::Q8_0, false)->UseRealTime();
BENCHMARK_CAPTURE(bm_matvec_act_memory, q8_0_rows8, QuantType::Q8_0, true)->UseRealTime();
BENCHMARK_CAPTURE(bm_matvec_act_memory, q4_0, QuantType::Q4_0, false)->UseRealTime();
BENCHMARK_CAPTURE(bm_matvec_act_memory, q4_0_rows8, QuantType::Q4_0, true)->UseRealTime();
BENCHMARK_CAPTURE(bm_matvec_act_memory, q4_k, QuantType::Q4_K, false)->UseRealTime();

BENCHMARK_MAIN();
