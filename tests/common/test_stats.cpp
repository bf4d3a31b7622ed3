#include <gtest/gtest.h>

#include <vector>

#include "common/stats.h"

using namespace mecllm;

TEST(Stats, MeanStddevAndCi) {
  std::vector<double> x{1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(stats::mean(x), 3.0);
  EXPECT_NEAR(stats::stddev(x), 1.5811388, 1e-6);
  // t_{0.975,4} = 2.776; 2.776 * 1.5811388 / sqrt(5) = 1.96295
  EXPECT_NEAR(stats::ci95_halfwidth(x), 1.96295, 1e-4);
  std::vector<double> one{7};
  EXPECT_DOUBLE_EQ(stats::ci95_halfwidth(one), 0.0);
}
