// Lagrange multipliers of PPO-Lagrangian: one per constraint, updated by projected dual ascent on
// the measured average cost minus its limit (costs arrive already in "<= 0 is satisfied" form, so
// the limit is 0). Plain SGD, not Adam: Adam's normalised step would ignore how large the
// violation is. The PID option follows Stooke, Achiam & Abbeel, "Responsive Safety in RL by PID
// Lagrangian Methods" (ICML 2020): lambda = max(0, Kp e + Ki sum(e) + Kd max(0, e - e_prev)).
#pragma once

#include <span>
#include <vector>

namespace mecllm::rl {

struct LagrangeSettings {
  double lr = 0.05;
  double init = 0.0;
  double max_lambda = 100;
  bool pid = false;
  double kp = 0.1, ki = 0.05, kd = 0.0;
};

class LagrangeMultipliers {
 public:
  LagrangeMultipliers(int num_constraints, const LagrangeSettings& s);

  // One dual step from the measured average cost of each constraint (violation if > 0).
  void update(std::span<const double> mean_costs);
  std::span<const double> values() const { return lambda_; }
  int size() const { return static_cast<int>(lambda_.size()); }

  // State for checkpoints: lambda, PID integral and previous error, in that order.
  std::vector<double> state() const;
  void set_state(std::span<const double> st);  // MECLLM_CHECK on size: callers validate input

 private:
  LagrangeSettings s_;
  std::vector<double> lambda_;
  std::vector<double> integral_;
  std::vector<double> prev_error_;
};

}  // namespace mecllm::rl
