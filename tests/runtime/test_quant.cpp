// Quant blocks and kernels: hand-computed blocks, fp16/bf16 conversion, table-driven round-trip
// and dot-product error bounds per bit width, and SIMD kernels against the scalar truth.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "common/errors.h"
#include "common/rng.h"
#include "runtime/kernels.h"
#include "runtime/quant.h"
#include "runtime/quant_blocks.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// Round-trip RMS error relative to the RMS of standard-normal data, per type. Measured values
// (1024 normal values, seed 7): f16 2.1e-4, bf16 1.6e-3, q8_0 5.3e-3, q4_0 0.087, q4_k 0.073.
constexpr double kMaxRoundTripF16 = 1e-3;
constexpr double kMaxRoundTripBF16 = 5e-3;
constexpr double kMaxRoundTripQ8 = 0.01;
constexpr double kMaxRoundTripQ4_0 = 0.13;
constexpr double kMaxRoundTripQ4_K = 0.10;
// Dot-product error relative to |x| |y| (including the activation's own Q8_0 rounding).
constexpr double kMaxDotErrFloat = 1e-3;
constexpr double kMaxDotErrQ8 = 0.01;
constexpr double kMaxDotErrQ4 = 0.05;
// SIMD vs scalar: same integer sums, different float summation order.
constexpr double kMaxSimdRelErr = 2e-5;

double round_trip_bound(QuantType t) {
  switch (t) {
    case QuantType::F32: return 0.0;
    case QuantType::F16: return kMaxRoundTripF16;
    case QuantType::BF16: return kMaxRoundTripBF16;
    case QuantType::Q8_0: return kMaxRoundTripQ8;
    case QuantType::Q4_0: return kMaxRoundTripQ4_0;
    case QuantType::Q4_K: return kMaxRoundTripQ4_K;
  }
  return 0.0;
}

std::vector<float> normal_values(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

std::vector<std::byte> quantize(QuantType t, const std::vector<float>& x) {
  std::vector<std::byte> out(row_size(t, static_cast<int64_t>(x.size())));
  traits(t).from_float_ref(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

}  // namespace

TEST(Quant, block_layouts_match_ggml_sizes) {
  EXPECT_EQ(sizeof(block_q4_0), 18u);
  EXPECT_EQ(sizeof(block_q8_0), 34u);
  EXPECT_EQ(sizeof(block_q4_K), 144u);
  EXPECT_EQ(offsetof(block_q4_K, scales), 4u);
  EXPECT_EQ(offsetof(block_q4_K, qs), 16u);
}

TEST(Quant, fp16_known_values_and_ties_round_to_even) {
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xC000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // halfway to the next power: rounds to inf
  EXPECT_EQ(fp32_to_fp16(0.1f), 0x2E66);
  EXPECT_EQ(fp32_to_fp16(0x1.0p-24f), 0x0001);  // smallest subnormal
  EXPECT_EQ(fp32_to_fp16(0x1.0p-25f), 0x0000);  // tie between 0 and the smallest: even (0)
  EXPECT_EQ(fp32_to_fp16(0x1.8p-24f), 0x0002);  // tie between 1 and 2 units: even (2)
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1.0p-11f), 0x3C00);  // tie: even mantissa 0
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1.8p-10f), 0x3C02);  // tie: even mantissa 2
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(std::nanf("")))));
  EXPECT_EQ(fp16_to_fp32(0x3555), 0x1.554p-2f);
  EXPECT_EQ(fp16_to_fp32(0x0001), 0x1.0p-24f);
  EXPECT_TRUE(std::isinf(fp16_to_fp32(0xFC00)));
}

TEST(Quant, fp16_round_trips_every_non_nan_value) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_fp16(f), h) << "half bits " << h;
  }
}

TEST(Quant, bf16_rounds_to_nearest_even) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(fp32_to_bf16(1.0f + 0x1.0p-8f), 0x3F80);  // tie -> even
  EXPECT_EQ(fp32_to_bf16(1.0f + 0x1.8p-7f), 0x3F82);  // tie -> even (up)
  EXPECT_EQ(fp32_to_bf16(1.0f + 0x1.2p-8f), 0x3F81);  // above the tie
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::nanf("")))));
}

