// Scalar reference quantization, dequantization and dot products: the truth every SIMD kernel
// is tested against. Formats follow ggml (ggml-common.h / ggml-quants.c); the code is ours.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "common/errors.h"
#include "runtime/quant.h"
#include "runtime/quant_blocks.h"

namespace mecllm::runtime {

// ---- half precision -----------------------------------------------------------------------

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    // zero or subnormal: mant * 2^-24 is exact in binary32
    float f = static_cast<float>(mant) * 0x1.0p-24f;
    std::memcpy(&u, &f, sizeof u);
    u |= sign;
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (mant << 13);
  } else {
    u = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint16_t fp32_to_fp16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) {  // inf stays inf, NaN stays a quiet NaN with its top payload bits
    return static_cast<uint16_t>(sign | 0x7c00u | (a > 0x7f800000u ? (0x200u | ((a >> 13) & 0x3ffu)) : 0u));
  }
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (a < 0x38800000u) {
    // Result is subnormal or zero: adding 0.5f aligns the value so that the FPU's own
    // round-to-nearest-even drops exactly the bits binary16 cannot hold.
    float fa;
    std::memcpy(&fa, &a, sizeof fa);
    fa += 0.5f;
    uint32_t r;
    std::memcpy(&r, &fa, sizeof r);
    return static_cast<uint16_t>(sign | (r - 0x3f000000u));
  }
  // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest even.
  const uint32_t odd = (a >> 13) & 1u;
  a += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu + odd;
  return static_cast<uint16_t>(sign | (a >> 13));
}

void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}
void bf16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}
void fp32_to_bf16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

// ---- Q4_0 -----------------------------------------------------------------------------------

void quantize_row_q4_0_ref(const float* x, block_q4_0* y, int64_t k) {
  MECLLM_CHECK(k % QK4_0 == 0, "q4_0 row of {} values", k);
  for (int64_t b = 0; b < k / QK4_0; ++b) {
    const float* xb = x + b * QK4_0;
    // The value of largest magnitude maps to -8, so the full signed range [-8, 7] is used.
    float amax = 0.0f, vmax = 0.0f;
    for (int j = 0; j < QK4_0; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        vmax = xb[j];
      }
    }
    const float d = vmax / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(xb[j] * id + 8.5f)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(xb[j + QK4_0 / 2] * id + 8.5f)));
      y[b].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t k) {
  MECLLM_CHECK(k % QK4_0 == 0, "q4_0 row of {} values", k);
  for (int64_t b = 0; b < k / QK4_0; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      y[b * QK4_0 + j] = static_cast<float>((x[b].qs[j] & 0x0F) - 8) * d;
      y[b * QK4_0 + j + QK4_0 / 2] = static_cast<float>((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

// ---- Q8_0 -----------------------------------------------------------------------------------

void quantize_row_q8_0_ref(const float* x, block_q8_0* y, int64_t k) {
  MECLLM_CHECK(k % QK8_0 == 0, "q8_0 row of {} values", k);
  for (int64_t b = 0; b < k / QK8_0; ++b) {
    const float* xb = x + b * QK8_0;
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < QK8_0; ++j) y[b].qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
  }
}

void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t k) {
  MECLLM_CHECK(k % QK8_0 == 0, "q8_0 row of {} values", k);
  for (int64_t b = 0; b < k / QK8_0; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < QK8_0; ++j) y[b * QK8_0 + j] = static_cast<float>(x[b].qs[j]) * d;
  }
}

// ---- Q4_K -----------------------------------------------------------------------------------

namespace {

// Fits x ~ scale * q - mn with q in [0, 15] and mn >= 0 for one 32-value sub-block. Starts from
// the min/max grid and tries a few stretched grids, each followed by a least-squares refit of
// (scale, mn) for the chosen q; keeps the fit with the least squared error.
void fit_scale_min_4bit(const float* x, float* scale_out, float* min_out) {
  constexpr int n = 32;
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);  // the offset only ever subtracts (as ggml), so 0 stays representable
  if (hi <= lo) {
    *scale_out = 0.0f;
    *min_out = -lo;
    return;
  }
  float best_scale = (hi - lo) / 15.0f, best_min = -lo;
  auto error_of = [&](float s, float m) {
    float e = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int q = std::clamp(static_cast<int>(std::nearbyint((x[i] + m) / s)), 0, 15);
      const float diff = s * static_cast<float>(q) - m - x[i];
      e += diff * diff;
    }
    return e;
  };
  float best_err = error_of(best_scale, best_min);
  for (int step = -4; step <= 8; ++step) {
    const float iscale = (15.0f + 0.1f * static_cast<float>(step)) / (hi - lo);
    int q[n];
    for (int i = 0; i < n; ++i) q[i] = std::clamp(static_cast<int>(std::nearbyint(iscale * (x[i] - lo))), 0, 15);
    // least squares for x_i ~ s * q_i + c
    double sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (int i = 0; i < n; ++i) {
      sq += q[i];
      sqq += static_cast<double>(q[i]) * q[i];
      sx += x[i];
      sqx += static_cast<double>(q[i]) * x[i];
    }
    const double det = n * sqq - sq * sq;
    if (det <= 0) continue;
    double s = (n * sqx - sq * sx) / det;
    double c = (sqq * sx - sq * sqx) / det;
    if (c > 0) {  // the offset must subtract; refit the scale alone with c = 0
      c = 0;
      s = sqq > 0 ? sqx / sqq : 0;
    }
    if (s <= 0) continue;
    const float err = error_of(static_cast<float>(s), static_cast<float>(-c));
    if (err < best_err) {
      best_err = err;
      best_scale = static_cast<float>(s);
      best_min = static_cast<float>(-c);
    }
  }
  *scale_out = best_scale;
  *min_out = best_min;
}

}  // namespace

