#include "rl/lagrange.h"

#include <algorithm>

#include "common/errors.h"

namespace mecllm::rl {

LagrangeMultipliers::LagrangeMultipliers(int num_constraints, const LagrangeSettings& s)
    : s_(s),
      lambda_(static_cast<size_t>(num_constraints), std::clamp(s.init, 0.0, s.max_lambda)),
      integral_(static_cast<size_t>(num_constraints), s.pid && s.ki > 0 ? s.init / s.ki : 0.0),
      prev_error_(static_cast<size_t>(num_constraints), 0.0) {}

void LagrangeMultipliers::update(std::span<const double> mean_costs) {
  MECLLM_CHECK(mean_costs.size() == lambda_.size(), "{} costs for {} multipliers", mean_costs.size(), lambda_.size());
  for (size_t c = 0; c < lambda_.size(); ++c) {
    const double e = mean_costs[c];
    if (!s_.pid) {
      // Projected gradient ascent on the dual: d/d lambda of L = cost - limit.
      lambda_[c] = std::clamp(lambda_[c] + s_.lr * e, 0.0, s_.max_lambda);
    } else {
      // The integral is itself projected so a long satisfied stretch cannot wind it far below 0.
      integral_[c] = std::max(0.0, integral_[c] + e);
      const double deriv = std::max(0.0, e - prev_error_[c]);
      prev_error_[c] = e;
      lambda_[c] = std::clamp(s_.kp * e + s_.ki * integral_[c] + s_.kd * deriv, 0.0, s_.max_lambda);
    }
  }
}

std::vector<double> LagrangeMultipliers::state() const {
  std::vector<double> st = lambda_;
  st.insert(st.end(), integral_.begin(), integral_.end());
  st.insert(st.end(), prev_error_.begin(), prev_error_.end());
  return st;
}

void LagrangeMultipliers::set_state(std::span<const double> st) {
  const size_t n = lambda_.size();
  MECLLM_CHECK(st.size() == 3 * n, "multiplier state has {} values, expected {}", st.size(), 3 * n);
  std::copy(st.begin(), st.begin() + n, lambda_.begin());
  std::copy(st.begin() + n, st.begin() + 2 * n, integral_.begin());
  std::copy(st.begin() + 2 * n, st.end(), prev_error_.begin());
}

}  // namespace mecllm::rl