TEST(Quant, q8_0_hand_computed_block) {
  // amax 127 gives d = 1 exactly, so q = x.
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  x[0] = 127.0f;
  block_q8_0 b;
  quantize_row_q8_0_ref(x, &b, 32);
  EXPECT_EQ(b.d, 0x3C00);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(b.qs[j], static_cast<int8_t>(x[j])) << j;
  // amax 254 gives d = 2: 3/2 = 1.5 rounds away from zero as ggml's roundf.
  x[0] = 254.0f;
  x[1] = 3.0f;
  x[2] = -3.0f;
  quantize_row_q8_0_ref(x, &b, 32);
  EXPECT_EQ(b.d, 0x4000);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 2);
  EXPECT_EQ(b.qs[2], -2);
  float y[32];
  dequantize_row_q8_0(&b, y, 32);
  EXPECT_EQ(y[0], 254.0f);
  EXPECT_EQ(y[1], 4.0f);
}

TEST(Quant, q4_0_hand_computed_block) {
  // The largest magnitude -8 maps to q = 0 with d = 1; x = 7 to q = 15; x = 0 to 8.
  float x[32] = {};
  x[0] = -8.0f;
  x[16] = 7.0f;
  x[1] = 2.4f;   // 2.4 + 8.5 = 10.9 -> 10
  x[17] = 2.5f;  // 11.0 -> 11
  block_q4_0 b;
  quantize_row_q4_0_ref(x, &b, 32);
  EXPECT_EQ(b.d, 0x3C00);
  EXPECT_EQ(b.qs[0], 0xF0);
  EXPECT_EQ(b.qs[1], 0xBA);
  EXPECT_EQ(b.qs[2], 0x88);
  float y[32];
  dequantize_row_q4_0(&b, y, 32);
  EXPECT_EQ(y[0], -8.0f);
  EXPECT_EQ(y[16], 7.0f);
  EXPECT_EQ(y[1], 2.0f);
  EXPECT_EQ(y[17], 3.0f);
  // A positive extreme gives a negative scale: x = 8 is stored as q = 0, d = -1.
  x[0] = 8.0f;
  quantize_row_q4_0_ref(x, &b, 32);
  EXPECT_EQ(b.d, 0xBC00);
  dequantize_row_q4_0(&b, y, 32);
  EXPECT_EQ(y[0], 8.0f);
}

TEST(Quant, q4_K_scale_packing_and_dequant_by_hand) {
  const uint8_t sc[8] = {1, 2, 3, 4, 33, 47, 63, 16};
  const uint8_t mn[8] = {0, 5, 10, 63, 17, 32, 48, 1};
  block_q4_K b{};
  set_scales_mins_k4(sc, mn, b.scales);
  // Bytes worked out by hand from the layout: low 6 bits + top 2 bits of sub-blocks 4..7.
  EXPECT_EQ(b.scales[0], 1 | (2 << 6));      // sc0 | (sc4 >> 4) << 6, sc4 = 33 = 0b10'0001
  EXPECT_EQ(b.scales[3], 4 | (1 << 6));      // sc3 | (sc7 >> 4) << 6, sc7 = 16
  EXPECT_EQ(b.scales[4], 0 | (1 << 6));      // m0 | (m4 >> 4) << 6, m4 = 17
  EXPECT_EQ(b.scales[7], 63 | (0 << 6));     // m3 | (m7 >> 4) << 6, m7 = 1
  EXPECT_EQ(b.scales[8], (33 & 15) | ((17 & 15) << 4));
  EXPECT_EQ(b.scales[10], (63 & 15) | ((48 & 15) << 4));
  for (int j = 0; j < 8; ++j) {
    uint8_t s, m;
    get_scale_min_k4(j, b.scales, &s, &m);
    EXPECT_EQ(s, sc[j]) << j;
    EXPECT_EQ(m, mn[j]) << j;
  }
  b.d = fp32_to_fp16(1.0f);
  b.dmin = fp32_to_fp16(0.5f);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  float y[256];
  dequantize_row_q4_K(&b, y, 256);
  // value 32*j + i: q = low nibble of qs[32*(j/2) + i] for even j, high nibble for odd j.
  EXPECT_EQ(y[0], 1.0f * 1 * 0 - 0.5f * 0);                 // j0 i0: q 0
  EXPECT_EQ(y[5], 1.0f * 1 * 5 - 0.5f * 0);                 // j0 i5: q 5
  EXPECT_EQ(y[32 + 5], 1.0f * 2 * 10 - 0.5f * 5);           // j1 i5: q 15-5
  EXPECT_EQ(y[64 + 3], 1.0f * 3 * 3 - 0.5f * 10);           // j2 i3: qs[35] low = 3
  EXPECT_EQ(y[160 + 1], 1.0f * 47 * 14 - 0.5f * 32);        // j5 i1: qs[65] high = 14
  EXPECT_EQ(y[224 + 31], 1.0f * 16 * 0 - 0.5f * 1);         // j7 i31: qs[127] high = 0
}

