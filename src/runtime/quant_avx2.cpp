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

#include <cstring>

#include "runtime/quant_blocks.h"
#include "runtime/rows8.h"

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

// ---- kernels on a prepared activation (ActQ8) ------------------------------------------------

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// Round half away from zero, as std::round: trunc(v) plus sign(v) where |v - trunc(v)| >= 0.5
// (v - trunc(v) is exact, so this equals the reference bit for bit; _mm256_round_ps's
// nearest mode would round ties to even).
inline __m256 round_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
  const __m256 step = _mm256_or_ps(sign, _mm256_set1_ps(1.0f));
  return _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
}

// The lanes of the byte pack below come out as [a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7] (in
// 4-byte groups); this permutation restores a0-7 b0-7 c0-7 d0-7. The same index turns the lanes
// [b0 b2 b4 b6 | b1 b3 b5 b7] of the pairwise reduction back into b0..b7.
inline __m256i natural_order() { return _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7); }

// Quantises one 32-block as quantize_row_q8_0_ref does and returns the sum of its quants.
inline int32_t quantize_block_q8_0(const float* x, block_q8_0* y) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_loadu_ps(x + 8 * i);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float d = _mm_cvtss_f32(m) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y->d = static_cast<uint16_t>(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
  const __m256 vid = _mm256_set1_ps(id);
  __m256i q[4];
  for (int i = 0; i < 4; ++i) q[i] = _mm256_cvtps_epi32(round_away(_mm256_mul_ps(v[i], vid)));
  const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
  const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(y->qs), _mm256_permutevar8x32_epi32(packed, natural_order()));
  return hsum_i32(sum);
}

void quantize_act(const float* x, std::byte* row, int64_t n) {
  const ActQ8 a = act_q8_view(row, n);
  auto* q = const_cast<block_q8_0*>(a.q);
  auto* d = const_cast<float*>(a.d);
  auto* sum = const_cast<int32_t*>(a.sum);
  auto* pairs = const_cast<int8_t*>(a.pairs);
  const int64_t nb = n / QK8_0;
  for (int64_t b = 0; b < nb; ++b) {
    sum[b] = quantize_block_q8_0(x + b * QK8_0, q + b);
    d[b] = half(q[b].d);
  }
  for (int64_t b = 0; b + 1 < nb; b += 2) {
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q[b].qs));
    const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q[b + 1].qs));
    auto* p = reinterpret_cast<__m256i*>(pairs + b * QK8_0);
    _mm256_storeu_si256(p, _mm256_permute2x128_si256(q0, q1, 0x20));
    _mm256_storeu_si256(p + 1, _mm256_permute2x128_si256(q0, q1, 0x31));
  }
}

// The eight fp16 scales `d` of eight consecutive blocks (any block struct with `d` first) as
// floats. The halves are gathered in general registers (four per 64-bit word), which keeps the
// vector shuffle ports, the kernels' bottleneck, free.
template <typename Block>
inline __m256 scales8(const Block* x) {
  auto four = [](const Block* b) {
    return static_cast<int64_t>(b[0].d | static_cast<uint64_t>(b[1].d) << 16 | static_cast<uint64_t>(b[2].d) << 32 |
                                static_cast<uint64_t>(b[3].d) << 48);
  };
  return _mm256_cvtph_ps(_mm_set_epi64x(four(x + 4), four(x)));
}

// Per-lane int32 sums of four vectors, two blocks each (lanes 0-3 block 2p, 4-7 block 2p+1), as
// one vector of the eight block sums in block order.
inline __m256i block_sums8(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
  return _mm256_permutevar8x32_epi32(h, natural_order());
}

// The int32 sums of eight vectors (one block each) as one vector in block order: two hadd
// levels leave [s0 s1 s2 s3 | s0 s1 s2 s3], half-sums of v[0-3] and of v[4-7], then the halves add.
inline __m256i block_sums8(const __m256i v[8]) {
  const __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  const __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20), _mm256_permute2x128_si256(h0, h1, 0x31));
}

// Each block type below gives `acc`, the dot product of one weight row with the prepared
// activation as eight float lanes still to be added, over the whole 8-block (Q4_K: 256-block)
// steps, and `tail`, the remaining blocks' part as a float (0 when there are none).