void quantize_row_q4_K_ref(const float* x, block_q4_K* y, int64_t k) {
  MECLLM_CHECK(k % QK_K == 0, "q4_K row of {} values", k);
  for (int64_t b = 0; b < k / QK_K; ++b) {
    const float* xb = x + b * QK_K;
    float scales[8], mins[8];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
      fit_scale_min_4bit(xb + 32 * j, &scales[j], &mins[j]);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    // Scales and mins are themselves quantized to 6 bits against two fp16 super-scales.
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
      ls[j] = static_cast<uint8_t>(std::min(63, static_cast<int>(std::nearbyint(inv_scale * scales[j]))));
      lm[j] = static_cast<uint8_t>(std::min(63, static_cast<int>(std::nearbyint(inv_min * mins[j]))));
    }
    set_scales_mins_k4(ls, lm, y[b].scales);
    y[b].d = fp32_to_fp16(max_scale / 63.0f);
    y[b].dmin = fp32_to_fp16(max_min / 63.0f);
    // Requantize the values with the scales as they will be decoded.
    const float d = fp16_to_fp32(y[b].d), dmin = fp16_to_fp32(y[b].dmin);
    uint8_t q[QK_K];
    for (int j = 0; j < 8; ++j) {
      const float dd = d * ls[j], dm = dmin * lm[j];
      for (int i = 0; i < 32; ++i) {
        q[32 * j + i] = dd == 0.0f ? 0
                                   : static_cast<uint8_t>(std::clamp(
                                         static_cast<int>(std::nearbyint((xb[32 * j + i] + dm) / dd)), 0, 15));
      }
    }
    for (int j = 0; j < QK_K; j += 64) {
      for (int i = 0; i < 32; ++i) y[b].qs[j / 2 + i] = static_cast<uint8_t>(q[j + i] | (q[j + 32 + i] << 4));
    }
  }
}

