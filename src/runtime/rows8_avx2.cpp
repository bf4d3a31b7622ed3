// AVX2 kernels of the rows8 layout (rows8.h). Compiled with -mavx2 -mfma -mf16c and entered only
// through the kernel table after the CPU check. Lane i of every vector belongs to row 8g + i:
// a 256-bit load of one chunk brings four quant bytes of each row, the activation's matching
// four bytes are broadcast to all lanes, and maddubs + madd leave each row's partial sum in its
// lane, so nothing is reduced across lanes.
#include "runtime/rows8.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>

#include <cstring>

#include "runtime/quant_blocks.h"

namespace mecllm::runtime {

namespace {

// Software prefetch this far ahead of the block column being read. On this Zen 3 VM the kernels
// otherwise leave memory idle while they compute (docs/runtime.md, "Interleaved rows"): with it,
// 96 MiB of weights at 2 threads went from 15.8-20.5 to 18.7-25.1 GB/s (Q4_0) and from
// 16.9-20.4 to 22.9-23.2 GB/s (Q8_0), distances 512-4096 tried.
constexpr size_t kPrefetchAhead = 2048;
template <size_t kColumnBytes>
inline void prefetch_column(const std::byte* column) {
  for (size_t line = 0; line < kColumnBytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(column + kPrefetchAhead + line), _MM_HINT_T0);
}

inline __m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

// acc (row lanes) += float(isum) * (eight rows' d * d_y), the reference kernel's order.
inline __m256 scale_add(__m256i isum, const std::byte* column, float dy, __m256 acc) {
  const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(column)));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, _mm256_set1_ps(dy)), acc);
}

// A block column starts with the eight rows' fp16 scales; the quant chunks follow.
constexpr size_t kScaleBytes = kRows8 * sizeof(uint16_t);

// The loop every rows8 kernel shares: per group, per block column, prefetch ahead, the eight
// rows' integer sums of block b (`block_isum(quant chunks, y quants, b)`, lane i = row i), scale.
template <size_t kColumn, typename BlockIsum>
inline void gemv8(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out, BlockIsum block_isum) {
  const int64_t blocks = n / QK8_0;
  for (int64_t g = 0; g < groups; ++g) {
    const std::byte* column = w + static_cast<size_t>(g * blocks) * kColumn;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b, column += kColumn) {
      prefetch_column<kColumn>(column);
      acc = scale_add(block_isum(column + kScaleBytes, y.q[b].qs, b), column, y.d[b], acc);
    }
    _mm256_storeu_ps(out + 8 * g, acc);
  }
}

}  // namespace

// Q4_0: per block four chunks; each gives the rows' low nibbles (values 4c..4c+3) and high
// nibbles (values 16+4c..), unsigned 0..15 straight into maddubs. Eight products add in int16
// (|each| <= 2 * 15 * 128, eight of them < 2^15), then sum((q - 8) y) = sum(q y) - 8 sum(y).
void act_gemv8_q4_0_avx2(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i ones16 = _mm256_set1_epi16(1);
  gemv8<8 * sizeof(block_q4_0)>(w, groups, y, n, out, [&](const std::byte* quants, const int8_t* yq, int64_t b) {
    __m256i s16 = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(quants + 32 * c));
      s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(raw, low4), broadcast4(yq + 4 * c)));
      s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(raw, 4), low4),
                                                       broadcast4(yq + 16 + 4 * c)));
    }
    return _mm256_sub_epi32(_mm256_madd_epi16(s16, ones16), _mm256_set1_epi32(8 * y.sum[b]));
  });
}

// Q8_0: per block eight chunks of signed bytes; maddubs takes |w| and y with w's sign, and each
// chunk's int16 pairs widen to int32 at once (two of them could overflow int16).
void act_gemv8_q8_0_avx2(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out) {
  const __m256i ones16 = _mm256_set1_epi16(1);
  gemv8<8 * sizeof(block_q8_0)>(w, groups, y, n, out, [&](const std::byte* quants, const int8_t* yq, int64_t) {
    __m256i isum = _mm256_setzero_si256();
    for (int c = 0; c < 8; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(quants + 32 * c));
      const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(broadcast4(yq + 4 * c), q));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, ones16));
    }
    return isum;
  });
}

}  // namespace mecllm::runtime

#endif