// Q4_0: eight blocks per step. Two blocks' nibbles come in with one 256-bit load and meet the
// pair-ordered activation; the unsigned nibbles q (0..15) multiply directly (maddubs: unsigned by
// signed, pair sums <= 2 * 15 * 127, two of them still fit int16), and sum((q - 8) y) is
// completed per block as sum(q y) - 8 sum(y) with the prepared sums.
struct Q4_0Rows {
  static __m256 acc(const std::byte* row, const ActQ8& y, int64_t n) {
    const block_q4_0* x = reinterpret_cast<const block_q4_0*>(row);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b + 8 <= n / QK4_0; b += 8) {
      __m256i v[4];
      for (int p = 0; p < 4; ++p) {
        const block_q4_0* x0 = x + b + 2 * p;
        const __m256i raw = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(x0[1].qs),
                                                reinterpret_cast<const __m128i*>(x0[0].qs));
        const __m256i lo = _mm256_and_si256(raw, low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
        const int8_t* yp = y.pairs + (b + 2 * p) * QK8_0;
        const __m256i s16 = _mm256_add_epi16(
            _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yp))),
            _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yp + 32))));
        v[p] = _mm256_madd_epi16(s16, ones16);
      }
      const __m256i ysum8 = _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.sum + b)), 3);
      const __m256i sums = _mm256_sub_epi32(block_sums8(v[0], v[1], v[2], v[3]), ysum8);
      const __m256 scale = _mm256_mul_ps(scales8(x + b), _mm256_loadu_ps(y.d + b));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc);
    }
    return acc;
  }
  static float tail(const std::byte* row, const ActQ8& y, int64_t n) {
    const block_q4_0* x = reinterpret_cast<const block_q4_0*>(row);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    float s = 0.0f;
    for (int64_t b = n / QK4_0 / 8 * 8; b < n / QK4_0; ++b) {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs));
      const __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low4);
      const __m256i p = _mm256_madd_epi16(
          _mm256_maddubs_epi16(q, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.q[b].qs))), _mm256_set1_epi16(1));
      s += static_cast<float>(hsum_i32(p) - 8 * y.sum[b]) * (half(x[b].d) * y.d[b]);
    }
    return s;
  }
};

// Q8_0: eight blocks per step, the per-block integer dots reduced together and scaled once.
// (Eight single-block dots into block_sums8; the former pairwise lane permutes first cost eight
// more shuffles per step for the same sums.)
struct Q8_0Rows {
  static __m256i block_dot(const block_q8_0* x, const ActQ8& y, int64_t i) {
    return dot_i8x32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs)),
                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.q[i].qs)));
  }
  static __m256 acc(const std::byte* row, const ActQ8& y, int64_t n) {
    const block_q8_0* x = reinterpret_cast<const block_q8_0*>(row);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b + 8 <= n / QK8_0; b += 8) {
      __m256i d[8];
      for (int i = 0; i < 8; ++i) d[i] = block_dot(x, y, b + i);
      const __m256i sums = block_sums8(d);
      const __m256 scale = _mm256_mul_ps(scales8(x + b), _mm256_loadu_ps(y.d + b));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc);
    }
    return acc;
  }
  static float tail(const std::byte* row, const ActQ8& y, int64_t n) {
    const block_q8_0* x = reinterpret_cast<const block_q8_0*>(row);
    float s = 0.0f;
    for (int64_t b = n / QK8_0 / 8 * 8; b < n / QK8_0; ++b) {
      s += static_cast<float>(hsum_i32(block_dot(x, y, b))) * (half(x[b].d) * y.d[b]);
    }
    return s;
  }
};

