// Small statistics used in every report: mean, sample standard deviation, 95% confidence
// half-width with Student's t for small seed counts.
#pragma once

#include <span>

namespace mecllm::stats {

double mean(std::span<const double> x);
double stddev(std::span<const double> x);  // sample (n-1); 0 for n < 2
// Half-width of the two-sided 95% CI of the mean: t_{0.975, n-1} * s / sqrt(n); 0 for n < 2.
double ci95_halfwidth(std::span<const double> x);
double t_quantile_975(int dof);

}  // namespace mecllm::stats
