#include <gtest/gtest.h>

#include <vector>

#include "rl/lagrange.h"

namespace mecllm::rl {

TEST(Lagrange, sgd_step_is_proportional_to_the_violation) {
  LagrangeMultipliers m(3, {0.1, 0.0, 100, false});
  std::vector<double> cost{2.0, 0.5, 0.0};
  m.update(cost);
  EXPECT_DOUBLE_EQ(m.values()[0], 0.2);
  EXPECT_DOUBLE_EQ(m.values()[1], 0.05);
  EXPECT_DOUBLE_EQ(m.values()[2], 0.0);
}

TEST(Lagrange, projects_to_zero_and_to_the_upper_bound) {
  LagrangeMultipliers m(2, {1.0, 0.5, 3.0, false});
  std::vector<double> satisfied{-2.0, 10.0};
  m.update(satisfied);
  EXPECT_DOUBLE_EQ(m.values()[0], 0.0);  // 0.5 - 2 projected to 0
  EXPECT_DOUBLE_EQ(m.values()[1], 3.0);  // 0.5 + 10 projected to max_lambda
  m.update(satisfied);
  EXPECT_DOUBLE_EQ(m.values()[0], 0.0);
}

TEST(Lagrange, pid_integral_accumulates_and_state_round_trips) {
  LagrangeSettings s;
  s.pid = true, s.kp = 1.0, s.ki = 0.5, s.kd = 0.0;
  LagrangeMultipliers m(1, s);
  std::vector<double> e{1.0};
  m.update(e);  // kp*1 + ki*1
  EXPECT_DOUBLE_EQ(m.values()[0], 1.5);
  m.update(e);  // kp*1 + ki*2
  EXPECT_DOUBLE_EQ(m.values()[0], 2.0);
  std::vector<double> neg{-3.0};
  m.update(neg);  // integral max(0, 2-3)=0; kp*(-3) -> projected to 0
  EXPECT_DOUBLE_EQ(m.values()[0], 0.0);
  LagrangeMultipliers copy(1, s);
  copy.set_state(m.state());
  copy.update(e);
  m.update(e);
  EXPECT_DOUBLE_EQ(copy.values()[0], m.values()[0]);
}

}  // namespace mecllm::rl