// Q4_K: per super-block the eight sub-block dots are reduced to one vector, then scaled by
// d * sc_j * dy_j; the mins term dmin * m_j * dy_j * sum_j uses the prepared sums.
struct Q4_KRows {
  static __m256 acc(const std::byte* row, const ActQ8& y, int64_t n) {
    const block_q4_K* x = reinterpret_cast<const block_q4_K*>(row);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / QK_K; ++b) {
      const int64_t j0 = b * (QK_K / QK8_0);
      __m256i v[8];
      for (int p = 0; p < 4; ++p) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * p));
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.q[j0 + 2 * p].qs));
        const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.q[j0 + 2 * p + 1].qs));
        v[2 * p] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(raw, low4), y0), ones16);
        v[2 * p + 1] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(raw, 4), low4), y1), ones16);
      }
      const __m256i sums = block_sums8(v);
      // the 6-bit scales and mins (layout in get_scale_min_k4), unpacked four at a time
      uint32_t u[3];
      std::memcpy(u, x[b].scales, sizeof u);
      const uint32_t sc03 = u[0] & 0x3f3f3f3fu, m03 = u[1] & 0x3f3f3f3fu;
      const uint32_t sc47 = (u[2] & 0x0f0f0f0fu) | ((u[0] >> 2) & 0x30303030u);
      const uint32_t m47 = ((u[2] >> 4) & 0x0f0f0f0fu) | ((u[1] >> 2) & 0x30303030u);
      const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32(static_cast<int>(sc03), static_cast<int>(sc47), 0, 0)));
      const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32(static_cast<int>(m03), static_cast<int>(m47), 0, 0)));
      const __m256 dy = _mm256_loadu_ps(y.d + j0);
      const __m256 ysum = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.sum + j0)));
      acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(sc, dy)), _mm256_set1_ps(half(x[b].d)), acc);
      accm = _mm256_fmadd_ps(_mm256_mul_ps(ysum, _mm256_mul_ps(mn, dy)), _mm256_set1_ps(half(x[b].dmin)), accm);
    }
    return _mm256_sub_ps(acc, accm);
  }
  static float tail(const std::byte*, const ActQ8&, int64_t) { return 0.0f; }
};

// out[r] = row r . y for `rows` rows `row_bytes` apart. Four rows share one horizontal
// reduction, and the rows of a call run back to back, so the end of one row overlaps the start
// of the next instead of waiting on its reduction.
template <class K>
void act_gemv(const std::byte* w, size_t row_bytes, int64_t rows, const ActQ8& y, int64_t n, float* out) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const std::byte* w0 = w + static_cast<size_t>(r) * row_bytes;
    const __m256 a0 = K::acc(w0, y, n), a1 = K::acc(w0 + row_bytes, y, n);
    const __m256 a2 = K::acc(w0 + 2 * row_bytes, y, n), a3 = K::acc(w0 + 3 * row_bytes, y, n);
    // two hadds leave [r0lo r1lo r2lo r3lo | r0hi r1hi r2hi r3hi]; the halves add to the four sums
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    _mm_storeu_ps(out + r, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    for (int i = 0; i < 4; ++i) out[r + i] += K::tail(w0 + static_cast<size_t>(i) * row_bytes, y, n);
  }
  // a row outside a 4-group is reduced in the same order as inside one, so every row's result
  // is the same wherever a chunk boundary puts it (thread counts, fused steps: tested)
  for (; r < rows; ++r) {
    const std::byte* wr = w + static_cast<size_t>(r) * row_bytes;
    const __m256 a = K::acc(wr, y, n);
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, a), _mm256_hadd_ps(a, a));
    out[r] = _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    out[r] += K::tail(wr, y, n);
  }
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

// ---- attention over the KV cache ------------------------------------------------------------

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline float load1(const float* p) { return *p; }
inline float load1(const uint16_t* p) { return half(*p); }

// row . q over the whole 8-value steps, as eight lanes still to be added.
template <typename T>
inline __m256 row_dot8(const T* row, const float* q, int64_t hs) {
  __m256 a = _mm256_setzero_ps();
  for (int64_t i = 0; i + 8 <= hs; i += 8) a = _mm256_fmadd_ps(load8(row + i), _mm256_loadu_ps(q + i), a);
  return a;
}
template <typename T>
inline float row_dot_tail(const T* row, const float* q, int64_t hs) {
  float s = 0.0f;
  for (int64_t i = hs / 8 * 8; i < hs; ++i) s += load1(row + i) * q[i];
  return s;
}

