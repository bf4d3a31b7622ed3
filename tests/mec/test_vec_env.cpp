#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mec/baselines.h"
#include "mec/vec_env.h"
#include "mec/vec_env_impl.h"
#include "test_helpers.h"

namespace mecllm::mec {
namespace {

std::vector<float> run_trajectory(const Scenario& s, uint64_t seed, int steps) {
  VecEnv env(s, 2, 5, seed);
  std::vector<float> actions(size_t(2) * 5 * env.act_dim(), 0.5f), trace;
  for (int t = 0; t < steps; ++t) {
    env.step(actions);
    trace.insert(trace.end(), env.observations().begin(), env.observations().end());
    trace.insert(trace.end(), env.rewards().begin(), env.rewards().end());
    trace.insert(trace.end(), env.costs().begin(), env.costs().end());
  }
  return trace;
}

TEST(VecEnv, same_seed_same_trajectory_different_seed_differs) {
  Scenario s = testing::load("tiny");
  auto a = run_trajectory(s, 7, 50), b = run_trajectory(s, 7, 50), c = run_trajectory(s, 8, 50);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(VecEnv, shapes_follow_the_contract) {
  Scenario s = testing::load("tiny");
  VecEnv env(s, 3, 4, 1);
  EXPECT_EQ(env.observations().size(), size_t(3 * 4 * env.obs_dim()));
  EXPECT_EQ(env.act_dim(), 1);
  std::vector<float> actions(12, 1.f);
  env.step(actions);
  EXPECT_EQ(env.rewards().size(), 3u);
  EXPECT_EQ(env.costs().size(), size_t(3 * 4 * kNumCosts));
  EXPECT_EQ(env.active().size(), 12u);
  std::vector<float> wrong(5, 0.f);
  EXPECT_THROW(env.step(wrong), InternalError);
}

TEST(VecEnv, truncates_at_the_horizon_and_resets) {
  Scenario s = testing::load("tiny", {"horizon=5"});
  VecEnv env(s, 2, 3, 3);
  std::vector<float> actions(6, 0.f);
  for (int t = 1; t <= 5; ++t) {
    env.step(actions);
    EXPECT_EQ(env.truncated()[0], t == 5 ? 1 : 0) << "slot " << t;
    EXPECT_EQ(env.terminated()[0], 0);
  }
  // After the reset the slot feature is back at 0; the final observation held the last slot.
  EXPECT_FLOAT_EQ(env.observations()[kObsSlot], 0.f);
  EXPECT_FLOAT_EQ(env.final_observations()[kObsSlot], 1.f);
}

}  // namespace
}  // namespace mecllm::mec
