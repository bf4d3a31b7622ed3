// Matrix-vector throughput of each weight type at each SIMD level (Google Benchmark):
// a (rows x cols) weight times one activation row, reported as weight bytes read per second,
// with the scalar kernel of the same type as the reference in the same run.
//   bench_kernels --benchmark_filter=q8_0
#include <benchmark/benchmark.h>

#include <vector>

#include "common/rng.h"
#include "runtime/kernels.h"
#include "runtime/quant.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

void bm_matvec(benchmark::State& state, QuantType type, SimdLevel level) {
  if (static_cast<int>(level) > static_cast<int>(detect_simd_level())) {
    state.SkipWithError("SIMD level not available on this CPU");
    return;
  }
  const int64_t rows = 1024, cols = 4096;
  Rng rng(1);
  std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols)), y(static_cast<size_t>(rows));
  for (auto& v : w) v = static_cast<float>(rng.normal());
  for (auto& v : x) v = static_cast<float>(rng.normal());
  const QuantTraits& tr = traits(type);
  const size_t rb = row_size(type, cols);
  std::vector<std::byte> wq(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) tr.from_float_ref(w.data() + r * cols, wq.data() + r * rb, cols);
  std::vector<std::byte> xq(row_size(tr.vec_dot_type, cols));
  traits(tr.vec_dot_type).from_float_ref(x.data(), xq.data(), cols);
  const VecDotFn dot = kernel_table(level).vec_dot[quant_type_index(type)];
  for (auto _ : state) {
    for (int64_t r = 0; r < rows; ++r) y[static_cast<size_t>(r)] = dot(wq.data() + r * rb, xq.data(), cols);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(wq.size()));
}

// The block types as the engine runs them: the activation prepared once (quantize_act), the
// rows through the prepared-activation kernel (kernels.h act_gemv); also times the preparation.
void bm_matvec_act(benchmark::State& state, QuantType type, SimdLevel level) {
  const KernelTable& k = kernel_table(level);
  if (static_cast<int>(level) > static_cast<int>(detect_simd_level()) || k.act_gemv[quant_type_index(type)] == nullptr) {
    state.SkipWithError("no prepared-activation kernel at this SIMD level on this CPU");
    return;
  }
  const int64_t rows = 1024, cols = 4096;
  Rng rng(1);
  std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols)), y(static_cast<size_t>(rows));
  for (auto& v : w) v = static_cast<float>(rng.normal());
  for (auto& v : x) v = static_cast<float>(rng.normal());
  const size_t rb = row_size(type, cols);
  std::vector<std::byte> wq(rb * static_cast<size_t>(rows)), act(act_q8_bytes(cols));
  for (int64_t r = 0; r < rows; ++r) traits(type).from_float_ref(w.data() + r * cols, wq.data() + r * rb, cols);
  const ActGemvFn gemv = k.act_gemv[quant_type_index(type)];
  for (auto _ : state) {
    k.quantize_act(x.data(), act.data(), cols);
    gemv(wq.data(), rb, rows, act_q8_view(act.data(), cols), cols, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(wq.size()));
}

}  // namespace

#define MATVEC(TYPE, NAME)                                                                    \
  BENCHMARK_CAPTURE(bm_matvec, NAME##_scalar, QuantType::TYPE, SimdLevel::scalar);            \
  BENCHMARK_CAPTURE(bm_matvec, NAME##_avx2, QuantType::TYPE, SimdLevel::avx2);                \
  BENCHMARK_CAPTURE(bm_matvec, NAME##_avx512, QuantType::TYPE, SimdLevel::avx512);

#define MATVEC_ACT(TYPE, NAME)                                                                \
  BENCHMARK_CAPTURE(bm_matvec_act, NAME##_prepared_avx2, QuantType::TYPE, SimdLevel::avx2);   \
  BENCHMARK_CAPTURE(bm_matvec_act, NAME##_prepared_avx512, QuantType::TYPE, SimdLevel::avx512);

MATVEC(F32, f32)
MATVEC(F16, f16)
MATVEC(BF16, bf16)
MATVEC(Q8_0, q8_0)
MATVEC(Q4_0, q4_0)
MATVEC(Q4_K, q4_k)
MATVEC_ACT(Q8_0, q8_0)
MATVEC_ACT(Q4_0, q4_0)
MATVEC_ACT(Q4_K, q4_k)

BENCHMARK_MAIN();
