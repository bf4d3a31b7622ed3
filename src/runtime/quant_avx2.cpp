// AVX2 + FMA + F16C kernels. This file alone is compiled with those flags (CMakeLists), and is
// only entered after kernels.cpp has checked the CPU. Every helper is file-local (anonymous
// namespace) and no shared inline function is called, so no AVX2-compiled copy of a common
// inline function can be picked by the linker for code that runs on older CPUs.
//
// Integer dot products follow the usual x86 pattern: _mm256_maddubs_epi16 multiplies unsigned
// by signed bytes, so a signed x is split into |x| and sign(x) applied to y.
#include "runtime/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>

#include "runtime/quant_blocks.h"

namespace mecllm::runtime {

namespace {

inline float hsum(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline __m256 load_bf16x8(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline float bf16(uint16_t h) {
  const __m128i w = _mm_slli_epi32(_mm_cvtsi32_si128(h), 16);
  return _mm_cvtss_f32(_mm_castsi128_ps(w));
}

float dot_f32(const void* vx, const void* vy, int64_t n) {
  const float* x = static_cast<const float*>(vx);
  const float* y = static_cast<const float*>(vy);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) s += x[i] * y[i];
  return s;
}

float dot_f16(const void* vx, const void* vy, int64_t n) {
  const uint16_t* x = static_cast<const uint16_t*>(vx);
  const float* y = static_cast<const float*>(vy);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    a0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(y + i + 8), a1);
  }
  for (; i + 8 <= n; i += 8) {
    a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))),
                         _mm256_loadu_ps(y + i), a0);
  }
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += half(x[i]) * y[i];
  return s;
}

float dot_bf16(const void* vx, const void* vy, int64_t n) {
  const uint16_t* x = static_cast<const uint16_t*>(vx);
  const float* y = static_cast<const float*>(vy);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(load_bf16x8(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(load_bf16x8(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load_bf16x8(x + i), _mm256_loadu_ps(y + i), a0);
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += bf16(x[i]) * y[i];
  return s;
}

// Sum of the 32 signed-byte products x*y as 8 int32 lanes.
inline __m256i dot_i8x32(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

float dot_q8_0(const void* vx, const void* vy, int64_t n) {
  const block_q8_0* x = static_cast<const block_q8_0*>(vx);
  const block_q8_0* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / QK8_0;
  // two blocks per step into two accumulators, so consecutive FMAs do not wait on each other
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m256i qx0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i qy0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256i qx1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b + 1].qs));
    const __m256i qy1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b].d) * half(y[b].d)), _mm256_cvtepi32_ps(dot_i8x32(qx0, qy0)), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b + 1].d) * half(y[b + 1].d)), _mm256_cvtepi32_ps(dot_i8x32(qx1, qy1)), acc1);
  }
  if (b < nb) {
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b].d) * half(y[b].d)), _mm256_cvtepi32_ps(dot_i8x32(qx, qy)), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// Low nibbles are values 0..15, high nibbles 16..31: placed in the low/high 128 bits, minus 8.
inline __m256i unpack_q4_0(const block_q4_0& b, __m256i low4, __m256i eight) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m256i q = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_sub_epi8(_mm256_and_si256(q, low4), eight);
}

float dot_q4_0(const void* vx, const void* vy, int64_t n) {
  const block_q4_0* x = static_cast<const block_q4_0*>(vx);
  const block_q8_0* y = static_cast<const block_q8_0*>(vy);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i eight = _mm256_set1_epi8(8);
  const int64_t nb = n / QK4_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m256i qx0 = unpack_q4_0(x[b], low4, eight), qx1 = unpack_q4_0(x[b + 1], low4, eight);
    const __m256i qy0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256i qy1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b].d) * half(y[b].d)), _mm256_cvtepi32_ps(dot_i8x32(qx0, qy0)), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b + 1].d) * half(y[b + 1].d)), _mm256_cvtepi32_ps(dot_i8x32(qx1, qy1)), acc1);
  }
  if (b < nb) {
    const __m256i qx = unpack_q4_0(x[b], low4, eight);
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half(x[b].d) * half(y[b].d)), _mm256_cvtepi32_ps(dot_i8x32(qx, qy)), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

inline void scale_min_k4(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

float dot_q4_K(const void* vx, const void* vy, int64_t n) {
  const block_q4_K* x = static_cast<const block_q4_K*>(vx);
  const block_q8_0* y = static_cast<const block_q8_0*>(vy);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256 acc = _mm256_setzero_ps();   // sum of d * sc * q * y
  __m256 accm = _mm256_setzero_ps();  // sum of dmin * m * y
  for (int64_t b = 0; b < n / QK_K; ++b) {
    const float d = half(x[b].d), dmin = half(x[b].dmin);
    const block_q8_0* yb = y + b * (QK_K / QK8_0);
    for (int p = 0; p < 4; ++p) {
      int sc0, m0, sc1, m1;
      scale_min_k4(2 * p, x[b].scales, &sc0, &m0);
      scale_min_k4(2 * p + 1, x[b].scales, &sc1, &m1);
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * p));
      const __m256i q0 = _mm256_and_si256(raw, low4);
      const __m256i q1 = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yb[2 * p].qs));
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yb[2 * p + 1].qs));
      const float dy0 = half(yb[2 * p].d), dy1 = half(yb[2 * p + 1].d);
      // q is unsigned 4-bit, so maddubs takes it directly (pair sums <= 2*15*128 fit int16).
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(q0, y0), ones16);
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(q1, y1), ones16);
      const __m256i s0 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, y0), ones16);
      const __m256i s1 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, y1), ones16);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(dy0 * d * static_cast<float>(sc0)), _mm256_cvtepi32_ps(p0), acc);
      acc = _mm256_fmadd_ps(_mm256_set1_ps(dy1 * d * static_cast<float>(sc1)), _mm256_cvtepi32_ps(p1), acc);
      accm = _mm256_fmadd_ps(_mm256_set1_ps(dy0 * dmin * static_cast<float>(m0)), _mm256_cvtepi32_ps(s0), accm);
      accm = _mm256_fmadd_ps(_mm256_set1_ps(dy1 * dmin * static_cast<float>(m1)), _mm256_cvtepi32_ps(s1), accm);
    }
  }
  return hsum(_mm256_sub_ps(acc, accm));
}

void axpy_f32(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

void axpy_f16(float a, const uint16_t* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * half(x[i]);
}

// Constant-initialised (no code runs at start-up, so nothing AVX2 executes before the CPU check).
// vec_dot order follows quant_type_index: F32, F16, Q4_0, Q8_0, Q4_K, BF16.
constexpr KernelTable kTable{"avx2", {dot_f32, dot_f16, dot_q4_0, dot_q8_0, dot_q4_K, dot_bf16}, axpy_f32, axpy_f16, dot_f16};

}  // namespace

const KernelTable* avx2_kernel_table() { return &kTable; }

}  // namespace mecllm::runtime

#else

namespace mecllm::runtime {
const KernelTable* avx2_kernel_table() { return nullptr; }
}  // namespace mecllm::runtime

#endif