// Four positions share one horizontal reduction (as act_gemv's rows); they are independent, so
// their FMA chains overlap.
template <typename T>
void attn_scores(const void* rows, size_t stride, int64_t n_rows, const float* q, int64_t hs, float scale, float* scores) {
  const T* k = static_cast<const T*>(rows);
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) {
    const T* k0 = k + static_cast<size_t>(r) * stride;
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(row_dot8(k0, q, hs), row_dot8(k0 + stride, q, hs)),
                                    _mm256_hadd_ps(row_dot8(k0 + 2 * stride, q, hs), row_dot8(k0 + 3 * stride, q, hs)));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    if (hs % 8 != 0) {
      s4 = _mm_add_ps(s4, _mm_setr_ps(row_dot_tail(k0, q, hs), row_dot_tail(k0 + stride, q, hs),
                                      row_dot_tail(k0 + 2 * stride, q, hs), row_dot_tail(k0 + 3 * stride, q, hs)));
    }
    _mm_storeu_ps(scores + r, _mm_mul_ps(s4, _mm_set1_ps(scale)));
  }
  for (; r < n_rows; ++r) {
    const T* kr = k + static_cast<size_t>(r) * stride;
    scores[r] = (hsum(row_dot8(kr, q, hs)) + row_dot_tail(kr, q, hs)) * scale;
  }
}

// out[0..8W) = sum_i w[i] row i[0..8W): W accumulators stay in registers over every position.
template <int W, typename T>
inline void mix_columns(const float* w, const T* v, size_t stride, int64_t n_rows, float* out) {
  __m256 a[W];
  for (int j = 0; j < W; ++j) a[j] = _mm256_setzero_ps();
  for (int64_t r = 0; r < n_rows; ++r) {
    const __m256 wr = _mm256_set1_ps(w[r]);
    const T* row = v + static_cast<size_t>(r) * stride;
    for (int j = 0; j < W; ++j) a[j] = _mm256_fmadd_ps(wr, load8(row + 8 * j), a[j]);
  }
  for (int j = 0; j < W; ++j) _mm256_storeu_ps(out + 8 * j, a[j]);
}

// Columns in blocks of 64, 32, 8 values, then one at a time; each block reads every position
// once (different cache lines of each row), so nothing is read twice.
template <typename T>
void attn_mix(const float* w, const void* rows, size_t stride, int64_t n_rows, int64_t hs, float* out) {
  const T* v = static_cast<const T*>(rows);
  int64_t c = 0;
  for (; c + 64 <= hs; c += 64) mix_columns<8>(w, v + c, stride, n_rows, out + c);
  for (; c + 32 <= hs; c += 32) mix_columns<4>(w, v + c, stride, n_rows, out + c);
  for (; c + 8 <= hs; c += 8) mix_columns<1>(w, v + c, stride, n_rows, out + c);
  for (; c < hs; ++c) {
    float s = 0.0f;
    for (int64_t r = 0; r < n_rows; ++r) s += w[r] * load1(v + static_cast<size_t>(r) * stride + c);
    out[c] = s;
  }
}

// Constant-initialised (no code runs at start-up, so nothing AVX2 executes before the CPU check).
// vec_dot order follows quant_type_index: F32, F16, Q4_0, Q8_0, Q4_K, BF16.
constexpr KernelTable kTable{"avx2",  {dot_f32, dot_f16, dot_q4_0, dot_q8_0, dot_q4_K, dot_bf16},
                             axpy_f32, axpy_f16, dot_f16, quantize_act,
                             {nullptr, nullptr, act_gemv<Q4_0Rows>, act_gemv<Q8_0Rows>, act_gemv<Q4_KRows>, nullptr},
                             attn_scores<float>, attn_scores<uint16_t>, attn_mix<float>, attn_mix<uint16_t>,
                             {nullptr, nullptr, act_gemv8_q4_0_avx2, act_gemv8_q8_0_avx2, nullptr, nullptr}};

}  // namespace

const KernelTable* avx2_kernel_table() { return &kTable; }

}  // namespace mecllm::runtime

#else

namespace mecllm::runtime {
const KernelTable* avx2_kernel_table() { return nullptr; }
}  // namespace mecllm::runtime

#endif
