#include <gtest/gtest.h>

#if defined(MECLLM_RL_HAVE_MEC)
#include "common/errors.h"
#include "mec/scenario.h"
#include "mec/vec_env.h"
#include "rl/learned_policy.h"

namespace mecllm::rl {
namespace {
PolicyWeights policy_for(int obs_dim, int act_dim) {
  PolicyWeights w;
  w.algo = "ppo";
  w.obs_dim = obs_dim, w.act_dim = act_dim;
  w.obs_mean.assign(obs_dim, 0.0), w.obs_var.assign(obs_dim, 1.0);
  DenseLayer l{obs_dim, act_dim, std::vector<float>(static_cast<size_t>(obs_dim) * act_dim, 0.01f),
               std::vector<float>(act_dim, 0.0f)};
  w.layers.push_back(l);
  w.log_std.assign(act_dim, 0.0f);
  return w;
}
}  // namespace

TEST(LearnedPolicy, rejects_scenario_with_other_observation_size_naming_both) {
  auto scenario = mec::load_scenario({"tiny"});
  mec::VecEnv env(scenario, 1, 3, 1);
  env.reset();
  LearnedPolicy bad(policy_for(env.obs_dim() + 2, env.act_dim()), "runs/x/policy.json");
  try {
    bad.reset(env);
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("runs/x/policy.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(env.obs_dim() + 2)), std::string::npos) << msg;
    EXPECT_NE(msg.find("gives " + std::to_string(env.obs_dim())), std::string::npos) << msg;
  }
}

TEST(LearnedPolicy, acts_in_unit_interval_on_the_simulator) {
  auto scenario = mec::load_scenario({"tiny"});
  mec::VecEnv env(scenario, 2, 4, 1);
  env.reset();
  LearnedPolicy p(policy_for(env.obs_dim(), env.act_dim()), "mem");
  p.reset(env);
  std::vector<float> actions(static_cast<size_t>(2 * 4 * env.act_dim()), -1.0f);
  p.act(env, actions);
  for (float a : actions) {
    EXPECT_GE(a, 0.0f);
    EXPECT_LE(a, 1.0f);
  }
}

}  // namespace mecllm::rl
#else
TEST(LearnedPolicy, skipped_without_simulator) { GTEST_SKIP() << "src/mec absent"; }
#endif
