#include "rl/running_stats.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"

namespace mecllm::rl {

void RunningMeanStd::update(std::span<const float> rows) {
  const size_t d = mean_.size();
  MECLLM_CHECK(d > 0 && rows.size() % d == 0, "{} values for dim {}", rows.size(), d);
  const size_t n = rows.size() / d;
  if (n == 0) return;
  std::vector<double> bmean(d, 0.0), bvar(d, 0.0);
  for (size_t r = 0; r < n; ++r)
    for (size_t j = 0; j < d; ++j) bmean[j] += rows[r * d + j];
  for (auto& m : bmean) m /= static_cast<double>(n);
  for (size_t r = 0; r < n; ++r)
    for (size_t j = 0; j < d; ++j) {
      const double dx = rows[r * d + j] - bmean[j];
      bvar[j] += dx * dx;
    }
  for (auto& v : bvar) v /= static_cast<double>(n);
  const double bn = static_cast<double>(n), tot = count_ + bn;
  for (size_t j = 0; j < d; ++j) {
    const double delta = bmean[j] - mean_[j];
    const double m2 = var_[j] * count_ + bvar[j] * bn + delta * delta * count_ * bn / tot;
    mean_[j] += delta * bn / tot;
    var_[j] = m2 / tot;
  }
  count_ = tot;
}

void RunningMeanStd::normalize(std::span<const float> x, std::span<float> out, double clip, double eps) const {
  const size_t d = mean_.size();
  MECLLM_CHECK(x.size() == out.size() && x.size() % d == 0, "normalize: {} in, {} out, dim {}", x.size(), out.size(), d);
  // Precompute per-feature scale once; the loop body is then one fused multiply-add.
  float inv[256];
  std::vector<float> inv_heap;
  float* s = inv;
  if (d > 256) inv_heap.resize(d), s = inv_heap.data();
  for (size_t j = 0; j < d; ++j) s[j] = static_cast<float>(1.0 / std::sqrt(var_[j] + eps));
  const float c = static_cast<float>(clip);
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t j = i % d;
    out[i] = std::clamp((x[i] - static_cast<float>(mean_[j])) * s[j], -c, c);
  }
}

void RunningMeanStd::set(std::vector<double> mean, std::vector<double> var, double count) {
  MECLLM_CHECK(mean.size() == var.size(), "mean {} var {}", mean.size(), var.size());
  mean_ = std::move(mean), var_ = std::move(var), count_ = count;
}

void RewardScaler::update(std::span<const float> rewards, std::span<const uint8_t> done) {
  MECLLM_CHECK(rewards.size() == returns_.size() && done.size() == returns_.size(), "reward scaler sizes");
  std::vector<float> g(returns_.size());
  for (size_t e = 0; e < returns_.size(); ++e) {
    returns_[e] = returns_[e] * gamma_ + rewards[e];
    g[e] = static_cast<float>(returns_[e]);
  }
  rms_.update(g);
  for (size_t e = 0; e < returns_.size(); ++e)
    if (done[e]) returns_[e] = 0.0;
}

double RewardScaler::scale() const { return 1.0 / std::sqrt(rms_.var()[0] + 1e-8); }

}  // namespace mecllm::rl
