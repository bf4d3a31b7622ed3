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
// rows through the prepared-activation kernel (kernels.h act_gemv); also times the preparation.
void bm_matvec_act(benchmark::State& state, QuantType type, SimdLevel level) {
  const KernelTable& k = kernel_table(level);
  if (static_cast<int>(level) > static_cast<int>(detect_simd_level()) || k.act_gemv[quant_type_index(type)] == nullptr) {
    state.SkipWithError("no prepared-activation kernel at this SIMD level on this CPU");
    return;
  }
  Matvec m(type);
  std::vector<std::byte> act(act_q8_bytes(m.cols));
  const ActGemvFn gemv = k.act_gemv[quant_type_index(type)];
  for (auto _ : state) {
    k.quantize_act(m.x.data(), act.data(), m.cols);
    gemv(m.w.data(), m.row_bytes, m.rows, act_q8_view(act.data(), m.cols), m.cols, m.y.data());
    benchmark::DoNotOptimize(m.y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(m.w.size()));
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
