// AVX-512 (F + BW + VL) kernels for the float and the 8/4-bit block types; Q4_K and the attention
// helpers fall back to the AVX2 table. Compiled alone with the AVX-512 flags (CMakeLists) and
// entered only after kernels.cpp checked the CPU; helpers are file-local for the same reason as
// in quant_avx2.cpp. Memory-bound generation gains little over AVX2; prompt processing and the
// F32 path, which are compute-bound, gain most.
#include "runtime/kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__F16C__)

// GCC 12's AVX-512 intrinsic headers initialise their "undefined" vectors from themselves
// (`__m512 __Y = __Y;`), which -Wall reports at every use; the warning is about the header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "runtime/quant_blocks.h"

namespace mecllm::runtime {

namespace {

inline float half(uint16_t h) { return _cvtsh_ss(h); }

float dot_f32(const void* vx, const void* vy, int64_t n) {
  const float* x = static_cast<const float*>(vx);
  const float* y = static_cast<const float*>(vy);
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
  }
  if (i + 16 <= n) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
    i += 16;
  }
  if (i < n) {  // masked tail: lanes past n load as zero
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

float dot_f16(const void* vx, const void* vy, int64_t n) {
  const uint16_t* x = static_cast<const uint16_t*>(vx);
  const float* y = static_cast<const float*>(vy);
  __m512 a0 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 xv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    a0 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(y + i), a0);
  }
  float s = _mm512_reduce_add_ps(a0);
  for (; i < n; ++i) s += half(x[i]) * y[i];
  return s;
}

// Sum of signed-byte products of two blocks at once (64 bytes), as 16 int32 lanes: lanes 0-7
// belong to the first block, 8-15 to the second.
inline __m512i dot_i8x64(__m512i x, __m512i y) {
  const __mmask64 neg = _mm512_movepi8_mask(x);
  const __m512i ax = _mm512_abs_epi8(x);
  const __m512i sy = _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y);
  return _mm512_madd_epi16(_mm512_maddubs_epi16(ax, sy), _mm512_set1_epi16(1));
}

inline __m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

inline __m512 scales2(float lo, float hi) {
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(lo)),
                                             _mm256_castps_pd(_mm256_set1_ps(hi)), 1));
}

inline __m256i unpack_q4_0(const block_q4_0& b) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m256i q = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_sub_epi8(_mm256_and_si256(q, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

inline __m256i load32(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

float dot_q8_0(const void* vx, const void* vy, int64_t n) {
  const block_q8_0* x = static_cast<const block_q8_0*>(vx);
  const block_q8_0* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / QK8_0;
  __m512 acc = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m512i qx = join(load32(x[b].qs), load32(x[b + 1].qs));
    const __m512i qy = join(load32(y[b].qs), load32(y[b + 1].qs));
    const __m512 d = scales2(half(x[b].d) * half(y[b].d), half(x[b + 1].d) * half(y[b + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot_i8x64(qx, qy)), acc);
  }
  float s = _mm512_reduce_add_ps(acc);
  if (b < nb) {  // odd block count: the last block alone, upper half zero
    const __m512i qx = join(load32(x[b].qs), _mm256_setzero_si256());
    const __m512i qy = join(load32(y[b].qs), _mm256_setzero_si256());
    const __m512i p = dot_i8x64(qx, qy);
    s += half(x[b].d) * half(y[b].d) * static_cast<float>(_mm512_reduce_add_epi32(p));
  }
  return s;
}

float dot_q4_0(const void* vx, const void* vy, int64_t n) {
  const block_q4_0* x = static_cast<const block_q4_0*>(vx);
  const block_q8_0* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / QK4_0;
  __m512 acc = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m512i qx = join(unpack_q4_0(x[b]), unpack_q4_0(x[b + 1]));
    const __m512i qy = join(load32(y[b].qs), load32(y[b + 1].qs));
    const __m512 d = scales2(half(x[b].d) * half(y[b].d), half(x[b + 1].d) * half(y[b + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot_i8x64(qx, qy)), acc);
  }
  float s = _mm512_reduce_add_ps(acc);
  if (b < nb) {
    const __m512i qx = join(unpack_q4_0(x[b]), _mm256_setzero_si256());
    const __m512i qy = join(load32(y[b].qs), _mm256_setzero_si256());
    s += half(x[b].d) * half(y[b].d) * static_cast<float>(_mm512_reduce_add_epi32(dot_i8x64(qx, qy)));
  }
  return s;
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

// vec_dot order follows quant_type_index: F32, F16, Q4_0, Q8_0, Q4_K, BF16 (nullptr: AVX2's).
constexpr KernelTable kTable{"avx512", {dot_f32, dot_f16, dot_q4_0, dot_q8_0, nullptr, nullptr}, axpy_f32, nullptr, dot_f16};

}  // namespace

const KernelTable* avx512_kernel_table() { return &kTable; }

}  // namespace mecllm::runtime

#else

namespace mecllm::runtime {
const KernelTable* avx512_kernel_table() { return nullptr; }
}  // namespace mecllm::runtime

#endif