TEST(Quant, q4_K_zero_block_quantizes_to_zero) {
  std::vector<float> x(256, 0.0f);
  block_q4_K b;
  quantize_row_q4_K_ref(x.data(), &b, 256);
  std::vector<float> y(256, 1.0f);
  dequantize_row_q4_K(&b, y.data(), 256);
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

TEST(Quant, names_and_ids_round_trip_for_every_type) {
  for (QuantType t : kAllQuantTypes) {
    const QuantTraits& tr = traits(t);
    EXPECT_EQ(quant_type_from_name(tr.name), t);
    EXPECT_EQ(quant_type_from_ggml_id(static_cast<int32_t>(t)), t);
    EXPECT_EQ(row_size(t, tr.block_size * 3), 3 * tr.type_size);
    EXPECT_TRUE(row_fits(t, tr.block_size * 2));
  }
  EXPECT_EQ(quant_type_from_name("Q4_K"), QuantType::Q4_K);
  EXPECT_EQ(quant_type_from_name("q5_1"), std::nullopt);
  EXPECT_EQ(quant_type_from_ggml_id(3), std::nullopt);
  EXPECT_FALSE(row_fits(QuantType::Q4_K, 64));
  EXPECT_THROW(row_size(QuantType::Q8_0, 33), InternalError);
  EXPECT_THROW(traits(static_cast<QuantType>(99)), InternalError);
}

TEST(Quant, round_trip_error_within_bounds_for_every_type) {
  const int64_t n = 1024;
  const std::vector<float> x = normal_values(n, 7);
  for (QuantType t : kAllQuantTypes) {
    const auto q = quantize(t, x);
    std::vector<float> y(static_cast<size_t>(n));
    traits(t).to_float(q.data(), y.data(), n);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
      err += (x[i] - y[i]) * (x[i] - y[i]);
      ref += x[i] * x[i];
    }
    const double rel = std::sqrt(err / ref);
    EXPECT_LE(rel, round_trip_bound(t)) << traits(t).name;
  }
}