void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t k) {
  MECLLM_CHECK(k % QK_K == 0, "q4_K row of {} values", k);
  for (int64_t b = 0; b < k / QK_K; ++b) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    const uint8_t* q = x[b].qs;
    float* yb = y + b * QK_K;
    for (int j = 0; j < 8; j += 2) {
      uint8_t sc0, m0, sc1, m1;
      get_scale_min_k4(j, x[b].scales, &sc0, &m0);
      get_scale_min_k4(j + 1, x[b].scales, &sc1, &m1);
      const float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
      for (int i = 0; i < 32; ++i) yb[32 * j + i] = d0 * static_cast<float>(q[i] & 0x0F) - mm0;
      for (int i = 0; i < 32; ++i) yb[32 * j + 32 + i] = d1 * static_cast<float>(q[i] >> 4) - mm1;
      q += 32;
    }
  }
}

// ---- dot products ---------------------------------------------------------------------------

float vec_dot_f32(const float* x, const float* y, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

float vec_dot_f16_f32(const uint16_t* x, const float* y, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += fp16_to_fp32(x[i]) * y[i];
  return s;
}

float vec_dot_bf16_f32(const uint16_t* x, const float* y, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += bf16_to_fp32(x[i]) * y[i];
  return s;
}

namespace {
// Sum over 32-blocks of each block's integer dot times both blocks' scales: every block type with
// one scale per 32 values (Q4_0, Q8_0) dots with Q8_0 this way; int_dot gives the integer part.
template <typename Block, typename IntDot>
float scaled_block_sum(const Block* x, const block_q8_0* y, int64_t nb, IntDot int_dot) {
  float s = 0.0f;
  for (int64_t b = 0; b < nb; ++b) s += static_cast<float>(int_dot(x[b], y[b])) * (fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
  return s;
}
}  // namespace

float vec_dot_q4_0_q8_0(const block_q4_0* x, const block_q8_0* y, int64_t n) {
  MECLLM_CHECK(n % QK4_0 == 0, "q4_0 dot of {} values", n);
  return scaled_block_sum(x, y, n / QK4_0, [](const block_q4_0& xb, const block_q8_0& yb) {
    int sumi = 0;
    for (int j = 0; j < QK4_0 / 2; ++j) {
      sumi += ((xb.qs[j] & 0x0F) - 8) * yb.qs[j];
      sumi += ((xb.qs[j] >> 4) - 8) * yb.qs[j + QK4_0 / 2];
    }
    return sumi;
  });
}

float vec_dot_q8_0_q8_0(const block_q8_0* x, const block_q8_0* y, int64_t n) {
  MECLLM_CHECK(n % QK8_0 == 0, "q8_0 dot of {} values", n);
  return scaled_block_sum(x, y, n / QK8_0, [](const block_q8_0& xb, const block_q8_0& yb) {
    int sumi = 0;
    for (int j = 0; j < QK8_0; ++j) sumi += xb.qs[j] * yb.qs[j];
    return sumi;
  });
}

float vec_dot_q4_K_q8_0(const block_q4_K* x, const block_q8_0* y, int64_t n) {
  MECLLM_CHECK(n % QK_K == 0, "q4_K dot of {} values", n);
  float s = 0.0f;
  for (int64_t b = 0; b < n / QK_K; ++b) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    const block_q8_0* yb = y + b * (QK_K / QK8_0);
    float sb = 0.0f;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, x[b].scales, &sc, &m);
      const uint8_t* q = x[b].qs + 32 * (j / 2);
      const int shift = (j % 2) * 4;
      int sumi = 0, sumy = 0;
      for (int i = 0; i < 32; ++i) {
        sumi += ((q[i] >> shift) & 0x0F) * yb[j].qs[i];
        sumy += yb[j].qs[i];
      }
      sb += fp16_to_fp32(yb[j].d) * (d * static_cast<float>(sc * sumi) - dmin * static_cast<float>(m * sumy));
    }
    s += sb;
  }
  return s;
}

// ---- traits table ---------------------------------------------------------------------------

namespace {

void f32_to_float(const void* x, float* y, int64_t n) { std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float)); }
void f32_from_float(const float* x, void* y, int64_t n) { std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float)); }

