#include <gtest/gtest.h>

#include <vector>

#include "rl/gae.h"

namespace mecllm::rl {

// One agent, 4 steps; the episode is truncated after step 1 (bootstrapped from the pre-reset
// value 5) and the rollout ends after step 3 (bootstrapped from next_value 2).
TEST(Gae, bootstraps_on_truncation_and_at_rollout_end) {
  const double g = 0.5, l = 0.5;
  std::vector<float> r{1, 2, 3, 4}, v{10, 20, 30, 40}, fv{0, 5, 0, 0}, nv{2};
  std::vector<uint8_t> term{0, 0, 0, 0}, trunc{0, 1, 0, 0};
  std::vector<float> adv(4), ret(4);
  compute_gae({4, 1, r, v, term, trunc, fv, nv, g, l}, adv, ret);
  // Hand computation:
  //   d3 = 4 + 0.5*2  - 40 = -35;              A3 = -35
  //   d2 = 3 + 0.5*40 - 30 = -7;               A2 = -7 + 0.25*(-35) = -15.75
  //   d1 = 2 + 0.5*5  - 20 = -15.5 (truncated: V(final obs), no recursion past it); A1 = -15.5
  //   d0 = 1 + 0.5*20 - 10 = 1;                A0 = 1 + 0.25*(-15.5) = -2.875
  EXPECT_FLOAT_EQ(adv[3], -35.0f);
  EXPECT_FLOAT_EQ(adv[2], -15.75f);
  EXPECT_FLOAT_EQ(adv[1], -15.5f);
  EXPECT_FLOAT_EQ(adv[0], -2.875f);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(ret[i], adv[i] + v[i]);
}

TEST(Gae, does_not_bootstrap_after_termination) {
  std::vector<float> r{1, 1}, v{3, 3}, fv{7, 7}, nv{100};
  std::vector<uint8_t> term{1, 0}, trunc{0, 0};
  std::vector<float> adv(2), ret(2);
  compute_gae({2, 1, r, v, term, trunc, fv, nv, 0.9, 0.95}, adv, ret);
  EXPECT_FLOAT_EQ(adv[0], 1.0f - 3.0f);  // terminal: no value after it, no recursion
  EXPECT_FLOAT_EQ(adv[1], 1.0f + 0.9f * 100.0f - 3.0f);
}

TEST(Gae, agents_are_independent_columns) {
  // Two agents, layout (T, A): agent 1 sees rewards 0 and must get zero advantage with zero values.
  std::vector<float> r{1, 0, 1, 0}, v{0, 0, 0, 0}, fv(4, 0), nv{0, 0};
  std::vector<uint8_t> term(4, 0), trunc(4, 0);
  std::vector<float> adv(4), ret(4);
  compute_gae({2, 2, r, v, term, trunc, fv, nv, 1.0, 1.0}, adv, ret);
  EXPECT_FLOAT_EQ(adv[0], 2.0f);
  EXPECT_FLOAT_EQ(adv[2], 1.0f);
  EXPECT_FLOAT_EQ(adv[1], 0.0f);
  EXPECT_FLOAT_EQ(adv[3], 0.0f);
}

}  // namespace mecllm::rl