TEST(Quant, reference_dot_error_within_bounds_for_every_type) {
  const int64_t n = 1024;
  const std::vector<float> x = normal_values(n, 11), y = normal_values(n, 12);
  double exact = 0, nx = 0, ny = 0;
  for (int64_t i = 0; i < n; ++i) {
    exact += static_cast<double>(x[i]) * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  const double scale = std::sqrt(nx * ny);
  for (QuantType t : kAllQuantTypes) {
    const QuantTraits& tr = traits(t);
    const auto qx = quantize(t, x);
    const auto qy = quantize(tr.vec_dot_type, y);
    const double got = tr.vec_dot(qx.data(), qy.data(), n);
    const double bound = tr.bits >= 16 ? kMaxDotErrFloat : tr.bits == 8 ? kMaxDotErrQ8 : kMaxDotErrQ4;
    EXPECT_LE(std::fabs(got - exact) / scale, bound) << tr.name;
  }
}

namespace {

bool cpu_runs(SimdLevel level) { return static_cast<int>(level) <= static_cast<int>(detect_simd_level()); }

// The attention kernels against the scalar ones: head sizes around the 8/32/64-value column
// blocks, position counts around the 4-row groups, rows padded apart as in the KV cache.
void expect_attention_equals_scalar(const KernelTable& ref, const KernelTable& k) {
  for (int64_t hs : {1, 5, 8, 13, 40, 64, 72, 129}) {
    for (int64_t n_rows : {1, 3, 4, 5, 9}) {
      const size_t stride = static_cast<size_t>(hs) + 3;
      const auto rows = normal_values(n_rows * static_cast<int64_t>(stride), 700 + static_cast<uint64_t>(hs));
      std::vector<uint16_t> rows_h(rows.size());
      fp32_to_fp16_row(rows.data(), rows_h.data(), static_cast<int64_t>(rows.size()));
      const auto q = normal_values(hs, 800);
      const auto w = normal_values(n_rows, 900);
      std::vector<float> s0(static_cast<size_t>(n_rows)), s1 = s0, s2 = s0, s3 = s0;
      ref.attn_scores_f32(rows.data(), stride, n_rows, q.data(), hs, 0.125f, s0.data());
      k.attn_scores_f32(rows.data(), stride, n_rows, q.data(), hs, 0.125f, s1.data());
      ref.attn_scores_f16(rows_h.data(), stride, n_rows, q.data(), hs, 0.125f, s2.data());
      k.attn_scores_f16(rows_h.data(), stride, n_rows, q.data(), hs, 0.125f, s3.data());
      for (size_t i = 0; i < s0.size(); ++i) {
        EXPECT_NEAR(s0[i], s1[i], 1e-5 * static_cast<double>(hs)) << k.name << " attn_scores_f32 hs=" << hs << " row " << i;
        EXPECT_NEAR(s2[i], s3[i], 1e-5 * static_cast<double>(hs)) << k.name << " attn_scores_f16 hs=" << hs << " row " << i;
      }
      std::vector<float> o0(static_cast<size_t>(hs), 9.0f), o1 = o0, o2 = o0, o3 = o0;  // overwritten
      ref.attn_mix_f32(w.data(), rows.data(), stride, n_rows, hs, o0.data());
      k.attn_mix_f32(w.data(), rows.data(), stride, n_rows, hs, o1.data());
      ref.attn_mix_f16(w.data(), rows_h.data(), stride, n_rows, hs, o2.data());
      k.attn_mix_f16(w.data(), rows_h.data(), stride, n_rows, hs, o3.data());
      for (size_t i = 0; i < o0.size(); ++i) {
        EXPECT_NEAR(o0[i], o1[i], 1e-5 * static_cast<double>(n_rows)) << k.name << " attn_mix_f32 hs=" << hs << " col " << i;
        EXPECT_NEAR(o2[i], o3[i], 1e-5 * static_cast<double>(n_rows)) << k.name << " attn_mix_f16 hs=" << hs << " col " << i;
      }
    }
  }
}

// Every kernel of `level`'s table against the scalar table on ragged sizes.
void expect_level_equals_scalar(SimdLevel level) {
  const KernelTable& ref = kernel_table(SimdLevel::scalar);
  const KernelTable& k = kernel_table(level);
  for (QuantType t : kAllQuantTypes) {
    const QuantTraits& tr = traits(t);
    const std::vector<int64_t> sizes =
        tr.block_size == 1 ? std::vector<int64_t>{1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 100, 257, 1000}
                           : std::vector<int64_t>{1, 2, 3, 5, 7, 9};
    for (int64_t s : sizes) {
      const int64_t n = tr.block_size == 1 ? s : s * tr.block_size;
      const auto x = normal_values(n, 100 + static_cast<uint64_t>(n));
      const auto y = normal_values(n, 200 + static_cast<uint64_t>(n));
      const auto qx = quantize(t, x);
      const auto qy = quantize(tr.vec_dot_type, y);
      const int ti = quant_type_index(t);
      const double want = ref.vec_dot[ti](qx.data(), qy.data(), n);
      const double got = k.vec_dot[ti](qx.data(), qy.data(), n);
      double mag = 0;
      for (int64_t i = 0; i < n; ++i) mag += std::fabs(x[i] * y[i]);
      EXPECT_LE(std::fabs(got - want), kMaxSimdRelErr * mag + 1e-6)
          << k.name << " " << tr.name << " n=" << n << " want " << want << " got " << got;
    }
  }
  for (int64_t n : {1, 5, 8, 13, 16, 40, 129}) {
    const auto x = normal_values(n, 300 + static_cast<uint64_t>(n));
    std::vector<uint16_t> xh(static_cast<size_t>(n));
    fp32_to_fp16_row(x.data(), xh.data(), n);
    std::vector<float> y0 = normal_values(n, 400), y1 = y0, y2 = y0, y3 = y0;
    ref.axpy_f32(0.75f, x.data(), y0.data(), n);
    k.axpy_f32(0.75f, x.data(), y1.data(), n);
    ref.axpy_f16(-1.25f, xh.data(), y2.data(), n);
    k.axpy_f16(-1.25f, xh.data(), y3.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(y0[i], y1[i], 1e-5f) << k.name << " axpy_f32 n=" << n;
      EXPECT_NEAR(y2[i], y3[i], 1e-5f) << k.name << " axpy_f16 n=" << n;
    }
    const double a = ref.dot_f16_f32(xh.data(), y0.data(), n), b = k.dot_f16_f32(xh.data(), y0.data(), n);
    EXPECT_NEAR(a, b, 1e-4 * (1 + std::fabs(a))) << k.name << " dot_f16_f32 n=" << n;
  }
  expect_attention_equals_scalar(ref, k);
}

}  // namespace

TEST(Quant, avx2_kernels_equal_scalar_on_ragged_sizes) {
  if (!cpu_runs(SimdLevel::avx2)) GTEST_SKIP() << "this CPU has no AVX2+FMA+F16C; only the scalar kernels run";
  expect_level_equals_scalar(SimdLevel::avx2);
}

TEST(Quant, avx512_kernels_equal_scalar_on_ragged_sizes) {
  if (!cpu_runs(SimdLevel::avx512)) {
    GTEST_SKIP() << "this CPU has no AVX-512F/BW/VL: quant_avx512.cpp is compiled but its kernels cannot run here";
  }
  expect_level_equals_scalar(SimdLevel::avx512);
}

namespace {

// A prepared activation (kernels.h ActQ8) of x by `level`'s quantize_act.
std::vector<std::byte> prepare(const KernelTable& k, const std::vector<float>& x) {
  std::vector<std::byte> row(act_q8_bytes(static_cast<int64_t>(x.size())));
  k.quantize_act(x.data(), row.data(), static_cast<int64_t>(x.size()));
  return row;
}

// SIMD levels this CPU runs, above scalar.
std::vector<SimdLevel> simd_levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512}) {
    if (static_cast<int>(level) <= static_cast<int>(detect_simd_level())) out.push_back(level);
  }
  return out;
}

}  // namespace

