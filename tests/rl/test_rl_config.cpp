#include <gtest/gtest.h>

#include "common/config.h"
#include "rl/rl_config.h"

namespace mecllm::rl {

TEST(RlConfig, rejects_unknown_algorithm_naming_it) {
  try {
    parse_algo("dqn", "--algo");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown algorithm 'dqn'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--algo"), std::string::npos);
  }
  TrainConfig tc;
  EXPECT_THROW(config::load_layers(tc, {}, {"rl.algo=sac"}), InputError);
}

TEST(RlConfig, presets_load_and_unknown_keys_fail) {
  TrainConfig tc;
  config::load_layers(tc, {std::string(MECLLM_SOURCE_DIR) + "/configs/rl/defaults.yaml",
                           std::string(MECLLM_SOURCE_DIR) + "/configs/rl/tiny.yaml"}, {"rl.ppo.clip_coef=0.1"});
  EXPECT_EQ(tc.rl.ppo.num_envs, 2);
  EXPECT_DOUBLE_EQ(tc.rl.ppo.clip_coef, 0.1);
  TrainConfig bad;
  try {
    config::load_layers(bad, {}, {"rl.ppo.clip_coeff=0.1"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("clip_coeff"), std::string::npos);
  }
  TrainConfig neg;
  EXPECT_THROW(config::load_layers(neg, {}, {"rl.ppo.num_minibatches=0"}), InputError);
}

TEST(RlConfig, finalize_derives_batch_sizes) {
  PpoArgs a;
  a.num_envs = 4, a.num_steps = 32, a.num_minibatches = 4, a.total_steps = 1280;
  a.finalize(10);
  EXPECT_EQ(a.batch_size, 4 * 32 * 10);
  EXPECT_EQ(a.minibatch_size, 320);
  EXPECT_EQ(a.num_iterations, 10);
}

}  // namespace mecllm::rl
