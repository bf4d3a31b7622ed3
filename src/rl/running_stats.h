// Running mean and variance of vectors (Chan et al. parallel update, as in CleanRL's/Gymnasium's
// RunningMeanStd), the observation normaliser and the reward scaler. Plain C++: the exported
// policy carries the observation normaliser to machines without LibTorch.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mecllm::rl {

class RunningMeanStd {
 public:
  explicit RunningMeanStd(int dim = 1, double eps_count = 1e-4)
      : mean_(static_cast<size_t>(dim), 0.0), var_(static_cast<size_t>(dim), 1.0), count_(eps_count) {}

  // rows: (n, dim) row-major.
  void update(std::span<const float> rows);
  // out[i] = clip((x - mean) / sqrt(var + eps), -clip, clip) for each row of x (n, dim).
  void normalize(std::span<const float> x, std::span<float> out, double clip, double eps = 1e-8) const;

  int dim() const { return static_cast<int>(mean_.size()); }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& var() const { return var_; }
  double count() const { return count_; }
  void set(std::vector<double> mean, std::vector<double> var, double count);

 private:
  std::vector<double> mean_;  // (dim)
  std::vector<double> var_;   // (dim) population variance
  double count_;
};

// Scales rewards by the running std of each environment's discounted return (CleanRL's
// NormalizeReward): reduces reward scale without shifting it, so the optimal policy is unchanged.
class RewardScaler {
 public:
  RewardScaler(int num_envs = 1, double gamma = 0.99) : returns_(static_cast<size_t>(num_envs), 0.0), gamma_(gamma) {}
  // Updates with the raw rewards (num_envs) and the episode-boundary flags of this step.
  void update(std::span<const float> rewards, std::span<const uint8_t> done);
  double scale() const;  // 1 / sqrt(var + eps)
  RunningMeanStd& stats() { return rms_; }
  const RunningMeanStd& stats() const { return rms_; }
  std::vector<double>& returns() { return returns_; }
  const std::vector<double>& returns() const { return returns_; }

 private:
  RunningMeanStd rms_{1};
  std::vector<double> returns_;  // (num_envs) discounted return so far
  double gamma_;
};

}  // namespace mecllm::rl