TEST(Quant, prepared_activation_is_the_reference_q8_0_with_sums_and_pair_order) {
  // block 0 holds exact ties (amax 127 gives d = 1, so 2.5 and -3.5 must round away from zero),
  // block 1 is all zeros (d = 0), the rest normal values; 5 blocks leave an unpaired last one.
  std::vector<float> x = normal_values(5 * QK8_0, 11);
  for (int j = 0; j < QK8_0; ++j) x[static_cast<size_t>(j)] = static_cast<float>(j % 7) - 3.5f;
  x[0] = 127.0f;
  x[1] = 2.5f;
  for (int j = QK8_0; j < 2 * QK8_0; ++j) x[static_cast<size_t>(j)] = 0.0f;
  const int64_t n = static_cast<int64_t>(x.size()), nb = n / QK8_0;
  const auto ref_row = prepare(kernel_table(SimdLevel::scalar), x);
  const ActQ8 ref = act_q8_view(ref_row.data(), n);
  const auto blocks = quantize(QuantType::Q8_0, x);
  ASSERT_EQ(std::memcmp(ref.q, blocks.data(), blocks.size()), 0);
  EXPECT_EQ(ref.q[0].qs[1], 3);
  EXPECT_EQ(ref.q[0].qs[0 + 4], 1);  // 4 % 7 - 3.5 = 0.5 rounds to 1
  for (int64_t b = 0; b < nb; ++b) {
    int32_t sum = 0;
    for (int j = 0; j < QK8_0; ++j) sum += ref.q[b].qs[j];
    EXPECT_EQ(ref.sum[b], sum);
    EXPECT_EQ(ref.d[b], fp16_to_fp32(ref.q[b].d));
  }
  EXPECT_EQ(ref.pairs[0], ref.q[0].qs[0]);
  EXPECT_EQ(ref.pairs[16], ref.q[1].qs[0]);
  EXPECT_EQ(ref.pairs[32], ref.q[0].qs[16]);
  EXPECT_EQ(ref.pairs[QK8_0 * 2 + 63], ref.q[3].qs[31]);
  for (SimdLevel level : simd_levels()) {
    const auto row = prepare(kernel_table(level), x);
    const ActQ8 a = act_q8_view(row.data(), n);
    EXPECT_EQ(std::memcmp(a.q, ref.q, static_cast<size_t>(nb) * sizeof(block_q8_0)), 0) << simd_level_name(level);
    EXPECT_EQ(std::memcmp(a.d, ref.d, static_cast<size_t>(nb) * sizeof(float)), 0) << simd_level_name(level);
    EXPECT_EQ(std::memcmp(a.sum, ref.sum, static_cast<size_t>(nb) * sizeof(int32_t)), 0) << simd_level_name(level);
    EXPECT_EQ(std::memcmp(a.pairs, ref.pairs, static_cast<size_t>(nb / 2 * 2 * QK8_0)), 0) << simd_level_name(level);
  }
}

