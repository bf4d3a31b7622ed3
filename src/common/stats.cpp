#include "common/stats.h"

#include <cmath>
#include <numeric>

namespace mecllm::stats {

double mean(std::span<const double> x) {
  if (x.empty()) return 0.0;
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double stddev(std::span<const double> x) {
  if (x.size() < 2) return 0.0;
  double m = mean(x), ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

double t_quantile_975(int dof) {
  // Student's t 0.975 quantiles (standard tables) for 1..30 degrees of freedom; normal beyond.
  static constexpr double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                     2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                     2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return 0.0;
  if (dof <= 30) return table[dof - 1];
  return 1.960;
}

double ci95_halfwidth(std::span<const double> x) {
  if (x.size() < 2) return 0.0;
  return t_quantile_975(static_cast<int>(x.size()) - 1) * stddev(x) / std::sqrt(static_cast<double>(x.size()));
}

}  // namespace mecllm::stats
