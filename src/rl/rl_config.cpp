#include "rl/rl_config.h"

#include <algorithm>

namespace mecllm::rl {

namespace {
// Widest layer a config may ask for: far past any policy or world model here, and a typo beyond
// it would otherwise surface as LibTorch's allocation failure with a stack dump.
constexpr int kMaxUnits = 4096;
}  // namespace

Algo parse_algo(const std::string& name, const std::string& where) {
  if (name == "ppo") return Algo::ppo;
  if (name == "ppo-lag") return Algo::ppo_lag;
  if (name == "wm-ppo") return Algo::wm_ppo;
  throw InputError(fmt::format("{}: unknown algorithm '{}' (expected ppo, ppo-lag or wm-ppo)", where, name));
}

const char* algo_name(Algo a) {
  switch (a) {
    case Algo::ppo: return "ppo";
    case Algo::ppo_lag: return "ppo-lag";
    case Algo::wm_ppo: return "wm-ppo";
  }
  return "?";
}

void PpoArgs::finalize(int num_users) {
  MECLLM_CHECK(num_users > 0, "num_users {}", num_users);
  batch_size = int64_t{num_steps} * num_envs * num_users;
  minibatch_size = std::max<int64_t>(1, batch_size / num_minibatches);
  num_iterations = std::max<int64_t>(1, total_steps / (int64_t{num_envs} * num_steps));
}

void PpoArgs::validate(const config::ConfigErrors& err) const {
  err.require(num_envs >= 1, "num_envs", "at least 1");
  err.require(num_steps >= 2, "num_steps", "at least 2");
  err.require(total_steps >= 1, "total_steps", "at least 1");
  err.require(learning_rate > 0 && learning_rate <= 1, "learning_rate", "in (0, 1]");
  err.require(init_log_std >= -20 && init_log_std <= 5, "init_log_std", "in [-20, 5]");
  err.require(adam_eps > 0, "adam_eps", "> 0");
  err.require(gamma > 0 && gamma <= 1, "gamma", "in (0, 1]");
  err.require(gae_lambda >= 0 && gae_lambda <= 1, "gae_lambda", "in [0, 1]");
  err.require(num_minibatches >= 1, "num_minibatches", "at least 1");
  err.require(update_epochs >= 1, "update_epochs", "at least 1");
  err.require(clip_coef > 0, "clip_coef", "> 0");
  err.require(max_grad_norm > 0, "max_grad_norm", "> 0");
  err.require(hidden >= 1 && hidden <= kMaxUnits, "hidden", "between 1 and 4096");
  err.require(layers >= 1 && layers <= 8, "layers", "between 1 and 8");
  err.require(obs_clip > 0, "obs_clip", "> 0");
  err.require(reward_clip > 0, "reward_clip", "> 0");
  err.require(team_reward_weight >= 0 && team_reward_weight <= 1, "team_reward_weight", "in [0, 1]");
  err.require(torch_threads >= 1, "torch_threads", "at least 1");
  err.require(worker_threads == 1 || worker_threads == 2, "worker_threads", "1 or 2");
  err.require(checkpoint_every >= 1, "checkpoint_every", "at least 1");
}

void LagrangeArgs::validate(const config::ConfigErrors& err) const {
  err.require(lr >= 0, "lr", ">= 0");
  err.require(init >= 0, "init", ">= 0 (multipliers are projected to >= 0)");
  err.require(max_lambda > 0, "max_lambda", "> 0");
  err.require(cost_scale.size() == 3, "cost_scale", "a list of 3 numbers [energy, accuracy, hallucination]");
  for (double s : cost_scale) err.require(s >= 0, "cost_scale", "non-negative scales");
}

void RssmArgs::validate(const config::ConfigErrors& err) const {
  err.require(deter >= 1 && deter <= kMaxUnits, "deter", "between 1 and 4096");
  err.require(hidden >= 1 && hidden <= kMaxUnits, "hidden", "between 1 and 4096");
  err.require(groups >= 1 && classes >= 2, "groups", "groups >= 1 and classes >= 2");
  err.require(gauss_dim >= 1, "gauss_dim", "at least 1");
  err.require(unimix >= 0 && unimix < 1, "unimix", "in [0, 1)");
  err.require(free_nats >= 0, "free_nats", ">= 0");
  err.require(lr > 0, "lr", "> 0");
  err.require(seq_len >= 2, "seq_len", "at least 2");
  err.require(batch >= 1, "batch", "at least 1");
  err.require(train_steps >= 0, "train_steps", ">= 0");
  err.require(buffer_rollouts >= 1, "buffer_rollouts", "at least 1");
}

void WmArgs::validate(const config::ConfigErrors& err) const {
  err.require(mve_horizon >= 1, "mve_horizon", "at least 1");
  err.require(mve_weight >= 0 && mve_weight <= 1, "mve_weight", "in [0, 1]");
  err.require(img_horizon >= 1, "img_horizon", "at least 1");
  err.require(img_weight >= 0, "img_weight", ">= 0");
  err.require(img_ratio > 0, "img_ratio", "> 0");
  err.require(warmup_iterations >= 0, "warmup_iterations", ">= 0");
}

void RlConfig::validate(const config::ConfigErrors& err) const {
  if (algo != "ppo" && algo != "ppo-lag" && algo != "wm-ppo")
    err.fail("algo", fmt::format("ppo, ppo-lag or wm-ppo, got '{}'", algo));
  ppo.validate(err.nested("ppo"));
  lagrange.validate(err.nested("lagrange"));
  rssm.validate(err.nested("rssm"));
  wm.validate(err.nested("wm"));
  err.nested("ppo").require(ppo.num_steps > rssm.seq_len || !world_model(), "num_steps",
                            "greater than rssm.seq_len for wm-ppo (sequences are cut from one rollout)");
}

}  // namespace mecllm::rl
