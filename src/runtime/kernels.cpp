// Kernel dispatch: builds one complete table per SIMD level by layering the per-arch tables
// over the scalar reference, and picks the level from the CPU once.
#include "runtime/kernels.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <cstdlib>
#include <string_view>

#include "common/errors.h"
#include "common/log.h"
#include "runtime/quant_blocks.h"
#include "runtime/rows8.h"

namespace mecllm::runtime {

namespace {

void axpy_f32_ref(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
void axpy_f16_ref(float a, const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * fp16_to_fp32(x[i]);
}
float dot_f16_f32_ref(const void* x, const void* y, int64_t n) {
  return vec_dot_f16_f32(static_cast<const uint16_t*>(x), static_cast<const float*>(y), n);
}

// Attention on the reference level: one reference dot / axpy per cached position.
void attn_scores_f32_ref(const void* rows, size_t stride, int64_t n_rows, const float* q, int64_t hs, float scale,
                         float* scores) {
  const float* k = static_cast<const float*>(rows);
  for (int64_t i = 0; i < n_rows; ++i) scores[i] = vec_dot_f32(k + static_cast<size_t>(i) * stride, q, hs) * scale;
}
void attn_scores_f16_ref(const void* rows, size_t stride, int64_t n_rows, const float* q, int64_t hs, float scale,
                         float* scores) {
  const uint16_t* k = static_cast<const uint16_t*>(rows);
  for (int64_t i = 0; i < n_rows; ++i) scores[i] = vec_dot_f16_f32(k + static_cast<size_t>(i) * stride, q, hs) * scale;
}
void attn_mix_f32_ref(const float* w, const void* rows, size_t stride, int64_t n_rows, int64_t hs, float* out) {
  const float* v = static_cast<const float*>(rows);
  std::fill(out, out + hs, 0.0f);
  for (int64_t i = 0; i < n_rows; ++i) axpy_f32_ref(w[i], v + static_cast<size_t>(i) * stride, out, hs);
}
void attn_mix_f16_ref(const float* w, const void* rows, size_t stride, int64_t n_rows, int64_t hs, float* out) {
  const uint16_t* v = static_cast<const uint16_t*>(rows);
  std::fill(out, out + hs, 0.0f);
  for (int64_t i = 0; i < n_rows; ++i) axpy_f16_ref(w[i], v + static_cast<size_t>(i) * stride, out, hs);
}

// The prepared activation of the reference level: Q8_0 blocks by the reference quantiser, then
// the float scales, the sums and the pair order derived from them.
void quantize_act_ref(const float* x, std::byte* row, int64_t n) {
  MECLLM_CHECK(n % QK8_0 == 0, "prepared activation of {} values", n);
  const ActQ8 a = act_q8_view(row, n);
  auto* q = const_cast<block_q8_0*>(a.q);
  quantize_row_q8_0_ref(x, q, n);
  const int64_t nb = n / QK8_0;
  auto* d = const_cast<float*>(a.d);
  auto* sum = const_cast<int32_t*>(a.sum);
  auto* pairs = const_cast<int8_t*>(a.pairs);
  for (int64_t b = 0; b < nb; ++b) {
    d[b] = fp16_to_fp32(q[b].d);
    int32_t s = 0;
    for (int j = 0; j < QK8_0; ++j) s += q[b].qs[j];
    sum[b] = s;
  }
  constexpr size_t kHalf = QK8_0 / 2;
  for (int64_t b = 0; b + 1 < nb; b += 2) {
    int8_t* p = pairs + b * QK8_0;
    std::memcpy(p, q[b].qs, kHalf);
    std::memcpy(p + kHalf, q[b + 1].qs, kHalf);
    std::memcpy(p + 2 * kHalf, q[b].qs + kHalf, kHalf);
    std::memcpy(p + 3 * kHalf, q[b + 1].qs + kHalf, kHalf);
  }
}

KernelTable scalar_table() {
  KernelTable t;
  t.name = "scalar";
  for (QuantType q : kAllQuantTypes) t.vec_dot[quant_type_index(q)] = traits(q).vec_dot;
  t.axpy_f32 = axpy_f32_ref;
  t.axpy_f16 = axpy_f16_ref;
  t.dot_f16_f32 = dot_f16_f32_ref;
  t.quantize_act = quantize_act_ref;
  t.attn_scores_f32 = attn_scores_f32_ref;
  t.attn_scores_f16 = attn_scores_f16_ref;
  t.attn_mix_f32 = attn_mix_f32_ref;
  t.attn_mix_f16 = attn_mix_f16_ref;
  t.act_gemv8[quant_type_index(QuantType::Q4_0)] = act_gemv8_q4_0_ref;
  t.act_gemv8[quant_type_index(QuantType::Q8_0)] = act_gemv8_q8_0_ref;
  return t;
}

// `over`'s non-null entries replace `base`'s.
KernelTable layer(const KernelTable& base, const KernelTable* over) {
  KernelTable t = base;
  if (over == nullptr) return t;
  t.name = over->name;
  for (int i = 0; i < kNumQuantTypes; ++i) {
    if (over->vec_dot[i] != nullptr) t.vec_dot[i] = over->vec_dot[i];
  }
  if (over->axpy_f32 != nullptr) t.axpy_f32 = over->axpy_f32;
  if (over->axpy_f16 != nullptr) t.axpy_f16 = over->axpy_f16;
  if (over->dot_f16_f32 != nullptr) t.dot_f16_f32 = over->dot_f16_f32;
  if (over->quantize_act != nullptr) t.quantize_act = over->quantize_act;
  if (over->attn_scores_f32 != nullptr) t.attn_scores_f32 = over->attn_scores_f32;
  if (over->attn_scores_f16 != nullptr) t.attn_scores_f16 = over->attn_scores_f16;
  if (over->attn_mix_f32 != nullptr) t.attn_mix_f32 = over->attn_mix_f32;
  if (over->attn_mix_f16 != nullptr) t.attn_mix_f16 = over->attn_mix_f16;
  for (int i = 0; i < kNumQuantTypes; ++i) {
    if (over->act_gemv[i] != nullptr) t.act_gemv[i] = over->act_gemv[i];
    if (over->act_gemv8[i] != nullptr) t.act_gemv8[i] = over->act_gemv8[i];
  }
  return t;
}

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}
bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

struct Tables {
  std::array<KernelTable, 3> by_level;
  SimdLevel detected = SimdLevel::scalar;
  Tables() {
    by_level[0] = scalar_table();
    const KernelTable* a2 = cpu_has_avx2() ? avx2_kernel_table() : nullptr;
    const KernelTable* a5 = cpu_has_avx512() ? avx512_kernel_table() : nullptr;
    by_level[1] = layer(by_level[0], a2);
    by_level[2] = layer(by_level[1], a5);
    detected = a5 ? SimdLevel::avx512 : a2 ? SimdLevel::avx2 : SimdLevel::scalar;
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

SimdLevel level_from_env(SimdLevel detected) {
  const char* env = std::getenv("MECLLM_SIMD");
  if (env == nullptr) return detected;
  const std::string_view v(env);
  SimdLevel want = detected;
  if (v == "scalar") want = SimdLevel::scalar;
  else if (v == "avx2") want = SimdLevel::avx2;
  else if (v == "avx512") want = SimdLevel::avx512;
  else log_warn("MECLLM_SIMD={} is not scalar|avx2|avx512; using {}", v, simd_level_name(detected));
  return static_cast<int>(want) <= static_cast<int>(detected) ? want : detected;
}

std::atomic<int>& active_level() {
  static std::atomic<int> level{static_cast<int>(level_from_env(tables().detected))};
  return level;
}

}  // namespace

namespace {
constexpr size_t round_up32(size_t v) { return (v + 31) / 32 * 32; }
}  // namespace

size_t act_q8_bytes(int64_t n) {
  const size_t nb = static_cast<size_t>(n / QK8_0);
  return round_up32(nb * sizeof(block_q8_0)) + 2 * round_up32(nb * sizeof(float)) + nb * QK8_0;
}

ActQ8 act_q8_view(const std::byte* row, int64_t n) {
  const size_t nb = static_cast<size_t>(n / QK8_0);
  const std::byte* d = row + round_up32(nb * sizeof(block_q8_0));
  const std::byte* sum = d + round_up32(nb * sizeof(float));
  const std::byte* pairs = sum + round_up32(nb * sizeof(int32_t));
  return ActQ8{reinterpret_cast<const block_q8_0*>(row), reinterpret_cast<const float*>(d),
               reinterpret_cast<const int32_t*>(sum), reinterpret_cast<const int8_t*>(pairs)};
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::scalar: return "scalar";
    case SimdLevel::avx2: return "avx2";
    case SimdLevel::avx512: return "avx512";
  }
  return "?";
}

int quant_type_index(QuantType t) {
  switch (t) {
    case QuantType::F32: return 0;
    case QuantType::F16: return 1;
    case QuantType::Q4_0: return 2;
    case QuantType::Q8_0: return 3;
    case QuantType::Q4_K: return 4;
    case QuantType::BF16: return 5;
  }
  MECLLM_CHECK(false, "QuantType {} is not a supported type", static_cast<int32_t>(t));
  return 0;
}

bool prepared_act_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("MECLLM_PREPARED_ACT");
    return env == nullptr || std::string_view(env) != "off";
  }();
  return enabled;
}

SimdLevel detect_simd_level() { return tables().detected; }

SimdLevel active_simd_level() { return static_cast<SimdLevel>(active_level().load(std::memory_order_relaxed)); }

SimdLevel set_simd_level(SimdLevel level) {
  const SimdLevel detected = detect_simd_level();
  const SimdLevel set = static_cast<int>(level) <= static_cast<int>(detected) ? level : detected;
  active_level().store(static_cast<int>(set), std::memory_order_relaxed);
  return set;
}

const KernelTable& kernel_table(SimdLevel level) {
  const Tables& t = tables();
  const int i = std::min(static_cast<int>(level), static_cast<int>(t.detected));
  return t.by_level[static_cast<size_t>(i)];
}

}  // namespace mecllm::runtime
