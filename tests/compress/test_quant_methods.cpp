#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"
#include "compress/quant_methods.h"

namespace mecllm::compress {
namespace {

using runtime::QuantType;

// A linear layer whose inputs have a few outlier channels (x20), as LLM activations do.
struct Layer {
  int64_t rows = 64, cols = 256, n = 512;
  std::vector<float> w, x;
  explicit Layer(uint64_t seed) {
    Rng rng(seed);
    w.resize(rows * cols);
    x.resize(n * cols);
    for (auto& v : w) v = static_cast<float>(rng.normal(0.0, 0.05));
    for (int64_t t = 0; t < n; ++t)
      for (int64_t i = 0; i < cols; ++i) x[t * cols + i] = static_cast<float>(rng.normal() * (i % 37 == 5 ? 20.0 : 1.0));
  }
  std::vector<double> hessian() const {
    std::vector<double> H(cols * cols, 0.0);
    accumulate_hessian(H, x.data(), n, cols);
    return H;
  }
};

class QuantMethods : public ::testing::TestWithParam<QuantType> {};

TEST_P(QuantMethods, gptq_beats_round_to_nearest_on_outlier_inputs) {
  const QuantType t = GetParam();
  Layer L(11);
  auto rtn = dequantize(quantize_rtn(L.w.data(), L.rows, L.cols, t), L.rows, L.cols, t);
  auto gq = dequantize(quantize_gptq(L.w.data(), L.rows, L.cols, L.hessian(), t), L.rows, L.cols, t);
  double e_rtn = output_error(L.w.data(), rtn.data(), L.rows, L.cols, L.x.data(), L.n);
  double e_gptq = output_error(L.w.data(), gq.data(), L.rows, L.cols, L.x.data(), L.n);
  EXPECT_LT(e_gptq, 0.9 * e_rtn) << runtime::quant_type_name(t) << " rtn " << e_rtn << " gptq " << e_gptq;
}

TEST_P(QuantMethods, awq_beats_round_to_nearest_on_outlier_inputs) {
  const QuantType t = GetParam();
  Layer L(12);
  InputStats in(L.cols);
  in.add(L.x.data(), L.n / 2);  // in two parts, as calibration windows arrive
  in.add(L.x.data() + (L.n / 2) * L.cols, L.n - L.n / 2);
  auto r = awq_search({L.w.data()}, {L.rows}, L.cols, in, t, 10);
  // Re-measure independently of the search's own bookkeeping.
  std::vector<float> scaled(L.w.size());
  for (int64_t i = 0; i < L.rows * L.cols; ++i) scaled[i] = L.w[i] * r.scales[i % L.cols];
  auto deq = dequantize(quantize_rtn(scaled.data(), L.rows, L.cols, t), L.rows, L.cols, t);
  for (int64_t i = 0; i < L.rows * L.cols; ++i) deq[i] /= r.scales[i % L.cols];
  auto rtn = dequantize(quantize_rtn(L.w.data(), L.rows, L.cols, t), L.rows, L.cols, t);
  double e_awq = output_error(L.w.data(), deq.data(), L.rows, L.cols, L.x.data(), L.n);
  double e_rtn = output_error(L.w.data(), rtn.data(), L.rows, L.cols, L.x.data(), L.n);
  EXPECT_GT(r.alpha, 0.0);
  // The search's Hessian form of the loss equals the output error measured on the activations
  // (float outputs there, doubles in H: 1e-4 relative).
  EXPECT_NEAR(e_rtn, r.loss_rtn, 1e-4 * e_rtn);
  EXPECT_LT(e_awq, 0.95 * e_rtn) << runtime::quant_type_name(t) << " rtn " << e_rtn << " awq " << e_awq;
}

TEST_P(QuantMethods, gptq_with_identity_hessian_stays_on_the_stored_grid) {
  // With H = I there is no correlation to exploit: every stored value must decode to a value of
  // its block's grid, and the error stays within RTN's order of magnitude.
  const QuantType t = GetParam();
  Layer L(13);
  std::vector<double> H(L.cols * L.cols, 0.0);
  for (int64_t i = 0; i < L.cols; ++i) H[i * L.cols + i] = 1.0;
  auto bytes = quantize_gptq(L.w.data(), L.rows, L.cols, H, t);
  ASSERT_EQ(bytes.size(), L.rows * runtime::row_size(t, L.cols));
  auto deq = dequantize(bytes, L.rows, L.cols, t);
  auto rtn = dequantize(quantize_rtn(L.w.data(), L.rows, L.cols, t), L.rows, L.cols, t);
  double e_g = 0, e_r = 0;
  for (size_t i = 0; i < deq.size(); ++i) {
    e_g += (deq[i] - L.w[i]) * (deq[i] - L.w[i]);
    e_r += (rtn[i] - L.w[i]) * (rtn[i] - L.w[i]);
  }
  EXPECT_LT(e_g, 1.5 * e_r);
}

TEST(InputStats, scaled_hessian_is_the_hessian_of_the_scaled_input) {
  Layer L(16);
  InputStats in(L.cols);
  in.add(L.x.data(), L.n);
  std::vector<float> s(L.cols);
  Rng rng(17);
  for (auto& v : s) v = static_cast<float>(0.5 + rng.uniform());
  std::vector<float> xs(L.x);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] /= s[i % L.cols];
  std::vector<double> want(L.cols * L.cols, 0.0);
  accumulate_hessian(want, xs.data(), L.n, L.cols);
  const auto got = in.scaled_hessian(s);
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4 * (1.0 + std::fabs(want[i]))) << i;
  EXPECT_NEAR(in.mean_abs()[5], [&] {
    double a = 0;
    for (int64_t t = 0; t < L.n; ++t) a += std::fabs(L.x[t * L.cols + 5]);
    return a / L.n;
  }(), 1e-9);
}

TEST_P(QuantMethods, awq_clipping_lowers_output_error_on_heavy_tailed_weights) {
  // Rare large weights (x8) stretch their block's grid; clipping them gives every other weight of
  // the block a finer grid. The kept clip must be what plain RTN then reproduces.
  const QuantType t = GetParam();
  Layer L(14);
  Rng rng(15);
  for (auto& v : L.w)
    if (rng.below(64) == 0) v *= 8.0f;
  std::vector<float> clipped = L.w;
  const auto r = awq_clip(clipped.data(), L.rows, L.cols, L.hessian(), t);
  EXPECT_LE(r.err, r.err_rtn);
  EXPECT_LE(r.mean_ratio, 1.0);
  auto rtn = dequantize(quantize_rtn(L.w.data(), L.rows, L.cols, t), L.rows, L.cols, t);
  auto clip = dequantize(quantize_rtn(clipped.data(), L.rows, L.cols, t), L.rows, L.cols, t);
  const double e_rtn = output_error(L.w.data(), rtn.data(), L.rows, L.cols, L.x.data(), L.n);
  const double e_clip = output_error(L.w.data(), clip.data(), L.rows, L.cols, L.x.data(), L.n);
  if (t == QuantType::Q8_0) {
    EXPECT_LE(e_clip, 1.01 * e_rtn);  // 8-bit grids are fine enough that clipping rarely pays
  } else {
    EXPECT_LT(e_clip, 0.95 * e_rtn) << runtime::quant_type_name(t) << " rtn " << e_rtn << " clipped " << e_clip;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantMethods, ::testing::Values(QuantType::Q4_0, QuantType::Q4_K, QuantType::Q8_0),
                         [](const auto& info) { return std::string(runtime::quant_type_name(info.param)); });

}  // namespace
}  // namespace mecllm::compress