TEST(Quant, prepared_activation_kernels_equal_scalar_on_ragged_sizes) {
  const KernelTable& ref = kernel_table(SimdLevel::scalar);
  int kernels_checked = 0;
  for (SimdLevel level : simd_levels()) {
    const KernelTable& k = kernel_table(level);
    for (QuantType t : {QuantType::Q4_0, QuantType::Q8_0, QuantType::Q4_K}) {
      const int ti = quant_type_index(t);
      if (k.act_gemv[ti] == nullptr) continue;
      ++kernels_checked;
      // block counts around the kernels' 8-block steps and their tails (Q4_K: 256-blocks, 1..3
      // cover it); row counts around the 4-row groups
      for (int64_t blocks : {1, 2, 3, 7, 8, 9, 15, 16, 17, 25}) {
        if (t == QuantType::Q4_K && blocks > 3) continue;
        const int64_t n = blocks * traits(t).block_size, rows = 1 + blocks % 7;
        const auto w = normal_values(rows * n, 500 + static_cast<uint64_t>(n));
        const auto y = normal_values(n, 600 + static_cast<uint64_t>(n));
        const auto qw = quantize(t, w);
        const size_t rb = row_size(t, n);
        const auto row = prepare(k, y);
        const ActQ8 a = act_q8_view(row.data(), n);
        std::vector<float> got(static_cast<size_t>(rows));
        k.act_gemv[ti](qw.data(), rb, rows, a, n, got.data());
        for (int64_t r = 0; r < rows; ++r) {
          const double want = ref.vec_dot[ti](qw.data() + static_cast<size_t>(r) * rb, a.q, n);
          double mag = 0;
          for (int64_t i = 0; i < n; ++i) mag += std::fabs(w[static_cast<size_t>(r * n + i)] * y[static_cast<size_t>(i)]);
          EXPECT_LE(std::fabs(got[static_cast<size_t>(r)] - want), kMaxSimdRelErr * mag + 1e-6)
              << k.name << " " << traits(t).name << " n=" << n << " row " << r << "/" << rows << " want " << want
              << " got " << got[static_cast<size_t>(r)];
        }
      }
    }
  }
  if (kernels_checked == 0) GTEST_SKIP() << "no SIMD level with prepared-activation kernels on this CPU";
}

TEST(Quant, set_simd_level_clamps_to_the_cpu) {
  const SimdLevel before = active_simd_level();
  EXPECT_EQ(set_simd_level(SimdLevel::scalar), SimdLevel::scalar);
  EXPECT_EQ(std::string(kernels().name), "scalar");
  EXPECT_EQ(set_simd_level(SimdLevel::avx512), detect_simd_level());
  set_simd_level(before);
}