// The typed row functions above behind the untyped signatures of QuantTraits.
template <typename T, void (*F)(const T*, float*, int64_t)>
void to_float_as(const void* x, float* y, int64_t n) { F(static_cast<const T*>(x), y, n); }
template <typename T, void (*F)(const float*, T*, int64_t)>
void from_float_as(const float* x, void* y, int64_t n) { F(x, static_cast<T*>(y), n); }
template <typename X, typename Y, float (*F)(const X*, const Y*, int64_t)>
float dot_as(const void* x, const void* y, int64_t n) { return F(static_cast<const X*>(x), static_cast<const Y*>(y), n); }

const QuantTraits kF32{"f32", 1, sizeof(float), false, 32, f32_to_float, f32_from_float,
                       dot_as<float, float, vec_dot_f32>, QuantType::F32};
const QuantTraits kF16{"f16", 1, sizeof(uint16_t), false, 16, to_float_as<uint16_t, fp16_to_fp32_row>,
                       from_float_as<uint16_t, fp32_to_fp16_row>, dot_as<uint16_t, float, vec_dot_f16_f32>, QuantType::F32};
const QuantTraits kBF16{"bf16", 1, sizeof(uint16_t), false, 16, to_float_as<uint16_t, bf16_to_fp32_row>,
                        from_float_as<uint16_t, fp32_to_bf16_row>, dot_as<uint16_t, float, vec_dot_bf16_f32>, QuantType::F32};
const QuantTraits kQ4_0{"q4_0", QK4_0, sizeof(block_q4_0), true, 4, to_float_as<block_q4_0, dequantize_row_q4_0>,
                        from_float_as<block_q4_0, quantize_row_q4_0_ref>,
                        dot_as<block_q4_0, block_q8_0, vec_dot_q4_0_q8_0>, QuantType::Q8_0};
const QuantTraits kQ8_0{"q8_0", QK8_0, sizeof(block_q8_0), true, 8, to_float_as<block_q8_0, dequantize_row_q8_0>,
                        from_float_as<block_q8_0, quantize_row_q8_0_ref>,
                        dot_as<block_q8_0, block_q8_0, vec_dot_q8_0_q8_0>, QuantType::Q8_0};
const QuantTraits kQ4_K{"q4_k", QK_K, sizeof(block_q4_K), true, 4, to_float_as<block_q4_K, dequantize_row_q4_K>,
                        from_float_as<block_q4_K, quantize_row_q4_K_ref>,
                        dot_as<block_q4_K, block_q8_0, vec_dot_q4_K_q8_0>, QuantType::Q8_0};

}  // namespace

const QuantTraits& traits(QuantType t) {
  switch (t) {
    case QuantType::F32: return kF32;
    case QuantType::F16: return kF16;
    case QuantType::BF16: return kBF16;
    case QuantType::Q4_0: return kQ4_0;
    case QuantType::Q8_0: return kQ8_0;
    case QuantType::Q4_K: return kQ4_K;
  }
  MECLLM_CHECK(false, "QuantType {} is not a supported type", static_cast<int32_t>(t));
  return kF32;  // unreachable
}

std::optional<QuantType> quant_type_from_ggml_id(int32_t id) {
  for (QuantType t : kAllQuantTypes) {
    if (static_cast<int32_t>(t) == id) return t;
  }
  return std::nullopt;
}

std::optional<QuantType> quant_type_from_name(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (QuantType t : kAllQuantTypes) {
    if (lower == traits(t).name) return t;
  }
  return std::nullopt;
}

const char* quant_type_name(QuantType t) { return traits(t).name; }

bool row_fits(QuantType t, int64_t n) { return n > 0 && n % traits(t).block_size == 0; }

size_t row_size(QuantType t, int64_t n) {
  const QuantTraits& tr = traits(t);
  MECLLM_CHECK(n >= 0 && n % tr.block_size == 0, "a {} row of {} values (block size {})", tr.name, n, tr.block_size);
  return static_cast<size_t>(n / tr.block_size) * tr.type_size;
}

}  // namespace mecllm::runtime
